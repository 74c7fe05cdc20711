"""Template helpers that every page uses, made cheap.

A page names a dozen static files and a score of the app's pages (`url_for(...)`): each
built through the URL map cost more than the rest of the page head. An address the app
builds depends only on the endpoint, its values (in their order: unknown ones become the
query string in that order) and where the app is mounted (no host or subdomain matching,
no url_defaults here), so each is built once per process and kept, a bounded number of
them (addresses holding a changing value, such as a live cursor, come and go).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from markupsafe import Markup

MAX_URLS = 4096  # past it the kept addresses are dropped and built again as asked


def init_app(app: Flask) -> None:
    build = app.jinja_env.globals["url_for"]
    urls: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        # Relative endpoints (the request's blueprint), external or other-scheme addresses
        # and the app's url_defaults (none at the time of writing) are built each time.
        if (
            endpoint[0] == "."
            or not has_request_context()
            or any(name[0] == "_" and name != "_anchor" for name in values)
            or any(app.url_default_functions.values())
        ):
            return build(endpoint, **values)
        # A value's type is part of the key: 1 and True are equal keys but other strings.
        key = (
            request.script_root,
            endpoint,
            *((name, type(value), value) for name, value in values.items()),
        )
        try:
            url = urls.get(key)
        except TypeError:  # an unhashable value (a list for repeated parameters)
            return build(endpoint, **values)
        if url is None:
            url = build(endpoint, **values)
            if len(urls) >= MAX_URLS:
                urls.clear()
            urls[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for

    heads: dict[str, Markup] = {}

    def kept_head(caller) -> Markup:
        """The page head's links and scripts (base.html): the same on every page of the
        app (its static files and configured CDN) where it is mounted, drawn once."""
        if not has_request_context():
            return caller()
        root = request.script_root
        if (head := heads.get(root)) is None:
            head = heads[root] = Markup(str(caller()))
        return head

    app.jinja_env.globals["kept_head"] = kept_head
