"""Backups of the live database and putting one back; plain logic, no Flask.

SQLite: the online backup API (sqlite3.Connection.backup) copies the whole database in
one step, inside one read transaction, so the copy is the database as of one moment even
while the app keeps writing (in WAL mode a reader never blocks a writer). A `cp` of the
file is not a backup: recent commits may still live only in the -wal file next to it,
and a checkpoint may be rewriting pages of the main file while it is being copied. The
copy is switched to a single self-contained file (journal_mode=DELETE), checked, and
renamed into place only when complete. Restoring copies a backup into the database file
through the same API, so it takes SQLite's locks instead of swapping the file under a
running server.

PostgreSQL: pg_dump (custom format) and pg_restore, run when they are on PATH; when they
are not, the command to run elsewhere is given instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

REQUIRED_TABLES = ("alembic_version", "users", "documents", "annotations")
COUNTED = (("documents", "articles"), ("annotations", "notes"), ("users", "accounts"))


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not installed here; `commands` is what to run instead."""

    def __init__(self, tool: str, commands: list[str]):
        self.commands = commands
        super().__init__(f"{tool} is not installed here; run this where it is:")


@dataclass
class Snapshot:
    """What a database or a backup holds: its migration and a few counts."""

    revision: str
    counts: dict[str, int]

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {label}" for label, n in self.counts.items())
        return f"migration {self.revision}; {counts}"


def _snapshot(connection: sqlite3.Connection, known: frozenset[str], what: str) -> Snapshot:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{what} is not a Marginalia database (no {', '.join(missing)} table)")
    revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    if len(revisions) != 1 or revisions[0] not in known:
        raise BackupError(
            f"{what} is at migration {', '.join(revisions) or 'none'}, "
            "which this version of Marginalia does not know"
        )
    counts = {
        label: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table, label in COUNTED
    }
    return Snapshot(revisions[0], counts)


def sqlite_backup(source: str, target: Path, known: frozenset[str]) -> Snapshot:
    """Copy the SQLite database at `source` to `target` while others keep writing."""
    if not os.path.exists(source):
        raise BackupError(f"there is no database file at {source}")
    if target.exists() and os.path.samefile(source, target):
        raise BackupError("the backup would overwrite the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"there is no folder {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        live = sqlite3.connect(source, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # one step: the database as of one moment
            copy.execute("PRAGMA journal_mode=DELETE")
            if (check := copy.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"the copy does not check out: {check}")
            snapshot = _snapshot(copy, known, str(source))
        finally:
            copy.close()
            live.close()
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"SQLite says: {error}") from None
    os.replace(partial, target)
    return snapshot


def inspect_sqlite_backup(path: Path, known: frozenset[str]) -> Snapshot:
    """What a backup file holds; BackupError unless it is a sound Marginalia database."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if (check := connection.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"{path} is damaged: {check}")
            return _snapshot(connection, known, str(path))
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error})") from None


def sqlite_holds_data(path: str) -> bool:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return False
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        connection.close()


def sqlite_restore(backup: Path, target: str) -> None:
    """Copy a checked backup into the database file, in place, under SQLite's locks."""
    try:
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        database = sqlite3.connect(target, timeout=30)
        try:
            source.backup(database)
        finally:
            database.close()
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite says: {error}") from None


# --- PostgreSQL ---------------------------------------------------------------------------


def libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore (no driver, no password) and the environment that
    carries the password, so that it never shows on a command line."""
    plain = url.set(drivername="postgresql", password=None)
    env = {"PGPASSWORD": url.password} if url.password else {}
    return plain.render_as_string(hide_password=False), env


def _shown(command: list[str], env: dict[str, str]) -> str:
    words = " ".join(f"'{w}'" if re.search(r"[^\w@%+=:,./-]", w) else w for w in command)
    return ("PGPASSWORD=... " if env else "") + words


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")
    return done.stdout


def postgres_backup(url: sa.URL, target: Path) -> str:
    """pg_dump the database to `target` (custom format); returns the command run."""
    dsn, env = libpq(url)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", dsn]
    if shutil.which("pg_dump") is None:
        raise ToolMissing("pg_dump", [_shown(command, env)])
    _run(command, env)
    return _shown(command, env)


def inspect_postgres_backup(path: Path, known: frozenset[str]) -> str:
    """The migration a pg_dump archive is at; BackupError unless it is a Marginalia one."""
    try:
        listing = _run(["pg_restore", "--list", str(path)], {})
    except BackupError as error:
        raise BackupError(f"{path} is not a pg_dump archive ({error})") from None
    missing = [t for t in REQUIRED_TABLES if not re.search(rf" TABLE \S+ {t} ", listing)]
    if missing:
        raise BackupError(f"{path} is not a Marginalia backup (no {', '.join(missing)} table)")
    data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)], {})
    found = re.search(r"^COPY \S*alembic_version .*?;\n(.*?)^\\\.$", data, re.S | re.M)
    revisions = found.group(1).split() if found else []
    if len(revisions) != 1 or revisions[0] not in known:
        raise BackupError(
            f"{path} is at migration {', '.join(revisions) or 'none'}, "
            "which this version of Marginalia does not know"
        )
    return revisions[0]


# What the migrations create on PostgreSQL beside tables (migrations/versions/
# i11anon_page_revision.py): dropped with them before a restore.
OWN_FUNCTIONS = ("bump_page_revision()",)


def postgres_restore_commands(url: sa.URL, backup: Path) -> tuple[list[str], dict[str, str]]:
    dsn, env = libpq(url)
    command = [
        "pg_restore",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={dsn}",
        str(backup),
    ]
    return command, env


def postgres_restore(engine: sa.Engine, backup: Path, known: frozenset[str], force: bool) -> str:
    """Empty the database (only with `force` when it holds tables) and pg_restore into it;
    returns the migration the backup was at."""
    command, env = postgres_restore_commands(engine.url, backup)
    if shutil.which("pg_restore") is None:
        raise ToolMissing("pg_restore", [_shown(command, env)])
    revision = inspect_postgres_backup(backup, known)
    tables = sa.inspect(engine).get_table_names()
    if tables and not force:
        raise BackupError(
            f"the database already holds {len(tables)} tables; add --force to replace them "
            "(back them up first)"
        )
    with engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        for function in OWN_FUNCTIONS:  # the archive creates them again
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    engine.dispose()
    _run(command, env)
    return revision
