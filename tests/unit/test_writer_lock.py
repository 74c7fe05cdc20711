"""SQLite writers take turns through an OS lock beside the database (webapp.database
WriterLock): real processes writing at once all succeed, the lock is held exactly while a
write transaction is open, and released whatever ends it (commit, an error, a BEGIN that
fails, an invalidated connection). Whether it is held is asked from another process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest
import sqlalchemy as sa

from webapp.database import (
    CHECKPOINT_EVERY,
    WAL_AUTOCHECKPOINT_PAGES,
    WriterLock,
    configure_engine,
    write_intent,
)

ROWS_EACH = 150

WRITER = textwrap.dedent(
    """
    import os, sys, time
    import sqlalchemy as sa
    from webapp.database import configure_engine, write_intent

    url, name, go = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = sa.create_engine(url)
    configure_engine(engine, busy_timeout_ms=10_000)
    write_intent.set(True)
    while not os.path.exists(go):  # both start together
        time.sleep(0.001)
    for n in range(int(sys.argv[4])):
        with engine.begin() as connection:
            # Read, then write: fails at once under a deferred BEGIN when the other
            # process wrote in between; the write transaction must hold the lock.
            count = connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
            connection.exec_driver_sql(
                "INSERT INTO t (name, seen) VALUES (?, ?)", (f"{name}-{n}", count)
            )
    """
)

PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "except BlockingIOError:\n"
    "    sys.exit(3)\n"
)


def held_elsewhere(lock_path) -> bool:
    """Whether another process finds the writers' lock taken."""
    probe = subprocess.run([sys.executable, "-c", PROBE, str(lock_path)], check=False)
    assert probe.returncode in (0, 3), probe
    return probe.returncode == 3


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "w.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    configure_engine(engine, busy_timeout_ms=50)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, seen INTEGER)"
        )
    yield engine, path, tmp_path / "w.db.writer-lock"
    engine.dispose()


@pytest.fixture
def writing():
    token = write_intent.set(True)
    yield
    write_intent.reset(token)


def rows(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM t").scalar()


def test_two_processes_writing_at_once_both_succeed(database, tmp_path):
    engine, path, lock = database
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"sqlite:///{path}", name, str(go), str(ROWS_EACH)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    go.touch()
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    assert rows(engine) == 2 * ROWS_EACH
    with engine.connect() as connection:
        seen = [n for (n,) in connection.exec_driver_sql("SELECT seen FROM t ORDER BY id")]
    assert seen == list(range(2 * ROWS_EACH))  # each saw every write before it
    assert lock.exists() and not held_elsewhere(lock)


@pytest.mark.usefixtures("writing")
def test_held_while_a_write_is_open_and_released_at_commit(database):
    engine, _, lock = database
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("INSERT INTO t (name) VALUES ('a')")
        assert held_elsewhere(lock)
        connection.commit()
        assert not held_elsewhere(lock)  # at the COMMIT, the connection still open
    assert rows(engine) == 1


def test_reads_never_take_it(database):
    engine, _, lock = database
    with engine.begin() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert not held_elsewhere(lock)


@pytest.mark.usefixtures("writing")
def test_released_after_an_error_rolls_the_write_back(database):
    engine, _, lock = database
    with pytest.raises(ZeroDivisionError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t (name) VALUES ('a')")
        1 / 0  # noqa: B018
    assert not held_elsewhere(lock)
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("INSERT INTO t (name) VALUES ('b')")
        with pytest.raises(sa.exc.IntegrityError):
            connection.exec_driver_sql("INSERT INTO t (name) VALUES ('b')")
        connection.rollback()
        assert not held_elsewhere(lock)
    assert rows(engine) == 0


@pytest.mark.usefixtures("writing")
def test_released_when_begin_fails_and_when_the_connection_is_invalidated(database):
    engine, path, lock = database
    other = sqlite3.connect(path, isolation_level=None)  # a writer that ignores the lock
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sa.exc.OperationalError, match="locked"), engine.connect() as connection:
        connection.begin()
    assert not held_elsewhere(lock)
    other.execute("ROLLBACK")
    other.close()
    with engine.connect() as connection:
        connection.begin()
        connection.exec_driver_sql("INSERT INTO t (name) VALUES ('a')")
        assert held_elsewhere(lock)
        connection.invalidate()
        assert not held_elsewhere(lock)
    assert rows(engine) == 0


@pytest.mark.usefixtures("writing")
def test_a_second_engine_of_the_same_thread_does_not_wait_for_itself(database):
    engine, path, lock = database
    second = sa.create_engine(f"sqlite:///{path}")
    configure_engine(second, busy_timeout_ms=20)
    try:
        with engine.begin(), second.connect() as waiting:
            # SQLite's own busy wait, as without the lock: refused, not a hang.
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                waiting.begin()
        assert not held_elsewhere(lock)
    finally:
        second.dispose()


HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.readline()  # until told to let go
    fcntl.flock(fd, fcntl.LOCK_UN)
    print("released", flush=True)
    sys.stdin.readline()
    """
)

# Takes the lock, waiting for it as long as it takes (an alarm ends a hang).
TAKER = (
    "import fcntl, os, signal, sys\n"
    "signal.alarm(60)\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
)


@pytest.fixture
def other_process_holding(tmp_path):
    """Another process holding the writers' lock until `.stdin` gets a line."""
    lock = tmp_path / "w.db.writer-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "held\n"
    yield lock, holder
    holder.communicate("\n\n", timeout=30)


def let_go(holder) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "released\n"


def taken_elsewhere_in_the_end(lock_path) -> bool:
    """Whether another process gets the lock, waiting as long as it takes."""
    return subprocess.run([sys.executable, "-c", TAKER, str(lock_path)], timeout=90).returncode == 0


def test_a_waiting_writer_gets_the_lock_the_other_process_lets_go(other_process_holding):
    lock, holder = other_process_holding
    writers = WriterLock(str(lock), timeout=60)
    got = []
    waiting = threading.Thread(target=lambda: got.append(writers.acquire()))
    waiting.start()
    let_go(holder)
    waiting.join(timeout=90)
    assert got == [True]
    assert held_elsewhere(lock)
    writers.release()
    assert not held_elsewhere(lock)


def test_a_wait_past_the_timeout_gives_up_and_leaves_the_lock_free(other_process_holding):
    lock, holder = other_process_holding
    writers = WriterLock(str(lock), timeout=0.05)
    assert writers.acquire() is False  # to SQLite's busy wait, as before
    let_go(holder)
    # The wait given up is still in the kernel: granted later, it is let go at once.
    assert taken_elsewhere_in_the_end(lock)
    writers.timeout = 60
    assert writers.acquire() is True
    assert held_elsewhere(lock)
    writers.release()
    assert taken_elsewhere_in_the_end(lock)


@pytest.mark.usefixtures("writing")
def test_the_wal_is_checkpointed_as_writes_go_on_and_never_grows_far(database):
    engine, path, _ = database
    commits = 10 * CHECKPOINT_EVERY
    for n in range(commits):
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t (name, seen) VALUES (?, ?)", (f"n{n}", n))
    assert rows(engine) == commits
    # A commit adds two or three pages to the WAL (the table's and its index's): all of
    # them, were it checkpointed only at SQLite's backstop size, which they stay under.
    frame = 4096 + 24
    assert 3 * commits < WAL_AUTOCHECKPOINT_PAGES
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size < 2 * 3 * CHECKPOINT_EVERY * frame
