"""Engine settings: SQLite pragmas, and BEGIN IMMEDIATE for writes.

On SQLite a transaction that reads and then writes under a plain (deferred) BEGIN fails at
once with "database is locked" when another writer holds the lock, whatever the busy
timeout. Requests that write take the write lock up front with BEGIN IMMEDIATE instead.
"""

from __future__ import annotations

import contextvars

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
