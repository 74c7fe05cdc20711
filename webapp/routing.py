"""Row ids from user input (URLs, forms, query strings): one parser, one range; and
request body limits per route."""

from __future__ import annotations

import re

from flask import Request, current_app
from werkzeug.routing import BaseConverter, ValidationError

# Every id column is an INTEGER: 32-bit signed on PostgreSQL, where a larger number in a
# query is an error rather than "not found". SQLite would take more; no id gets there.
MAX_ROW_ID = 2**31 - 1
_ROW_ID = re.compile(r"[0-9]{1,10}")


def parse_row_id(value: str | None) -> int | None:
    """A row id (or count) from user input: ASCII digits up to MAX_ROW_ID, else None.

    str.isdigit() and int() are not enough: they take "²" and "١" (Arabic-Indic one).
    """
    value = (value or "").strip()
    if not _ROW_ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None


def _numbers_up_to(limit: int) -> str:
    """A regex for the decimal numbers 1..limit (ASCII digits, no leading zero)."""
    digits = str(limit)
    size = len(digits)
    options = [f"[1-9][0-9]{{0,{size - 2}}}"] if size > 1 else []  # fewer digits
    for i, digit in enumerate(digits):  # as many digits: the same start, then a smaller one
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            options.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}][0-9]{{{size - i - 1}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class RowIdConverter(BaseConverter):
    """A database id in a URL, in the columns' range.

    Anything else does not match the route at all (a 404), rather than reaching the
    database and failing there. The range is in the regex, not only in to_python: a
    number the converter refuses after matching makes the router answer 405 when another
    method's route has the same path.
    """

    regex = _numbers_up_to(MAX_ROW_ID)
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_row_id(value)
        if number is None:
            raise ValidationError()
        return number

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
