"""Which database errors mean "busy or unreachable, try again" (a 503) and which are bugs
(a 500): real errors from real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp.database import configure_engine, is_unavailable, write_intent


def raised(action) -> BaseException:
    with pytest.raises(sa.exc.SQLAlchemyError) as info:
        action()
    return info.value


@pytest.fixture
def sqlite_engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engines = [sa.create_engine(url), sa.create_engine(url)]
    for engine in engines:
        configure_engine(engine, busy_timeout_ms=20)
    with engines[0].begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield engines
    for engine in engines:
        engine.dispose()


def test_sqlite_write_lock_held_elsewhere_is_unavailable(sqlite_engines):
    first, second = sqlite_engines
    token = write_intent.set(True)
    try:
        with first.begin(), second.connect() as waiting:
            error = raised(waiting.begin)
    finally:
        write_intent.reset(token)
    assert "database is locked" in str(error)
    assert is_unavailable(error)


def test_sqlite_bugs_are_not_unavailable(sqlite_engines):
    engine = sqlite_engines[0]
    with engine.connect() as connection:
        assert not is_unavailable(raised(lambda: connection.exec_driver_sql("SELECT * FROM nope")))
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t (name) VALUES ('a')")
    with engine.connect() as connection:
        duplicate = raised(lambda: connection.exec_driver_sql("INSERT INTO t (name) VALUES ('a')"))
    assert isinstance(duplicate, sa.exc.IntegrityError) and not is_unavailable(duplicate)


def test_no_pooled_connection_free_in_time_is_unavailable(tmp_path):
    engine = sa.create_engine(
        f"sqlite:///{tmp_path / 'x.db'}",
        poolclass=sa.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )
    with engine.connect():
        assert is_unavailable(raised(engine.connect))
    engine.dispose()


def test_postgres_lock_and_statement_timeouts_are_unavailable(postgres_url):  # noqa: F811
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(sa.text("SELECT pg_advisory_lock(42)"))
        waiter.execute(sa.text("SET lock_timeout = '50ms'"))
        lock = raised(lambda: waiter.execute(sa.text("SELECT pg_advisory_lock(42)")))
        assert lock.orig.sqlstate == "55P03" and is_unavailable(lock)
        waiter.rollback()
        waiter.execute(sa.text("SET statement_timeout = '20ms'"))
        slow = raised(lambda: waiter.execute(sa.text("SELECT pg_sleep(2)")))
        assert slow.orig.sqlstate == "57014" and is_unavailable(slow)
        waiter.rollback()
        bug = raised(lambda: waiter.execute(sa.text("SELECT * FROM nope")))
        assert not is_unavailable(bug)
    engine.dispose()


def test_postgres_that_cannot_be_reached_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/none")
    assert is_unavailable(raised(engine.connect))
    engine.dispose()
