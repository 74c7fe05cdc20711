"""The e-mail outbox: what to send, claimed by senders safely across processes and hosts.

- Notifications become outbox rows in the sender (`queue_notifications`), not in the
  request that made them: a server without e-mail keeps no mail, and one that turns e-mail
  on does not send old news (only notifications younger than MAX_AGE are e-mailed).
  Account messages (a reset link asked for by e-mail, the notice that an instructor
  issued one) are queued by the request (`queue_account_mail`).
- A sender claims a batch in one UPDATE: it writes a fresh claim token and a lease
  (`claimed_until`) on rows that are pending, due and unclaimed or whose lease ran out,
  then reads back the rows carrying its token. On PostgreSQL the candidate rows are
  locked with FOR UPDATE SKIP LOCKED, and the UPDATE re-checks the claim on each row, so
  two senders never take the same row; on SQLite the UPDATE runs under the one write lock.
- A sender that dies after claiming leaves its rows to be claimed again when the lease has
  passed: delivery is at least once (a crash between the SMTP server's "OK" and the
  database's commit sends that message twice, never loses it).
- A failure worth repeating (the server unreachable, a 4xx answer) retries with growing
  waits; a permanent one (5xx) or too many attempts marks the row failed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from webapp.models import Notification, OutboxMessage, User, utcnow

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
MAX_AGE = timedelta(hours=48)
MAX_ERROR = 500

PENDING, SENT, SKIPPED, FAILED, EXPIRED = "pending", "sent", "skipped", "failed", "expired"


def queue_account_mail(session: Session, user: User, kind: str) -> OutboxMessage:
    message = OutboxMessage(kind=kind, user_id=user.id, status=PENDING, next_attempt_at=utcnow())
    session.add(message)
    return message


def queue_notifications(session: Session, now: datetime) -> int:
    """Outbox rows for recent notifications whose recipient has an e-mail address (whether
    they want it is decided when sending). Idempotent: one row per notification."""
    queued = sa.exists().where(OutboxMessage.notification_id == Notification.id)
    candidates = session.execute(
        sa.select(Notification.id, Notification.user_id)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.created_at > now - MAX_AGE,
            User.email.is_not(None),
            ~queued,
        )
    ).all()
    if not candidates:
        return 0
    rows = [
        {
            "kind": "notification",
            "user_id": user_id,
            "notification_id": notification_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for notification_id, user_id in candidates
    ]
    postgres = session.connection().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    # Another sender may queue the same notifications now: the unique notification_id wins.
    session.execute(insert(OutboxMessage.__table__).values(rows).on_conflict_do_nothing())
    return len(rows)


def expire_stale(session: Session, now: datetime) -> None:
    """Pending mail older than MAX_AGE is news no longer: it is not sent."""
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.created_at < now - MAX_AGE)
        .values(status=EXPIRED, claimed_until=None, claim_token=None)
    )


def _claimable(now: datetime):
    return sa.and_(
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= now,
        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(session: Session, now: datetime, limit: int = 20) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this sender until now + LEASE."""
    token = secrets.token_hex(16)
    candidates = (
        sa.select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id).limit(limit)
    )
    if session.connection().dialect.name == "postgresql":
        # A CTE runs once: as an IN (subquery) PostgreSQL may run the LIMIT again per row.
        chosen = candidates.with_for_update(skip_locked=True).cte("chosen")
        where = OutboxMessage.id == chosen.c.id
    else:
        where = OutboxMessage.id.in_(candidates.scalar_subquery())
    session.execute(
        sa.update(OutboxMessage)
        # The claim is checked again on the row itself: a row another sender claimed while
        # this one waited is left alone.
        .where(where, _claimable(now))
        .values(claim_token=token, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .options(selectinload(OutboxMessage.user))
            .where(OutboxMessage.claim_token == token)
            .order_by(OutboxMessage.id)
        )
    )


def _finish(session: Session, message_id: int, **values) -> None:
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(claimed_until=None, claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    _finish(session, message_id, status=SENT, sent_at=now, last_error=None)


def mark_skipped(session: Session, message_id: int, reason: str) -> None:
    _finish(session, message_id, status=SKIPPED, last_error=reason[:MAX_ERROR])


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the n-th failure, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def mark_failed(
    session: Session, message_id: int, attempts: int, now: datetime, error: str, permanent: bool
) -> None:
    """Record a failed attempt (the row's `attempts` before it): retry later, or give up."""
    attempts += 1
    if permanent or attempts >= MAX_ATTEMPTS:
        _finish(session, message_id, status=FAILED, attempts=attempts, last_error=error[:MAX_ERROR])
        return
    _finish(
        session,
        message_id,
        attempts=attempts,
        next_attempt_at=now + retry_delay(attempts),
        last_error=error[:MAX_ERROR],
    )
