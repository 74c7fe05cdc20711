"""Rate limits kept in the database, so they hold across workers and hosts."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Annotation, LoginAttempt, Reply, utcnow

LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_ALLOWED = 10
WRITE_WINDOW = timedelta(minutes=1)
WRITES_ALLOWED = 120


class RateLimited(Exception):
    """Too many requests; the message says when to try again."""


def check_login_allowed(session: Session, username: str) -> None:
    since = utcnow() - LOGIN_WINDOW
    failures = session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(sa.func.lower(LoginAttempt.username) == username.lower(), LoginAttempt.at > since)
    )
    if failures >= LOGIN_FAILURES_ALLOWED:
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        raise RateLimited(
            f"Too many failed logins for this account. Wait {minutes} minutes and try again."
        )


def record_login_failure(session: Session, username: str, remote_addr: str) -> None:
    session.add(LoginAttempt(username=username[:40], remote_addr=(remote_addr or "")[:64]))
    # Old attempts are no use to anyone.
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < utcnow() - LOGIN_WINDOW))


def clear_login_failures(session: Session, username: str) -> None:
    session.execute(
        sa.delete(LoginAttempt).where(sa.func.lower(LoginAttempt.username) == username.lower())
    )


def check_write_allowed(session: Session, user_id: int, allowed: int = WRITES_ALLOWED) -> None:
    since = utcnow() - WRITE_WINDOW
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(Annotation)
        .where(Annotation.author_id == user_id, Annotation.created_at > since)
    ) + session.scalar(
        sa.select(sa.func.count())
        .select_from(Reply)
        .where(Reply.author_id == user_id, Reply.created_at > since)
    )
    if recent >= allowed:
        raise RateLimited("You are saving notes very fast. Wait a minute and try again.")
