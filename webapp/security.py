"""Response headers (CSP and friends), the write-intent flag for write requests, and
requests without control characters."""

from __future__ import annotations

import re

from flask import Flask, Response, abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from webapp.database import start_request
from webapp.routing import LimitedRequest
from webapp.text.sanitize import drop_control_characters

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy() -> str:
    config = current_app.config
    script_src = f"'self' {config['HTMX_CDN_URL']} '{config['HTMX_INTEGRITY']}'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_PATH_MESSAGE = "The address contains a control character; no page has such an address."


def _without_controls(value):
    return drop_control_characters(value) if isinstance(value, str) else value


class ControlFreeMultiDict(ImmutableMultiDict):
    """Query and form parameters with control characters dropped from names and values,
    as a comment's always were: no code sees them, whichever the field (PostgreSQL refuses
    NUL in text, and none of them can be seen in order to be removed). Files stay as sent."""

    def __init__(self, mapping=None) -> None:
        pairs = MultiDict(mapping).items(multi=True) if mapping is not None else ()
        super().__init__([(_without_controls(k), _without_controls(v)) for k, v in pairs])


class ControlFreeRequest(LimitedRequest):
    """The app's request class: per-route body limits, parameters without control characters."""

    parameter_storage_class = ControlFreeMultiDict


def init_app(app: Flask) -> None:
    app.request_class = ControlFreeRequest

    @app.before_request
    def _refuse_control_characters_in_the_path() -> None:
        # A path is an address, not text to clean: dropping a character would name another.
        if CONTROL_IN_PATH.search(request.path):
            abort(400, description=CONTROL_IN_PATH_MESSAGE)

    @app.before_request
    def _mark_write_intent() -> None:
        view = current_app.view_functions.get(request.endpoint)
        reads_first = getattr(view, "reads_first", False)  # it takes the lock itself
        start_request(writes=request.method in WRITE_METHODS and not reads_first)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        return response
