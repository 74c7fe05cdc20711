"""The CSRF check of every write, made cheap for a token checked before.

Flask-WTF's CSRFProtect checks a write's token by verifying its signature (an HMAC, a
key derived again, the payload decoded: about 70 µs) and comparing the session's raw
token with the one it carries. A page's token is sent with every write made from it,
so the raw token a signed token carries is kept once its signature was verified (per
secret key; the signature is a function of the secret and the payload, and the tokens
do not expire here: WTF_CSRF_TIME_LIMIT is None); a token found there is compared with
the session's in constant time, as Flask-WTF does. Everything else (a token not seen
before, one in a prefixed form field, expiring tokens, HTTPS's strict referrer check, an
error's answer) goes through Flask-WTF's own check, unchanged: this check only ever
finds valid what it would.
"""

from __future__ import annotations

import hmac

from flask import Flask, Request, g, request, session
from flask_wtf.csrf import CSRFProtect

MAX_KNOWN = 4096  # signed tokens kept (a few per browser session); then forgotten

# (secret key, signed token): the raw token its verified signature carries.
_known: dict[tuple[str, str], str] = {}


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    """Check writes here instead of through Flask-WTF's own before_request hook (turned
    off by WTF_CSRF_CHECK_DEFAULT; call this right after csrf.init_app, so that the check
    keeps its place among the hooks)."""
    checks = app.config["WTF_CSRF_CHECK_DEFAULT"]
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def _check_csrf() -> None:
        config = app.config  # (this hook is this app's: current_app, without its proxy)
        if not (checks and config["WTF_CSRF_ENABLED"]):
            return
        if request.method not in config["WTF_CSRF_METHODS"]:
            return
        if known_valid(app, request._get_current_object()):
            g.csrf_valid = True  # as Flask-WTF marks a request it checked
            return
        g.pop("csrf_valid", None)  # (set below by Flask-WTF only when it checked this token)
        csrf.protect(apply_exemptions=True)  # refuses a bad token with its own answer
        if g.get("csrf_valid"):
            remember_valid(app, request._get_current_object())


def _cacheable(app: Flask, request: Request) -> tuple[str, str, str] | None:
    """(secret, field name, the request's token) when a check may use the kept tokens:
    the token is the form field's or, without one, a header's, as Flask-WTF finds it."""
    config = app.config
    if config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return None  # tokens expire: each is verified with its age
    if request.is_secure and config.get("WTF_CSRF_SSL_STRICT"):
        return None  # the referrer is checked too
    secret = config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    if not isinstance(secret, str) or not secret:
        return None
    form = request.form
    token = form.get(field)
    if not token:
        if any(key.endswith(field) for key in form):
            return None  # a prefixed field's token comes before the headers'
        for header in config["WTF_CSRF_HEADERS"]:
            token = request.headers.get(header)
            if token:
                break
    if not token:
        return None
    return secret, field, token


def known_valid(app: Flask, request: Request) -> bool:
    """Whether the request's token was verified before and carries the session's raw
    token (compared in constant time)."""
    found = _cacheable(app, request)
    if found is None:
        return False
    secret, field, token = found
    carried = _known.get((secret, token))
    raw = session.get(field)
    if carried is None or not isinstance(raw, str):
        return False
    return hmac.compare_digest(raw.encode(), carried.encode())


def remember_valid(app: Flask, request: Request) -> None:
    """After Flask-WTF found the request's token valid: the raw token it carries is the
    session's (it compared them), kept for the next check of the same token."""
    found = _cacheable(app, request)
    if found is None:
        return
    secret, field, token = found
    raw = session.get(field)
    if not isinstance(raw, str):
        return
    if len(_known) >= MAX_KNOWN:
        _known.clear()
    _known[secret, token] = raw
