"""Query and form parameters without control characters: the parsers' list of pairs with
none (taken as it is) gives the same dict as the cleaning path, and one with some is cleaned
as before, names that become equal included."""

from __future__ import annotations

from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from webapp.security import ControlFreeMultiDict
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
