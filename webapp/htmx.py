"""htmx request detection and full-page-or-fragment rendering, in one place."""

from __future__ import annotations

from flask import Response, current_app, make_response, render_template, request
from flask.signals import before_render_template, template_rendered
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for requests htmx made (not history restores, which want a full page)."""
    environ = request.environ  # (the headers as WSGI gives them: no key translated per read)
    return (
        environ.get("HTTP_HX_REQUEST") == "true"
        and environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST") != "true"
    )


def render_view(template: str, block: str, status: int = 200, **context) -> Response:
    """The full page, or just `block` of it when htmx asked."""
    if is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def render_large_view(template: str, block: str, status: int = 200, **context) -> Response:
    """render_view for a page of a few large pieces (the reader's article and cards): the
    full page encoded piece by piece as Jinja writes it. A piece of ASCII (the article's
    text) encodes as a copy, where the whole page would encode at the pace of its widest
    character; nor is the page joined into one string first."""
    if is_htmx():
        return render_view(template, block, status, **context)
    app = current_app._get_current_object()
    page = app.jinja_env.get_or_select_template(template)
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=page, context=context)
    body = b"".join([piece.encode() for piece in page.generate(context)])
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=page, context=context)
    return make_response(body, status)


def fragments(*parts: str, status: int = 200) -> Response:
    """Join rendered fragments (a main one and out-of-band ones) into one response."""
    return make_response("\n".join(parts), status)
