"""Engine settings: SQLite pragmas, BEGIN IMMEDIATE for writes, and which database errors
mean "busy, try again".

On SQLite a transaction that reads and then writes under a plain (deferred) BEGIN fails at
once with "database is locked" when another writer holds the lock, whatever the busy
timeout. Requests that write take the write lock up front with BEGIN IMMEDIATE instead.
A request writes in one transaction: once it commits, what it reads to draw the answer
starts a plain BEGIN, which in WAL mode never waits for a writer. So nothing after a commit
can fail for want of the lock.
"""

from __future__ import annotations

import contextvars
import os
import sqlite3

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
# Whether the current request has committed: what goes wrong afterwards must not say that
# nothing was changed.
committed: contextvars.ContextVar[bool] = contextvars.ContextVar("committed", default=False)

_SQLITE_BUSY_OR_LOCKED = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
# PostgreSQL: lock_not_available, serialization_failure, deadlock_detected, query_canceled
# (lock or statement timeout), admin/crash shutdown, cannot_connect_now, too_many_connections;
# class 08 is "connection exception".
_POSTGRES_RETRYABLE = {"55P03", "40001", "40P01", "57014", "57P01", "57P02", "57P03", "53300"}


def start_request(writes: bool) -> None:
    """A new request: take the write lock up front if it writes; nothing committed yet."""
    write_intent.set(writes)
    committed.set(False)


@event.listens_for(Session, "after_commit")
def _after_commit(_session) -> None:
    write_intent.set(False)
    committed.set(True)


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database could not be had in time (locked, busy, timed
    out, unreachable): the transaction did not commit, and trying again later may work."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code is None:
            return "locked" in str(original) or "busy" in str(original)
        return code & 0xFF in _SQLITE_BUSY_OR_LOCKED
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return sqlstate in _POSTGRES_RETRYABLE or sqlstate.startswith("08")
    # psycopg has no SQLSTATE when it cannot reach the server at all.
    return isinstance(error, exc.OperationalError)


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # first: WAL may wait
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


class DatabaseFileError(Exception):
    """The SQLite file this process writes to was deleted or replaced under it."""


DATABASE_FILE_GONE = (
    "the database file {path} was deleted or replaced while the server ran; "
    "restore it (flask --app webapp restore) or restart the server"
)


def sqlite_file(engine: Engine) -> str | None:
    """The path of the engine's SQLite file (also for a `file:` URI), or None."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    if engine.url.query.get("uri") == "true" and path.startswith("file:"):
        path = path.removeprefix("file:")
        if path.startswith("//"):  # file://host/path: only the empty host is local
            path = path[2:]
    return path.split("?", 1)[0]


def file_identity(path: str) -> tuple[int, int] | None:
    """The (device, inode) of the file at `path` now, or None when there is none."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def guard_sqlite_file(engine: Engine) -> None:
    """Never acknowledge a write into a SQLite file that is no longer the one at its path.

    A deleted or replaced file stays open, readable and writable through the connections
    that opened it: every write would succeed into a file nobody will read again. So each
    connection remembers the device and inode of the file it opened, and each write
    transaction compares them with the path's (one os.stat). A mismatch refuses the write
    with DatabaseFileError and drops the pooled connections, so that the next request
    opens the file that is there now. A missing file is not silently created again once
    this process has opened it (the first connection may create it: `flask init` on a
    fresh install).
    """
    path = sqlite_file(engine)
    if path is None:
        return
    opened = False

    @event.listens_for(engine, "do_connect")
    def _refuse_to_recreate(_dialect, _record, _cargs, _cparams):
        if opened and not os.path.exists(path):
            raise DatabaseFileError(DATABASE_FILE_GONE.format(path=path))

    @event.listens_for(engine, "connect")
    def _remember_file(_dbapi_connection, record):
        nonlocal opened
        opened = True
        record.info["file_identity"] = file_identity(path)

    @event.listens_for(engine, "begin")
    def _check_file(connection):
        if not write_intent.get():
            return
        if connection.connection.info.get("file_identity") != file_identity(path):
            connection.invalidate()
            engine.dispose()
            raise DatabaseFileError(DATABASE_FILE_GONE.format(path=path))
