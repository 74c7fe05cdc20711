"""Accounts: usernames and their comparison key, credentials, and login sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import LoginSession, User, username_key, utcnow

# ASCII only, on purpose: letters of other scripts that look alike ("а" and "a") stay
# different after any normalisation, so they would let one person pass for another.
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200

# Checked when the username matches no account, so that a login costs one password hash
# whether or not the account exists (the time a login takes tells nothing).
DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A reason a sign-up or login cannot go ahead, in words for the person."""


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(User.username_key == username_key(username)))


def create_user(session: Session, username: str, password: str) -> User:
    username = (username or "").strip()
    taken = AccountError(f"The username {username!r} is taken; choose another.")
    # First, so that another's name in disguise (a Kelvin sign for the K) says so.
    if username and find_user(session, username) is not None:
        raise taken
    if not USERNAME.match(username):
        raise AccountError(
            "A username has 3 to 40 characters: letters a-z or A-Z, digits, '.', '_' or '-'."
        )
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise AccountError(
            f"A password has at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})."
        )
    user = User(username=username)
    user.set_password(password)
    try:
        # A savepoint: two sign-ups racing for one name meet the unique index, not a 500.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise taken from None
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = find_user(session, username)
    stored = user.password_hash if user is not None else DUMMY_HASH
    if not check_password_hash(stored, password or "") or user is None:
        raise AccountError("That username and password do not match an account.")
    return user


# --- login sessions --------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, lifetime: timedelta) -> str:
    """Open a login session for `user`; returns its token (also set on `user`)."""
    now = utcnow()
    session.execute(sa.delete(LoginSession).where(LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    user.session_token = token
    return token


def load_session(session: Session, session_id: str) -> User | None:
    """The user of a live session, from the id in the session or remember cookie."""
    user_id, _, token = (session_id or "").partition(":")
    if not token:
        return None  # also the id of sessions from before login sessions were recorded
    user = session.scalar(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _token_hash(token), LoginSession.expires_at > utcnow())
    )
    if user is None or str(user.id) != user_id:
        return None
    user.session_token = token
    return user


def end_session(session: Session, token: str | None) -> None:
    """Close one login session: its session and remember cookies stop working."""
    if token:
        session.execute(
            sa.delete(LoginSession).where(LoginSession.token_hash == _token_hash(token))
        )
