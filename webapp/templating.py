"""Template helpers that every page uses, made cheap.

A page names a dozen static files (`url_for('static', filename=...)`): each built through
the URL map cost more than the rest of the page head. A static file's address depends only
on its name and where the app is mounted, so it is built once per process.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request


def init_app(app: Flask) -> None:
    build = app.jinja_env.globals["url_for"]
    static_urls: dict[tuple[str, str], str] = {}

    def url_for(endpoint: str, **values) -> str:
        if endpoint != "static" or len(values) != 1 or "filename" not in values:
            return build(endpoint, **values)
        if not has_request_context():
            return build(endpoint, **values)
        key = (request.script_root, values["filename"])
        if (url := static_urls.get(key)) is None:
            url = static_urls[key] = build(endpoint, **values)
        return url

    app.jinja_env.globals["url_for"] = url_for
