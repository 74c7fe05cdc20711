"""database.fetch_one, the hot reads' statement on SQLite: one connection kept per thread
and engine, out of the pool; replaced with the pool, closed when the engine is disposed of,
dropped after a fault of its own or a read-only fault of any connection, never kept when
opened read-only or for an in-memory database, new after a fork; PostgreSQL through the
pool as before. Real SQLite files, a real PostgreSQL."""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import threading
import weakref

import pytest
import sqlalchemy as sa

from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp.database import _kept_reader, _kept_readers, configure_engine, fetch_one


def sqlite_engine(path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    configure_engine(engine, busy_timeout_ms=20)
    return engine


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(tmp_path / "x.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1, 'one')")
    yield engine
    engine.dispose()


def mark_connection(engine) -> None:
    """A temporary table on the connection fetch_one uses: only that connection sees it."""
    reader = _kept_reader(engine)[0]
    reader.dbapi_connection.execute("CREATE TEMP TABLE IF NOT EXISTS marked (x)")


def marked(engine) -> bool:
    return fetch_one(engine, "SELECT count(*) FROM temp.sqlite_master WHERE name = 'marked'")[0]


def test_reads_on_one_kept_connection_that_the_pool_does_not_count(engine):
    assert fetch_one(engine, "SELECT name FROM t WHERE id = ?", (1,)) == ("one",)
    mark_connection(engine)
    for _ in range(5):
        assert marked(engine)
    assert engine.pool.checkedout() == 0
    # What others commit shows at once: no snapshot is held between reads.
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE t SET name = 'uno' WHERE id = 1")
    assert fetch_one(engine, "SELECT name FROM t WHERE id = ?", (1,)) == ("uno",)


def test_each_thread_reads_on_its_own_connection(engine):
    mark_connection(engine)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(marked(engine)))
    thread.start()
    thread.join()
    assert seen == [0]
    assert marked(engine)


def test_a_replaced_pool_replaces_it_and_the_file_now_at_the_path_is_read(engine, tmp_path):
    mark_connection(engine)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as copy:
        copy.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        copy.execute("INSERT INTO t VALUES (1, 'restored')")
    copy.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{engine.url.database}{suffix}"):
            os.remove(f"{engine.url.database}{suffix}")
    shutil.move(other, engine.url.database)
    assert marked(engine)  # until the pool goes, the file it opened (as pooled ones do)
    engine.dispose()  # what a write that meets a replaced file, and a restore, do
    assert not marked(engine)
    assert fetch_one(engine, "SELECT name FROM t") == ("restored",)


def test_a_fault_drops_it(engine):
    mark_connection(engine)
    with pytest.raises(sqlite3.OperationalError):
        fetch_one(engine, "SELECT * FROM no_such_table")
    assert not marked(engine)


def test_disposing_of_the_engine_closes_it_at_once(engine):
    fetch_one(engine, "SELECT 1")
    assert engine in _kept_readers.by_engine
    engine.dispose()
    assert engine not in _kept_readers.by_engine


def test_one_opened_read_only_is_not_kept(engine):
    # As the pool's listener records a file this process may not write (root, running
    # the tests, may write any file: the flag is set as a read-only file would set it).
    sa.event.listen(engine, "connect", lambda _c, record: record.info.update(read_only=True))
    engine.dispose()
    assert fetch_one(engine, "SELECT name FROM t") == ("one",)
    assert engine not in _kept_readers.by_engine
    assert engine.pool.checkedout() == 0


def test_a_read_only_fault_anywhere_replaces_it(engine):
    mark_connection(engine)
    # A connection SQLite itself opens read-only (as root, permissions would not do it).
    read_only = sa.create_engine(
        f"sqlite:///file:{engine.url.database}?mode=ro&uri=true",
    )
    configure_engine(read_only, busy_timeout_ms=20)
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            with read_only.connect() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (3, 'three')")
    finally:
        read_only.dispose()
    assert not marked(engine)


def test_an_in_memory_database_stays_in_its_one_connection():
    engine = sa.create_engine("sqlite://")
    configure_engine(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert fetch_one(engine, "SELECT count(*) FROM t") == (1,)
    assert engine not in _kept_readers.by_engine
    with engine.connect() as connection:  # the same database: it did not leave the pool
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1


def test_statement_events_see_it(engine):
    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, *rest: seen.append(c.info))
    fetch_one(engine, "SELECT 1")
    assert seen and isinstance(seen[0], dict)


def test_a_forked_child_opens_its_own(engine):
    mark_connection(engine)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new connection, the parent's left alone
        try:
            os.write(write, b"%d" % marked(engine))
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 10)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"0"
    assert marked(engine)  # the parent's still works


def test_an_engine_dropped_takes_its_connection_with_it(tmp_path):
    engine = sqlite_engine(tmp_path / "y.db")
    fetch_one(engine, "SELECT 1")
    held = len(_kept_readers.by_engine)
    gone = weakref.ref(engine)
    del engine
    gc.collect()
    assert gone() is None  # the kept connection does not keep its engine alive
    assert len(_kept_readers.by_engine) <= held - 1  # (others collected too, maybe)


def test_postgres_reads_through_the_pool(postgres_url):  # noqa: F811
    engine = sa.create_engine(postgres_url)
    configure_engine(engine)
    try:
        assert fetch_one(engine, "SELECT %s::int + 1", (1,)) == (2,)
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()
