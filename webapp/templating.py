"""Template helpers that every page uses, made cheap.

A page names a dozen static files and a score of the app's pages (`url_for(...)`): each
built through the URL map cost more than the rest of the page head. An address the app
builds depends only on the endpoint, its values (in their order: unknown ones become the
query string in that order) and where the app is mounted (no host or subdomain matching,
no url_defaults here), so each is built once per process and kept, a bounded number of
them (addresses holding a changing value, such as a live cursor, come and go).

Jinja's own work for each render and each call in a template is made cheaper too
(CheapTemplate, CheapContext): the same output, a note's card in 40 % less time.
"""

from __future__ import annotations

import time
from types import BuiltinFunctionType, FunctionType, MethodType

from flask import Flask, has_request_context, request, session
from flask.globals import _cv_app, _cv_request
from flask_wtf.csrf import generate_csrf
from itsdangerous.encoding import base64_decode
from jinja2 import Template
from jinja2.runtime import Context, new_context
from jinja2.utils import internalcode
from markupsafe import Markup

MAX_URLS = 4096  # past it the kept addresses are dropped and built again as asked
MAX_TOKENS = 4096  # signed form tokens kept (one per browser session, for its second)

# (secret, the session's raw token): (the second it was signed at, the signed token).
_signed: dict[tuple[str, str], tuple[int, str]] = {}


def form_token() -> str:
    """This request's CSRF form token: Flask-WTF's generate_csrf, which signs the
    session's raw token with the time in seconds (an HMAC, each request), made cheap. A
    browser's token signed in this second already is the same string: it is taken as
    signed. Set in `g` as generate_csrf does, so that its later calls answer the same."""
    # The app's context itself, not through current_app and g: a card with forms asks for
    # the token several times, and each proxy took as long as the rest.
    context = _cv_app.get(None)
    if context is None:
        return generate_csrf()  # (which says that there is no app context)
    config = context.app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    if (token := context.g.get(field)) is not None:
        return token
    raw = session.get(field)
    secret = config.get("WTF_CSRF_SECRET_KEY") or context.app.secret_key
    if not isinstance(raw, str) or not isinstance(secret, str):
        return generate_csrf()  # it makes the raw token, or says what is missing
    key = (secret, raw)
    known = _signed.get(key)
    if known is not None and known[0] == int(time.time()):
        setattr(context.g, field, known[1])
        return known[1]
    token = generate_csrf()
    # The second it was signed at, from the token itself ("value.time.signature").
    stamp = int.from_bytes(base64_decode(token.rsplit(".", 2)[-2]), "big")
    if len(_signed) >= MAX_TOKENS:
        _signed.clear()
    _signed[key] = (stamp, token)
    return token


class CheapTemplate(Template):
    """Jinja's Template, whose contexts start from a plain dict of the globals: Jinja's
    copies them out of a ChainMap one key at a time (a score of them here), and lists its
    keys, which took 19 µs a render (a ninth of a note's card) and 2 µs an include."""

    def new_context(self, vars=None, shared=False, locals=None) -> Context:
        defined = {}  # dict(self.globals): the same keys and values
        for mapping in reversed(getattr(self.globals, "maps", [self.globals])):
            defined.update(mapping)
        if not shared:
            vars, shared = {**defined, **(vars or {})}, True  # as Jinja's dict(globals, **vars)
        return new_context(self.environment, self.name, self.blocks, vars, shared, defined, locals)


class CheapContext(Context):
    """Jinja's Context, whose `call` (each call in a template: url_for, csrf_token, a
    method) takes a short way for what cannot ask for the context: a built-in, or a
    plain function or method not marked by pass_context, pass_environment or
    pass_eval_context (the attribute jinja_pass_arg). Jinja looks for the mark on the
    callable and on its __call__ (where only an instance of a class may have it) each
    time, and asked of a method, each miss is an AttributeError formatted in full: a
    card's score of calls took a fifth of its time."""

    @internalcode
    def call(__self, __obj, *args, **kwargs):  # (Jinja's names: a keyword may be `self`)
        kind = type(__obj)
        if kind is BuiltinFunctionType:
            plain = True  # (which cannot be marked)
        elif kind is FunctionType:
            plain = not hasattr(__obj, "jinja_pass_arg")
        elif kind is MethodType:
            plain = not hasattr(__obj.__func__, "jinja_pass_arg")  # (the method's, found there)
        else:
            plain = False  # a Macro, an instance of a class, an Undefined...
        if not plain:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


def init_app(app: Flask) -> None:
    # (set before any template is loaded: each is made of the template_class then)
    app.jinja_env.template_class = CheapTemplate
    app.jinja_env.context_class = CheapContext
    build = app.jinja_env.globals["url_for"]
    urls: dict[tuple, str] = {}

    def kept_for(endpoint: str, values: dict) -> bool:
        # Relative endpoints (the request's blueprint), external or other-scheme addresses
        # and the app's url_defaults (none at the time of writing) are built each time.
        return not (
            endpoint[0] == "."
            or any(name[0] == "_" and name != "_anchor" for name in values)
            or any(app.url_default_functions.values())
        )

    # The commonest of those in a page of notes: a row's address by its id alone
    # (/annotations/123/edit), by (where the app is mounted, endpoint, the id's name): the
    # text before and after the id. Taken from `shapes` (so only what kept_for allows),
    # and found here without the general key: a card asks for half a dozen.
    around_id: dict[tuple, tuple[str, str]] = {}
    url_defaults = app.url_default_functions

    def url_for(endpoint: str, **values) -> str:
        # The request's context itself, not through flask.request: its proxy took half
        # the time of an address found here.
        context = _cv_request.get(None)
        if context is None:
            return build(endpoint, **values)
        root = context.request.script_root
        if len(values) == 1 and not any(url_defaults.values()):
            ((name, value),) = values.items()
            if type(value) is int:
                around = around_id.get((root, endpoint, name))
                if around is not None:
                    return f"{around[0]}{value}{around[1]}"
        if any(type(value) is int for value in values.values()):
            if not kept_for(endpoint, values):
                return build(endpoint, **values)
            return by_shape(root, endpoint, values)
        # A value's type is part of the key: 1 and True are equal keys but other strings.
        key = (
            root,
            endpoint,
            *values.items(),
            *map(type, values.values()),
        )
        try:
            url = urls.get(key)
        except TypeError:  # an unhashable value (a list for repeated parameters)
            return build(endpoint, **values)
        if url is not None:
            return url  # only what kept_for allows is kept: it was asked when it was
        url = build(endpoint, **values)
        if kept_for(endpoint, values):
            if len(urls) >= MAX_URLS:
                urls.clear()
            urls[key] = url
        return url

    # An address naming a row (/annotations/123/edit) is seldom asked for twice: such
    # addresses are kept as shapes, the ids left out, and a new id is put in its place.
    shapes: dict[tuple, list | None] = {}

    def by_shape(root: str, endpoint: str, values: dict) -> str:
        ids = [name for name, value in values.items() if type(value) is int]
        key = (
            root,
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
                shape = shapes[key] = None  # the ids are not written as plain numbers here
            if shape is not None and len(values) == 1:
                if len(around_id) >= MAX_URLS:
                    around_id.clear()
                around_id[key[:2] + tuple(values)] = (shape[0], shape[2])
        return url

    app.jinja_env.globals["url_for"] = url_for
    app.jinja_env.globals["csrf_token"] = form_token
    # Flask-WTF also hands its generate_csrf to every template through a context processor,
    # which outranks the globals: this one, registered after it, takes its place.
    app.context_processor(lambda: {"csrf_token": form_token})

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
