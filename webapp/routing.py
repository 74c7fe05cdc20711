"""URL converters, and request body limits per route."""

from __future__ import annotations

import re

from flask import Request, current_app
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


def body_limits(content_length: int, form_memory: int):
    """Let one view take a larger body than MAX_CONTENT_LENGTH (an upload form).

    Put it between the route decorator and the view. The limit is known as soon as the URL
    is matched, so it holds for the CSRF check that reads the form before the view runs.
    """

    def mark(view):
        view.body_limits = (content_length, form_memory)
        return view

    return mark


class LimitedRequest(Request):
    """The request class: applies @body_limits of the matched view."""

    def _route_limits(self) -> tuple[int, int] | None:
        if not current_app or not self.endpoint:
            return None
        return getattr(current_app.view_functions.get(self.endpoint), "body_limits", None)

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and (limits := self._route_limits()):
            return limits[0]
        return Request.max_content_length.fget(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        if self._max_form_memory_size is None and (limits := self._route_limits()):
            return limits[1]
        return Request.max_form_memory_size.fget(self)

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value
