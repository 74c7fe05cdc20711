"""Creating users and checking credentials."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import User

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200


class AccountError(ValueError):
    """A reason a sign-up or login cannot go ahead, in words for the person."""


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.lower()))


def create_user(session: Session, username: str, password: str) -> User:
    username = (username or "").strip()
    if not USERNAME.match(username):
        raise AccountError("A username has 3 to 40 characters: letters, digits, '.', '_' or '-'.")
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise AccountError(
            f"A password has at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})."
        )
    if find_user(session, username) is not None:
        raise AccountError(f"The username {username!r} is taken; choose another.")
    user = User(username=username)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = find_user(session, (username or "").strip())
    if user is None or not user.check_password(password or ""):
        raise AccountError("That username and password do not match an account.")
    return user
