"""htmx request detection and full-page-or-fragment rendering, in one place."""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for requests htmx made (not history restores, which want a full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_view(template: str, block: str, status: int = 200, **context) -> Response:
    """The full page, or just `block` of it when htmx asked."""
    if is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def fragments(*parts: str, status: int = 200) -> Response:
    """Join rendered fragments (a main one and out-of-band ones) into one response."""
    return make_response("\n".join(parts), status)
