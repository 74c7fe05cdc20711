"""The pages a visitor who is not signed in sees (the library, an article), kept rendered.

Such a page is the same for every visitor and is made of `documents` and
`document_versions` alone; the database bumps `page_revision` on every write to either
(triggers, see models.PageRevision). So each process keeps the bytes it rendered (and
their gzip), a bounded number, with the revision they were rendered at, and a request
checks that revision in one primary-key lookup instead of rendering: a write shows at
once on the next request, in every worker and on every host.

Only a visitor whose session holds nothing but a CSRF token is served from here: no
login, no flash message, no share link opened. What is per visitor never enters the
cache: the article's toolbar carries a CSRF token, so the page is kept in the parts around
it and each request puts its own token in (generated as the template would, with the
session cookie that goes with it); compression.py gzips it on the way out, as any page.
A page that set anything else in the session, or
a cookie, or any header of its own, is served as rendered and not kept.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.database import fetch_one
from webapp.extensions import db
from webapp.htmx import is_htmx

MAX_PAGES = 512
MAX_BYTES = 64 * 1024 * 1024  # of bodies, per process
REVISION_SQL = "SELECT revision FROM page_revision WHERE id = 1"


@dataclass(frozen=True)
class Page:
    revision: int
    content_type: str
    parts: tuple[bytes, ...]  # the body, split where the CSRF token goes
    with_token: bool  # the page generated a CSRF token (the session gets one)
    etag: str | None  # for a page without a token: the same bytes, the same tag

    @property
    def size(self) -> int:
        return sum(map(len, self.parts))

    @classmethod
    def of(cls, response: Response, revision: int, token: str | None, with_token: bool):
        body = response.get_data()
        parts = tuple(body.split(token.encode())) if token else (body,)
        etag = None
        if not with_token:
            etag = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(revision, response.content_type, parts, with_token, etag)

    def response(self) -> Response:
        token = generate_csrf().encode() if self.with_token else b""
        if self.etag and request.if_none_match.contains_weak(self.etag):
            response = Response(status=304)
            response.set_etag(self.etag, weak=True)
            return response
        response = Response(token.join(self.parts), content_type=self.content_type)
        if self.etag:
            response.set_etag(self.etag, weak=True)
        return response


class Pages:
    """A bounded LRU of pages, by key, in this process."""

    def __init__(self) -> None:
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Page | None:
        page = self._pages.get(key)
        if page is not None:
            with self._lock:
                if key in self._pages:
                    self._pages.move_to_end(key)
        return page

    def put(self, key: tuple, page: Page) -> None:
        if page.size > MAX_BYTES // 8:
            return
        with self._lock:
            if (old := self._pages.pop(key, None)) is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while len(self._pages) > MAX_PAGES or self._bytes > MAX_BYTES:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


def init_app(app: Flask) -> None:
    # Per app, not per module: two apps in one process (tests) may be on two databases.
    app.extensions["page_cache"] = Pages()


def current_revision() -> int | None:
    """The database's page revision; None when it cannot be read (the page is then
    rendered, and meets the same fault)."""
    try:
        row = fetch_one(db.engine, REVISION_SQL)
    except Exception:  # noqa: BLE001 - rendering answers the fault as it always does
        return None
    return row[0] if row is not None else None


def _token_field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"


def _key() -> tuple | None:
    """What the page depends on besides the database, or None for a request whose answer
    may be per visitor."""
    if request.method not in ("GET", "HEAD"):
        return None
    if session and set(session) - {_token_field()}:
        return None  # signed in, a flash message, a share link: rendered for them
    if current_user.is_authenticated:
        return None
    return (
        request.endpoint,
        request.scheme,
        request.host,
        request.script_root,
        request.path,
        request.query_string,
        is_htmx(),
    )


def _keepable(response: Response) -> bool:
    return (
        response.status_code == 200
        and not response.direct_passthrough
        and not response.is_streamed
        and response.mimetype == "text/html"
        and set(response.headers.keys()) <= {"Content-Type", "Content-Length"}
        and not (session and set(session) - {_token_field()})
    )


def anonymous_page(view):
    """Serve the view's page from the cache to a visitor who is not signed in, while the
    page revision it was rendered at is the database's."""

    @functools.wraps(view)
    def cached_view(**kwargs):
        key = _key()
        revision = current_revision() if key is not None else None
        if revision is None:
            return view(**kwargs)
        pages = current_app.extensions["page_cache"]
        page = pages.get(key)
        if page is not None and page.revision == revision:
            return page.response()
        field = _token_field()
        token_before = field in g  # then whether the page used it cannot be told
        response = current_app.make_response(view(**kwargs))
        if token_before or not _keepable(response):
            return response
        token = g.get(field)
        page = Page.of(response, revision, token, with_token=token is not None)
        pages.put(key, page)
        if page.etag:
            response.set_etag(page.etag, weak=True)
        return response

    return cached_view
