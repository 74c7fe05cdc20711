"""Query and form parameters without control characters: the parsers' list of pairs with
none (taken as it is) gives the same dict as the cleaning path, and one with some is cleaned
as before, names that become equal included. A urlencoded body is parsed as werkzeug's
parser with the limits parses it (the request makes that one without them)."""

from __future__ import annotations

from io import BytesIO
from random import Random
from urllib.parse import urlencode

from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from webapp.security import URLENCODED, ControlFreeMultiDict, ControlFreeRequest
from webapp.text.sanitize import drop_control_characters


def cleaned_as_before(mapping) -> ImmutableMultiDict:
    """Every pair read through a MultiDict, then cleaned (what ControlFreeMultiDict did)."""
    pairs = MultiDict(mapping).items(multi=True)
    clean = [
        tuple(drop_control_characters(x) if isinstance(x, str) else x for x in pair)
        for pair in pairs
    ]
    return ImmutableMultiDict(clean)


def as_lists(multidict) -> list:
    return list(multidict.lists())


def test_a_clean_list_of_pairs_gives_the_same_names_values_and_order():
    pairs = [("b", "1"), ("a", "2"), ("b", "3"), ("c", ""), ("a", "tab\there\r\n")]
    params = ControlFreeMultiDict(pairs)
    assert isinstance(params, ImmutableMultiDict)
    assert as_lists(params) == as_lists(cleaned_as_before(pairs))
    assert as_lists(params) == [("b", ["1", "3"]), ("a", ["2", "tab\there\r\n"]), ("c", [""])]


def test_control_characters_are_dropped_from_names_and_values_as_before():
    pairs = [("a", "1"), ("a\x00", "2\x07"), ("b\x1f", "x\x7fy"), ("a", "3")]
    params = ControlFreeMultiDict(pairs)
    assert as_lists(params) == as_lists(cleaned_as_before(pairs))
    assert as_lists(params) == [("a", ["1", "3", "2"]), ("b", ["xy"])]


def test_other_mappings_and_none_are_cleaned_as_before():
    mapping = {"name\x00": "v\x01alue", "n": ["1", "2\x02"]}
    assert as_lists(ControlFreeMultiDict(mapping)) == as_lists(cleaned_as_before(mapping))
    assert as_lists(ControlFreeMultiDict(MultiDict(mapping))) == as_lists(
        cleaned_as_before(mapping)
    )
    assert as_lists(ControlFreeMultiDict()) == []
    assert as_lists(ControlFreeMultiDict([])) == []


def test_werkzeug_parses_a_urlencoded_body_without_its_parser_limits():
    """ControlFreeRequest makes a urlencoded body's parser without the limits: werkzeug
    does not use them for one (should it start to, this fails)."""
    fields = {"long": "x" * 5000, **{f"field{n}": "v" for n in range(50)}}
    body = urlencode(fields).encode()
    limited = FormDataParser(
        max_form_memory_size=100,
        max_content_length=200,
        max_form_parts=3,
        cls=ControlFreeMultiDict,
    )
    _, form, files = limited.parse(BytesIO(body), URLENCODED, len(body), {})
    assert form.to_dict() == fields and not files


def test_a_request_parses_a_urlencoded_body_as_with_the_limits():
    fields = {"start": "10", "exact": "a passage\twith a tab", "body": "*why*\x00"}
    body = urlencode(fields)
    environ = EnvironBuilder(
        method="POST", data=body, content_type=URLENCODED, query_string="a=1&a=\x01"
    ).get_environ()
    request = ControlFreeRequest(environ)
    request.max_form_memory_size = 100  # set: no app needed (and not used for this body)
    request.max_content_length = 10_000
    request.max_form_parts = 1
    expected = FormDataParser(
        max_form_memory_size=1, max_form_parts=1, cls=ControlFreeMultiDict
    ).parse(BytesIO(body.encode()), URLENCODED, len(body), {})[1]
    assert as_lists(request.form) == as_lists(expected)
    assert request.form["body"] == "*why*" and not request.files
    assert as_lists(request.values) == [
        ("a", ["1", ""]),
        ("start", ["10"]),
        ("exact", ["a passage\twith a tab"]),
        ("body", ["*why*"]),
    ]


def test_a_query_string_gives_the_pairs_werkzeugs_parser_gives():
    # A plain one is split without werkzeug's parser (the live poll's): the same pairs,
    # whatever the string, plain or not.
    class Werkzeugs(Request):
        parameter_storage_class = ControlFreeMultiDict

    chosen = ["", "a", "a=", "=a", "=", "&", "&&a=1&&", "a=b=c", "a&b", "a=1&a=2&b"]
    chosen += ["context=class-1&cursor=2888", "~._-=~", "a=%41", "a+b=c+d", "a=1;b=2", "é=1"]
    random = Random(7)
    chosen += ["".join(random.choices("ab=&-._~0Z%+; é\x00", k=12)) for _ in range(3000)]
    for query in chosen:
        environ = EnvironBuilder(query_string=query).get_environ()
        args, expected = ControlFreeRequest(environ).args, Werkzeugs(environ).args
        assert type(args) is ControlFreeMultiDict, query
        assert list(args.items(multi=True)) == list(expected.items(multi=True)), query
