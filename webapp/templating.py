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
        if any(type(value) is int for value in values.values()):
            return by_shape(endpoint, values)
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

    # An address naming a row (/annotations/123/edit) is seldom asked for twice: such
    # addresses are kept as shapes, the ids left out, and a new id is put in its place.
    shapes: dict[tuple, list | None] = {}

    def by_shape(endpoint: str, values: dict) -> str:
        ids = [name for name, value in values.items() if type(value) is int]
        key = (
            request.script_root,
            endpoint,
            *(
                (name, int, None) if name in ids else (name, type(value), value)
                for name, value in values.items()
            ),
        )
        try:
            shape = shapes.get(key, False)
        except TypeError:
            return build(endpoint, **values)
        if shape:
            return _fill(shape, values)
        url = build(endpoint, **values)
        if shape is False:  # not tried yet: drawn with stand-in ids, checked against `url`
            if len(shapes) >= MAX_URLS:
                shapes.clear()
            shape = shapes[key] = _shape(build, endpoint, values, ids)
            if shape is not None and _fill(shape, values) != url:
                shapes[key] = None  # the ids are not written as plain numbers here
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


STAND_IN = 1_987_654_320  # ids no table reaches (a stand-in is looked for in the address)


def _shape(build, endpoint: str, values: dict, ids: list[str]) -> list[str] | None:
    """The address of `endpoint` with `values` as pieces: literal text at even places, the
    names of `ids` (where their values go) at odd ones; None when a stand-in id does not
    show exactly once."""
    stand_ins = {str(STAND_IN + n): name for n, name in enumerate(ids)}
    url = build(endpoint, **{**values, **{name: int(text) for text, name in stand_ins.items()}})
    if any(url.count(text) != 1 for text in stand_ins):
        return None
    pieces, done = [], 0
    for at, text in sorted((url.index(text), text) for text in stand_ins):
        pieces += [url[done:at], stand_ins[text]]
        done = at + len(text)
    pieces.append(url[done:])
    return pieces


def _fill(shape: list[str], values: dict) -> str:
    return "".join(piece if n % 2 == 0 else str(values[piece]) for n, piece in enumerate(shape))
