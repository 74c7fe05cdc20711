"""Which database errors mean "busy or unreachable, try again" (a 503) and which are bugs
(a 500): real errors from real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import logging
import socket
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa

from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp.database import (
    BUSY,
    DISK_FULL,
    READ_ONLY,
    UNREACHABLE,
    FaultLog,
    configure_engine,
    is_unavailable,
    unavailable_kind,
    write_intent,
)


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
    assert unavailable_kind(raised(engine.connect)) == UNREACHABLE  # not "busy": no quick retry
    engine.dispose()


# --- faults: what kind, and one log line each -----------------------------------------------


def test_sqlite_read_only_and_unopenable_files_are_faults_of_their_kind(tmp_path):
    path = tmp_path / "x.db"
    sqlite3.connect(path).close()
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with read_only.connect() as connection:
        error = raised(lambda: connection.exec_driver_sql("CREATE TABLE t (id INTEGER)"))
    assert unavailable_kind(error) == READ_ONLY
    read_only.dispose()
    (tmp_path / "file").write_text("")
    unopenable = sa.create_engine(f"sqlite:///{tmp_path / 'file' / 'x.db'}")
    assert unavailable_kind(raised(unopenable.connect)) == UNREACHABLE
    unopenable.dispose()


def test_postgres_read_only_and_missing_databases_are_faults_of_their_kind(
    postgres_url,  # noqa: F811
):
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    configure_engine(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        connection.commit()
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        error = raised(lambda: connection.exec_driver_sql("INSERT INTO t VALUES (1)"))
    assert error.orig.sqlstate == "25006" and unavailable_kind(error) == READ_ONLY
    # The read-only connection was dropped: the next one writes.
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
    missing = sa.create_engine(engine.url.set(database=engine.url.database + "_gone"))
    error = raised(missing.connect)
    # psycopg gives no SQLSTATE for a connection refused by the server (FATAL 3D000 here).
    assert "does not exist" in str(error) and unavailable_kind(error) == UNREACHABLE
    missing.dispose()


def test_a_connection_opened_read_only_serves_once_and_writable_ones_are_pooled(
    postgres_url,  # noqa: F811
):
    name = postgres_url.rsplit("/", 1)[1]
    engine = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://"), pool_size=1
    )
    configure_engine(engine)
    opened = []
    sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        for _ in range(3):
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")  # reads work
        assert len(opened) == 3  # one connection per use while it is read-only
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    for _ in range(3):
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TEMPORARY TABLE t (id INTEGER) ON COMMIT DROP"
            )  # writes
    assert len(opened) == 4  # writable: opened once, then pooled
    engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fault_log(caplog):
    caplog.set_level(logging.WARNING, logger="faults-test")
    clock = Clock()
    log = FaultLog(logging.getLogger("faults-test"), interval=60, clock=clock)
    log.clock_ = clock
    return log


def lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_a_fault_is_one_line_a_minute_then_one_when_it_is_over(fault_log, caplog):
    for _ in range(5):
        fault_log.refused(READ_ONLY, "attempt to write a readonly database (POST /x)")
        fault_log.clock_.now += 1
    assert lines(caplog) == [
        "Database fault (read-only): attempt to write a readonly database (POST /x). Requests"
        " that need it answer 503 with Retry-After until it clears."
    ]
    assert caplog.records[0].levelno == logging.ERROR
    fault_log.clock_.now += 60
    fault_log.refused(READ_ONLY, "again")
    assert "(4 more refused since the last report)" in lines(caplog)[-1]
    fault_log.recovered()
    fault_log.recovered()
    assert lines(caplog)[-1] == "Database fault (read-only) is over: writes succeed again."
    assert len(lines(caplog)) == 3


def test_kinds_are_counted_apart_and_busy_has_no_end_line(fault_log, caplog):
    fault_log.refused(DISK_FULL, "database or disk is full")
    fault_log.refused(BUSY, "database is locked")
    fault_log.refused(BUSY, "database is locked")
    assert [record.levelno for record in caplog.records] == [logging.ERROR, logging.WARNING]
    fault_log.recovered()
    assert lines(caplog)[-1] == "Database fault (disk full) is over: writes succeed again."
    assert len(lines(caplog)) == 3


def test_a_flapping_fault_logs_at_most_two_lines_a_minute(fault_log, caplog):
    # A disk nearly full: big writes refused, small ones saved, in turn.
    for _ in range(20):
        fault_log.refused(DISK_FULL, "database or disk is full")
        fault_log.recovered()
        fault_log.clock_.now += 1
    assert len(lines(caplog)) == 2
    fault_log.clock_.now += 60
    fault_log.refused(DISK_FULL, "database or disk is full")
    assert "(19 more refused since the last report)" in lines(caplog)[-1]
