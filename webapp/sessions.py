"""Flask's signed-cookie sessions, without the same work done again on every request.

Every request of a signed-in reader (the live poll every two seconds, above all) brings the
same session cookie. Flask builds a new signing serializer for each request and checks the
cookie's signature and parses it each time: together more than the poll's own query. Here
the serializer is made once per set of keys, and a cookie whose signature was checked is
remembered (per process, a bounded number) with what it holds and when it was signed: the
same bytes under the same keys verify the same. Its age is still checked on every request,
and each request gets its own copy of the data (a session's lists are changed in place).
A session read and left unchanged is not looked at again when the response goes. The
session cookie's value is remembered by the Cookie header it came in, unparsed.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

REMEMBERED_COOKIES = 4096
MAX_REMEMBERED_HEADER = 4096  # a longer Cookie header is parsed each time, not remembered
_UNKNOWN = object()


SCALARS = (str, int, float, bool, type(None))


def _copy(data: dict) -> dict:
    """A copy the request may change freely: a login's session holds strings and flags
    only (a plain copy then), a flash or share list needs a deep one."""
    if all(type(value) in SCALARS for value in data.values()):
        return dict(data)
    return copy.deepcopy(data)


class RememberingSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}
        self._verified: OrderedDict[tuple, tuple[dict, int]] = OrderedDict()
        self._cookie_values: OrderedDict[tuple, str | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(app: Flask) -> tuple:
        return (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = self._keys(app)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            with self._lock:
                self._serializers = {keys: serializer}  # keys change rarely: keep the latest
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = self._session_cookie(app, request)
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (self._keys(app), value)
        remembered = self._verified.get(key)
        if remembered is not None:
            data, signed_at = remembered
            if 0 <= int(time.time()) - signed_at <= max_age:  # as itsdangerous checks it
                return self.session_class(_copy(data))
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        with self._lock:
            self._verified[key] = (copy.deepcopy(data), int(signed.timestamp()))
            while len(self._verified) > REMEMBERED_COOKIES:
                self._verified.popitem(last=False)
        return self.session_class(data)

    def _session_cookie(self, app: Flask, request: Request) -> str | None:
        """The session cookie's value, as request.cookies has it. Parsing the Cookie header
        into request.cookies (a walk over the whole environ, then the parse) cost a signed-in
        request (the poll every two seconds) more than its session's look-up: the same header
        holds the same cookie, so its value is remembered by the header (HTTP_COOKIE: the
        one name a WSGI server gives it)."""
        header = request.environ.get("HTTP_COOKIE")
        if not header or len(header) > MAX_REMEMBERED_HEADER:
            return request.cookies.get(self.get_cookie_name(app))
        key = (self.get_cookie_name(app), header)
        value = self._cookie_values.get(key, _UNKNOWN)
        if value is _UNKNOWN:
            value = request.cookies.get(key[0])
            with self._lock:
                self._cookie_values[key] = value
                while len(self._cookie_values) > REMEMBERED_COOKIES:
                    self._cookie_values.popitem(last=False)
        return value

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        if session and not self.should_set_cookie(app, session):
            # Read, not changed (every poll): nothing to sign, only the Vary header to add.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
