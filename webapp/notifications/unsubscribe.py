"""The signed token of a one-click unsubscribe link: whose e-mail, which kind."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "notifications-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def make_token(user_id: int, kind: str) -> str:
    return _serializer().dumps([user_id, kind])


def read_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) from a token this app signed, else None."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        return None
    return value[0], value[1]
