"""Engine settings: SQLite pragmas, and BEGIN IMMEDIATE for writes.

On SQLite a transaction that reads and then writes under a plain (deferred) BEGIN fails at
once with "database is locked" when another writer holds the lock, whatever the busy
timeout. Requests that write take the write lock up front with BEGIN IMMEDIATE instead.
"""

from __future__ import annotations

import contextvars
import os

from sqlalchemy import event
from sqlalchemy.engine import Engine

write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
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
