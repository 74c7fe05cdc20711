"""Outbox claims: a claim takes at most its batch and holds until its lease ends; on
PostgreSQL a sender never waits for, nor takes, rows another sender has claimed in a
transaction not yet committed (FOR UPDATE SKIP LOCKED, in a CTE: as an IN (subquery) the
LIMIT was applied again per row and one claim took every row)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from tests.conftest import make_config
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.extensions import db
from webapp.models import Notification, User, utcnow
from webapp.services import outbox


def test_two_senders_claim_disjoint_rows_without_waiting(tmp_path):
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        with app.app_context():
            upgrade()
            person = User(username="reader", password_hash="!", email="r@example.org")
            db.session.add(person)
            db.session.flush()
            db.session.add_all(Notification(user_id=person.id, event="assigned") for _ in range(10))
            now = utcnow()
            outbox.queue_notifications(db.session, now)
            db.session.commit()
            first, second = Session(db.engine), Session(db.engine)
            try:
                second.execute(sa.text("SET lock_timeout = '5s'"))  # a wait fails, not hangs
                a = {m.id for m in outbox.claim(first, now, limit=4)}  # not committed yet
                b = {m.id for m in outbox.claim(second, now, limit=4)}
                assert len(a) == len(b) == 4 and not a & b
                first.commit()
                second.commit()
                rest = {m.id for m in outbox.claim(first, now, limit=10)}
                first.commit()
                assert len(rest) == 2 and not rest & (a | b)
                assert outbox.claim(first, now + outbox.LEASE, limit=10) == []
                again = outbox.claim(first, now + outbox.LEASE + outbox.LEASE, limit=10)
                assert len(again) == 10  # every lease ran out: claimed afresh
                first.commit()
            finally:
                first.close()
                second.close()
                db.session.remove()
                db.engine.dispose()


def test_claims_on_sqlite_take_at_most_the_batch_and_respect_leases(db):
    person = User(username="reader", password_hash="!", email="r@example.org")
    db.session.add(person)
    db.session.flush()
    db.session.add_all(Notification(user_id=person.id, event="assigned") for _ in range(10))
    now = utcnow()
    outbox.queue_notifications(db.session, now)
    db.session.commit()
    a = {m.id for m in outbox.claim(db.session, now, limit=4)}
    b = {m.id for m in outbox.claim(db.session, now, limit=4)}
    rest = {m.id for m in outbox.claim(db.session, now, limit=10)}
    db.session.commit()
    assert (len(a), len(b), len(rest)) == (4, 4, 2) and len(a | b | rest) == 10
    assert outbox.claim(db.session, now + outbox.LEASE, limit=10) == []
    assert len(outbox.claim(db.session, now + 2 * outbox.LEASE, limit=10)) == 10
