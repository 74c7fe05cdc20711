"""URL converters."""

from __future__ import annotations

import re

from werkzeug.routing import BaseConverter

_ROW_ID = re.compile(r"[0-9]{1,18}")


def parse_row_id(value: str | None) -> int | None:
    """A row id (or count) from user input: ASCII digits that fit 64 bits, else None.

    str.isdigit() is not enough: it accepts "²", which int() refuses.
    """
    value = (value or "").strip()
    return int(value) if _ROW_ID.fullmatch(value) else None


class RowIdConverter(BaseConverter):
    """A database id: up to 18 digits, so it always fits a 64-bit integer column.

    A longer number does not match the route at all (a 404), rather than reaching the
    database and failing there.
    """

    regex = r"[1-9]\d{0,17}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))
