"""Rate limits kept in the database, so they hold across workers and hosts."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Annotation, FailedAttempt, Reply, username_key, utcnow

WRITE_WINDOW = timedelta(minutes=1)
WRITES_ALLOWED = 120


class RateLimited(Exception):
    """Too many requests; the message says when to try again, `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- failed logins and join codes ------------------------------------------------------------

# Failures older than this are forgotten (and deleted).
FAILURE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Backoff:
    """`free` failures cost nothing; from then on each attempt must wait 1 s, 2 s, 4 s, ...
    (doubling with each failure, at most `cap`) after the latest failure."""

    free: int
    cap: timedelta

    def wait(self, failures: int, latest: datetime | None, now: datetime) -> float:
        """Seconds still to wait before the next attempt."""
        if failures < self.free or latest is None:
            return 0.0
        delay = min(self.cap.total_seconds(), 2.0 ** min(failures - self.free, 30))
        return max(0.0, (latest - now).total_seconds() + delay)


# One account guessed from one address: the real brake on guessing.
LOGIN_PER_ACCOUNT_AND_CLIENT = Backoff(free=5, cap=timedelta(minutes=15))
# One account guessed from everywhere. Its cap is short because it is all that someone
# else's failures can make the account's owner wait, on another address (at most 60
# guesses an hour then get through, across all addresses).
LOGIN_PER_ACCOUNT = Backoff(free=10, cap=timedelta(minutes=1))
# One address trying many usernames; a classroom shares one address, so it has room.
LOGIN_PER_CLIENT = Backoff(free=30, cap=timedelta(minutes=15))
# Wrong join codes, per user and per address.
JOIN_PER_USER = Backoff(free=10, cap=timedelta(minutes=15))
JOIN_PER_CLIENT = Backoff(free=30, cap=timedelta(minutes=15))

LOGIN_ACCOUNT_MESSAGE = "Too many failed logins for this account. Wait {wait} and try again."
LOGIN_CLIENT_MESSAGE = "Too many failed logins from your network. Wait {wait} and try again."
# "Forgot password" requests (every request counts, sent or not): per name or address asked
# for, and per client. The same for accounts that exist and names that do not.
RESET_PER_SUBJECT = Backoff(free=3, cap=timedelta(minutes=15))
RESET_PER_CLIENT = Backoff(free=10, cap=timedelta(minutes=15))
RESET_MESSAGE = "Too many password reset requests. Wait {wait} and try again."

JOIN_USER_MESSAGE = "Too many wrong join codes. Wait {wait} and try again."
JOIN_CLIENT_MESSAGE = "Too many wrong join codes from your network. Wait {wait} and try again."


def client_key(remote_addr: str | None) -> str:
    """The client's address; for IPv6 its /64, which one subscriber usually holds whole."""
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%")[0])
    except ValueError:
        return (remote_addr or "")[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


Limit = tuple[Backoff, str]  # a backoff and the message shown while it holds


def _recent_failures(
    session: Session, kind: str, subject: str, client: str, now: datetime
) -> dict[str, tuple[int, datetime | None]]:
    """(count, latest) of recent failures for this subject from this client ("per_pair"),
    for the subject from anywhere ("per_subject"), and from this client ("per_client")."""
    at = FailedAttempt.at
    by_subject = FailedAttempt.subject == subject
    by_client = FailedAttempt.client == client
    scopes = {
        "per_pair": sa.and_(by_subject, by_client),
        "per_subject": by_subject,
        "per_client": by_client,
    }
    columns = []
    for condition in scopes.values():
        columns += [sa.func.count(sa.case((condition, 1))), sa.func.max(sa.case((condition, at)))]
    row = session.execute(
        sa.select(*columns).where(
            FailedAttempt.kind == kind, at > now - FAILURE_WINDOW, sa.or_(by_subject, by_client)
        )
    ).one()
    return {scope: (row[2 * i], row[2 * i + 1]) for i, scope in enumerate(scopes)}


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _check(session: Session, kind: str, subject: str, client: str, **limits: Limit) -> None:
    """Raise RateLimited with the longest wait that any of `limits` (by scope) imposes."""
    now = utcnow()
    failures = _recent_failures(session, kind, subject, client, now)
    seconds, message = max(
        (
            (backoff.wait(*failures[scope], now), message)
            for scope, (backoff, message) in limits.items()
        ),
        key=lambda wait: wait[0],
    )
    if seconds > 0:
        retry_after = math.ceil(seconds)
        raise RateLimited(message.format(wait=_wait_words(retry_after)), retry_after)


def _record(session: Session, kind: str, subject: str, client: str) -> None:
    session.add(FailedAttempt(kind=kind, subject=subject[:40], client=client))
    # Old failures are no use to anyone.
    session.execute(sa.delete(FailedAttempt).where(FailedAttempt.at < utcnow() - FAILURE_WINDOW))


def _login_subject(username: str) -> str:
    return username_key(username)[:40]


def check_login_allowed(session: Session, username: str, remote_addr: str | None) -> None:
    """Raise RateLimited while this username, or this client, must wait."""
    _check(
        session,
        "login",
        _login_subject(username),
        client_key(remote_addr),
        per_pair=(LOGIN_PER_ACCOUNT_AND_CLIENT, LOGIN_ACCOUNT_MESSAGE),
        per_subject=(LOGIN_PER_ACCOUNT, LOGIN_ACCOUNT_MESSAGE),
        per_client=(LOGIN_PER_CLIENT, LOGIN_CLIENT_MESSAGE),
    )


def record_login_failure(session: Session, username: str, remote_addr: str | None) -> None:
    _record(session, "login", _login_subject(username), client_key(remote_addr))


def clear_login_failures(session: Session, username: str, remote_addr: str | None) -> None:
    """After a good login: forget this client's failures for the account (their typos),
    not other addresses' (an attacker's count goes on)."""
    session.execute(
        sa.delete(FailedAttempt).where(
            FailedAttempt.kind == "login",
            FailedAttempt.subject == _login_subject(username),
            FailedAttempt.client == client_key(remote_addr),
        )
    )


def check_join_allowed(session: Session, user_id: int, remote_addr: str | None) -> None:
    """Raise RateLimited while this user, or this client, must wait to try a join code."""
    _check(
        session,
        "join",
        str(user_id),
        client_key(remote_addr),
        per_subject=(JOIN_PER_USER, JOIN_USER_MESSAGE),
        per_client=(JOIN_PER_CLIENT, JOIN_CLIENT_MESSAGE),
    )


def record_join_failure(session: Session, user_id: int, remote_addr: str | None) -> None:
    _record(session, "join", str(user_id), client_key(remote_addr))


def _reset_subject(identifier: str) -> str:
    # A hash: an e-mail address may be longer than the column, and need not be kept.
    normalized = username_key(identifier)
    return hashlib.sha256(normalized.encode()).hexdigest()[:40]


def check_reset_allowed(session: Session, identifier: str, remote_addr: str | None) -> None:
    """Raise RateLimited while "forgot password" for this name or address, or from this
    client, must wait."""
    _check(
        session,
        "reset",
        _reset_subject(identifier),
        client_key(remote_addr),
        per_subject=(RESET_PER_SUBJECT, RESET_MESSAGE),
        per_client=(RESET_PER_CLIENT, RESET_MESSAGE),
    )


def record_reset_request(session: Session, identifier: str, remote_addr: str | None) -> None:
    _record(session, "reset", _reset_subject(identifier), client_key(remote_addr))


def check_write_allowed(session: Session, user_id: int, allowed: int = WRITES_ALLOWED) -> None:
    recent = session.scalar(_RECENT_WRITES, {"user_id": user_id, "since": write_window_start()})
    refuse_too_many_writes(recent, allowed)


def write_window_start():
    """The `since` parameter of recent_writes(): a minute ago."""
    return utcnow() - WRITE_WINDOW


def refuse_too_many_writes(recent: int, allowed: int) -> None:
    """RateLimited when `recent` (recent_writes()) has reached `allowed`."""
    if recent >= allowed:
        raise RateLimited("You are saving notes very fast. Wait a minute and try again.")


def _recent(model):
    return (
        sa.select(sa.func.count())
        .select_from(model)
        .where(model.author_id == sa.bindparam("user_id"), model.created_at > sa.bindparam("since"))
        .scalar_subquery()
    )


def recent_writes():
    """The notes and replies of `user_id` since `since` (bound parameters), as a column:
    what check_write_allowed counts, for a write that reads it within a statement of its
    own. Both (author, created_at) indexes."""
    return _recent(Annotation) + _recent(Reply)


# Asked before every write: built once (building it costs more than running it).
_RECENT_WRITES = sa.select(recent_writes())
