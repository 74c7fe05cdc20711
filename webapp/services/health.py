"""Whether the database can serve: reachable, writable, at the migration this code needs.

Plain logic given an engine: /healthz asks on every call, the WSGI entry once before
serving, `restore` before and after it puts a copy back.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from webapp.database import NO_WRITER_LOCK, DatabaseFileError, sqlite_file, write_intent

INIT_HINT = "run `flask --app webapp init` (which `make run` does) to create it"
# Less than this left on the SQLite file's disk: a write may not fit its journal.
MIN_FREE_BYTES = 1024 * 1024
LOCK_WAIT_MS = 2000  # a health check answers within seconds, even when a writer is stuck


class DatabaseNotReady(RuntimeError):
    """The database cannot be served from; the message says what to run."""


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The revisions a database must be at for this code (read once per process)."""
    return frozenset(ScriptDirectory(directory).get_heads())


@functools.cache
def known_revisions(directory: str) -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory(directory).walk_revisions())


def schema_problem(connection: Connection, heads: frozenset[str]) -> str | None:
    """What is wrong with the schema the connection sees, if anything."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return f"the database has no schema: {INIT_HINT}"
    revisions = set(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    if revisions != heads:
        return (
            f"the database is at migration {', '.join(sorted(revisions)) or 'none'} but this "
            f"code needs {', '.join(sorted(heads))}: run `flask --app webapp db upgrade`"
        )
    return None


def describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _missing_file(engine: Engine) -> str | None:
    path = sqlite_file(engine)
    if path is not None and not os.path.exists(path):
        return f"there is no database file at {path}: {INIT_HINT}"
    return None


def free_bytes(folder: str) -> int | None:
    """The space left for this process's files in `folder` (root may use the reserve)."""
    try:
        status = os.statvfs(folder)
    except OSError:
        return None
    blocks = status.f_bfree if os.geteuid() == 0 else status.f_bavail
    return blocks * status.f_frsize


def check_ready_to_serve(engine: Engine, heads: frozenset[str]) -> str | None:
    """Raise DatabaseNotReady unless the database exists and has this code's schema.

    It only reads, and never creates a missing SQLite file. A server that cannot be
    reached is not a reason to refuse (it may come back, and a worker restarting while
    PostgreSQL restarts must not stop the whole server): that is returned as a warning,
    and /healthz reports it meanwhile."""
    problem = _missing_file(engine)
    if problem is None:
        try:
            with engine.connect() as connection:
                problem = schema_problem(connection, heads)
        except sa.exc.OperationalError as error:
            return f"could not check the schema of {describe(engine)}: {error.orig or error}"
    if problem:
        raise DatabaseNotReady(f"Marginalia will not serve {describe(engine)}: {problem}.")
    return None


def database_problems(engine: Engine, heads: frozenset[str]) -> list[str]:
    """Everything that stops the app from reading and writing; empty when healthy.

    The check changes nothing: on SQLite it takes the write lock (BEGIN IMMEDIATE, which
    also checks the file is still the one the app opened), runs an UPDATE of no rows and
    rolls back; on PostgreSQL it asks whether the server is a standby or read-only."""
    if problem := _missing_file(engine):
        return [problem]
    problems = []
    if (path := sqlite_file(engine)) is not None:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(path, os.W_OK):
            problems.append(f"the database file {path} is read-only")
        if not os.access(folder, os.W_OK):
            problems.append(f"the folder {folder} is read-only (SQLite keeps its journal there)")
        if (free := free_bytes(folder)) is not None and free < MIN_FREE_BYTES:
            problems.append(f"the disk holding {folder} is full ({free // 1024} KiB free)")
    token = write_intent.set(True)
    try:
        with engine.connect().execution_options(**NO_WRITER_LOCK) as connection:
            with _short_lock_wait(connection):
                if problem := schema_problem(connection, heads):
                    problems.append(problem)
                elif engine.dialect.name == "sqlite":
                    # A write that changes nothing: refused at once on a read-only file.
                    connection.exec_driver_sql(
                        "UPDATE alembic_version SET version_num = version_num WHERE 0"
                    )
                if engine.dialect.name == "postgresql":
                    standby, read_only = connection.execute(
                        sa.text(
                            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
                        )
                    ).one()
                    if standby:
                        problems.append("the PostgreSQL server is a standby (in recovery)")
                    elif read_only == "on":
                        problems.append("the PostgreSQL database is read-only")
                connection.rollback()
    except DatabaseFileError as error:
        problems.append(str(error))
    except sa.exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        problems.append(f"the database cannot be used: {reason}")
    finally:
        write_intent.reset(token)
    return problems


@contextmanager
def _short_lock_wait(connection: Connection) -> Iterator[None]:
    """On SQLite, wait at most LOCK_WAIT_MS for the write lock, then restore the
    connection's usual busy timeout."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    usual = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):  # closed: the file guard discarded it
            raw.execute(f"PRAGMA busy_timeout={int(usual)}")
