"""The one parser of row ids from user input, and the URL converter built on its range."""

from __future__ import annotations

import re

import pytest

from webapp.routing import MAX_ROW_ID, RowIdConverter, _numbers_up_to, parse_row_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("7", 7),
        (" 42 ", 42),
        ("007", 7),
        ("2147483647", 2**31 - 1),
        ("2147483648", None),
        ("9999999999", None),
        ("99999999999999999999", None),
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("1.0", None),
        ("\u00b2", None),  # superscript two: isdigit() says yes
        ("1\u0661", None),  # Arabic-Indic one: int() reads it
        ("\uff11", None),  # fullwidth one
        ("", None),
        (None, None),
    ],
)
def test_parse_row_id(value, expected):
    assert parse_row_id(value) == expected


def test_the_range_is_postgresqls_integer():
    assert MAX_ROW_ID == 2**31 - 1


@pytest.mark.parametrize("limit", [1, 7, 9, 10, 19, 20, 99, 100, 101, 305, 1000, 2024])
def test_the_converter_regex_takes_exactly_one_to_the_limit(limit):
    pattern = re.compile(_numbers_up_to(limit))
    taken = [n for n in range(limit * 11 + 100) if pattern.fullmatch(str(n))]
    assert taken == list(range(1, limit + 1))
    assert not pattern.fullmatch("0" + str(limit))


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("1", True),
        ("2147483647", True),
        ("2147483639", True),
        ("2099999999", True),
        ("1999999999", True),
        ("2147483648", False),
        ("2147483700", False),
        ("2200000000", False),
        ("10000000000", False),
        ("0", False),
        ("01", False),
        ("1\u0661", False),
    ],
)
def test_the_url_converter_matches_ids_in_range_only(text, matches):
    assert bool(re.fullmatch(RowIdConverter.regex, text)) is matches
