"""CSV for spreadsheets: BOM, RFC 4180 quoting, formula neutralising, numbers and dates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webapp.services.csv_export import (
    BOM,
    ascii_filename,
    cell,
    content_disposition,
    filename_part,
    neutralise,
    to_csv,
    to_csv_bytes,
)

HEADER = ("name", "count", "note")


def parse_back(data: bytes) -> list[list[str]]:
    """What a CSV reader sees: the bytes decoded as UTF-8 with its BOM."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_starts_with_a_utf8_bom_and_ends_rows_with_crlf():
    data = to_csv_bytes(HEADER, [("ana", 1, "ok")])
    assert data.startswith(BOM.encode("utf-8")) and data.count(b"\xef\xbb\xbf") == 1
    assert data == b"\xef\xbb\xbfname,count,note\r\nana,1,ok\r\n"


@pytest.mark.parametrize(
    "value",
    [
        "a, b, and c",
        'she said "hello"',
        '"quoted", with comma',
        "two\nlines",
        "windows\r\nline break",
        "tab\tinside",
        "",
        " leading and trailing spaces ",
    ],
)
def test_awkward_text_survives_a_round_trip(value):
    rows = parse_back(to_csv_bytes(HEADER, [("ana", 3, value)]))
    assert rows == [list(HEADER), ["ana", "3", value]]


def test_quotes_only_what_needs_quoting():
    text = to_csv(HEADER, [("a,b", 2, 'say "hi"'), ("line\nbreak", 3, "plain")])
    assert text.splitlines(keepends=True)[1] == '"a,b",2,"say ""hi"""\r\n'
    assert '"line\nbreak",3,plain\r\n' in text


@pytest.mark.parametrize(
    "value",
    [
        "مرحبا بالعالم، كيف حالكم؟",  # Arabic, with the Arabic comma
        "Ελληνικά και русский",
        "漢字とかな",
        "party 🎉 and 👏🏽 and 𝔐",  # outside the BMP, a skin-tone sequence
        "é composed and e\u0301 decomposed",
        "\u200fرسالة\u200e with bidi marks",
    ],
)
def test_non_ascii_text_is_kept_exactly(value):
    data = to_csv_bytes(HEADER, [(value, 1, value)])
    assert parse_back(data)[1] == [value, "1", value]
    assert value.encode("utf-8") in data


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_neutralised(prefix):
    value = f'{prefix}HYPERLINK("http://evil.example","click")'
    assert neutralise(value) == "'" + value
    rows = parse_back(to_csv_bytes(HEADER, [(value, 1, value)]))
    assert rows[1] == ["'" + value, "1", "'" + value]


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+33 1 23 45 67 89", "-2", "@SUM(A1:A9)", "=cmd|' /C calc'!A0", "-", "="],
)
def test_formula_like_text_starts_with_an_apostrophe(value):
    [[got]] = parse_back(to_csv_bytes(["x"], [(value,)]))[1:]
    assert got == "'" + value


@pytest.mark.parametrize(
    "value",
    ["plain", "a=b", "1+1", "x-y", "me@example.com", " =not a formula", "'already"],
)
def test_text_not_starting_with_a_prefix_is_untouched(value):
    [[got]] = parse_back(to_csv_bytes(["x"], [(value,)]))[1:]
    assert got == value


def test_header_cells_are_neutralised_too():
    rows = parse_back(to_csv_bytes(["=evil", "fine"], []))
    assert rows == [["'=evil", "fine"]]


def test_numbers_stay_numbers():
    text = to_csv(["i", "neg", "zero", "f", "d"], [(42, -7, 0, 2.5, Decimal("1.10"))])
    assert text.splitlines()[1] == "42,-7,0,2.5,1.10"
    assert cell(-7) == -7 and cell(0) == 0


def test_none_and_booleans():
    assert parse_back(to_csv_bytes(["a", "b", "c"], [(None, True, False)]))[1] == ["", "yes", "no"]


def test_dates_and_times_are_iso_8601():
    naive = datetime(2026, 3, 4, 5, 6, 7, 891011)
    aware = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    paris = datetime(2026, 3, 4, 6, 6, 7, tzinfo=timezone(timedelta(hours=1)))
    row = parse_back(to_csv_bytes(["a", "b", "c", "d"], [(naive, aware, paris, date(2026, 3, 4))]))
    assert row[1] == [
        "2026-03-04T05:06:07",
        "2026-03-04T05:06:07+00:00",
        "2026-03-04T06:06:07+01:00",
        "2026-03-04",
    ]
    for value in row[1][:3]:
        datetime.fromisoformat(value)


def test_many_rows_in_order():
    rows = [(f"user{i}", i, "=x" if i % 2 else "y") for i in range(100)]
    parsed = parse_back(to_csv_bytes(HEADER, rows))
    assert len(parsed) == 101
    assert parsed[1:] == [[n, str(i), "'=x" if i % 2 else "y"] for n, i, _ in rows]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Demo class", "demo-class"),
        ("  History 101: War & Peace!  ", "history-101-war-peace"),
        ("القراءة البطيئة", "القراءة-البطيئة"),
        ("=cmd|'/C calc'", "cmd-c-calc"),
        ("🎉🎉", "fallback"),
    ],
)
def test_filename_part(text, expected):
    assert filename_part(text, "fallback") == expected


def test_ascii_filename_folds_accents_and_drops_other_scripts():
    assert ascii_filename("participation-café-crème.csv") == "participation-cafe-creme.csv"
    assert ascii_filename("participation-القراءة-x.csv") == "participation-x.csv"
    assert ascii_filename("القراءة.csv") == "download.csv"
    assert ascii_filename('a"b\\c;d.csv') == "a-b-c-d.csv"


def test_content_disposition_has_an_ascii_name_and_a_utf8_name():
    header = content_disposition("participation-demo-القراءة.csv")
    assert header.isascii()
    assert header.startswith('attachment; filename="participation-demo.csv"; ')
    assert header.endswith(
        "filename*=UTF-8''participation-demo-%D8%A7%D9%84%D9%82%D8%B1%D8%A7%D8%A1%D8%A9.csv"
    )
    plain = content_disposition("participation-a-b.csv")
    assert plain == (
        "attachment; filename=\"participation-a-b.csv\"; filename*=UTF-8''participation-a-b.csv"
    )
