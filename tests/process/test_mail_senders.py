"""E-mail senders as operators run them: `flask --app webapp send-mail` processes, two at
once on one database (SQLite, and PostgreSQL as several hosts share it), against a local
SMTP server. Every message goes out exactly once; a looping sender stops cleanly on
SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.postgres import throwaway_database
from tests.support.servers import flask, instance_env
from tests.support.smtp import SmtpServer
from webapp import create_app
from webapp.database import write_intent
from webapp.extensions import db
from webapp.models import Notification, OutboxMessage, User

BIN = Path(sys.executable).parent
PEOPLE, EACH = 6, 20  # 120 messages


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mail.db'}"
        return
    with throwaway_database() as url:
        yield url


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def make_notifications(root: Path, database_url: str) -> None:
    """PEOPLE accounts with addresses, EACH notifications apiece, made in this process."""
    uri = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "mail-secret", "INSTANCE_PATH": str(root)}
    )
    with app.app_context():
        token = write_intent.set(True)
        try:
            for n in range(PEOPLE):
                person = User(username=f"reader{n}", password_hash="!", email=f"r{n}@example.org")
                db.session.add(person)
                db.session.flush()
                db.session.add_all(
                    Notification(user_id=person.id, event="assigned") for _ in range(EACH)
                )
            db.session.commit()
        finally:
            write_intent.reset(token)
            db.session.remove()
            db.engine.dispose()


def sender(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "webapp", "send-mail", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def mail_env(root: Path, database_url: str, smtp: SmtpServer) -> dict:
    return instance_env(
        root,
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_FROM="marginalia@example.org",
        BASE_URL="http://reading.example.org",
    )


def test_two_senders_send_every_message_exactly_once(tmp_path, database_url, smtp):
    env = mail_env(tmp_path, database_url, smtp)
    flask(env, "init")
    make_notifications(tmp_path, database_url)
    senders = [sender(env, "--once", "--batch", "3") for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in senders]
    assert [process.returncode for process in senders] == [0, 0], outputs
    ids = Counter(message["X-Marginalia-Outbox"] for message in smtp.inbox.messages)
    duplicates = {key: count for key, count in ids.items() if count > 1}
    assert not duplicates, outputs
    assert len(ids) == PEOPLE * EACH, outputs
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            statuses = connection.execute(
                sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
            ).all()
    finally:
        engine.dispose()
    assert statuses == [("sent", PEOPLE * EACH)]
    assert {m["To"] for m in smtp.inbox.messages} == {f"r{n}@example.org" for n in range(PEOPLE)}


def test_a_looping_sender_stops_on_sigterm(tmp_path, smtp):
    env = mail_env(tmp_path, None, smtp)
    flask(env, "init")
    process = sender(env, "--interval", "0.2")
    try:
        first = process.stdout.readline()
        assert first.startswith("send-mail: to 127.0.0.1:"), first
        time.sleep(0.5)  # a few idle passes; none prints
        process.terminate()
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "Traceback" not in output
