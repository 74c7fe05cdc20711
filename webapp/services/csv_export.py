"""CSV that opens correctly in a spreadsheet, and a download name for it.

- UTF-8 with a byte order mark, so Excel reads Arabic, accents and emoji as such.
- RFC 4180 quoting: a cell with a comma, a quote or a line break is quoted, quotes doubled;
  rows end with CRLF.
- Formula neutralising: a text cell starting with =, +, -, @, a tab or a carriage return
  gets a leading apostrophe, so a spreadsheet shows it as text instead of running it
  (OWASP's advice on CSV injection). Numbers are written as numbers, untouched.
- Dates and times in ISO 8601 (times to the second; an aware time keeps its offset).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

BOM = "\ufeff"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralise(text: str) -> str:
    """Text a spreadsheet will not read as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def cell(value: object) -> str | int | float | Decimal:
    """One value as a CSV cell: numbers as they are, everything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The CSV text (with its BOM) of a header and rows."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()


def to_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return to_csv(header, rows).encode("utf-8")


def filename_part(text: str, fallback: str) -> str:
    """A piece of a file name: letters of any script, digits and hyphens, lower case."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())
    return "-".join(words)[:60].strip("-") or fallback


def ascii_filename(name: str) -> str:
    """An ASCII stand-in for a file name (accents dropped, other scripts left out)."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", folded)).strip("-.")
    folded = folded or "download"
    return f"{folded}.{extension}" if extension else folded


def content_disposition(name: str) -> str:
    """An attachment header with an ASCII filename and the full UTF-8 one (RFC 6266)."""
    fallback = ascii_filename(name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
