"""URL converters."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


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
