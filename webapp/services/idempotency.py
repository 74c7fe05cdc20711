"""Idempotent writes: a new note or reply may carry a key its page made for it (one per
draft). The key is unique per author, so a retried or doubled request finds the row the
first one saved and is answered with it: no second row, change or notification."""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from webapp.models import Annotation, Reply

KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")

Row = TypeVar("Row", Annotation, Reply)


class InvalidKey(ValueError):
    """A key that is not one our pages make; the message says so."""


def parse_key(value: str | None) -> str | None:
    """The key a form sent (None when it sent none); InvalidKey for a malformed one."""
    value = (value or "").strip()
    if not value:
        return None
    if not KEY.fullmatch(value):
        raise InvalidKey(
            "The request's idempotency key must be 8 to 64 letters, digits, '-' or '_'."
        )
    return value


def saved_before(session: Session, model: type[Row], author_id: int, key: str | None) -> Row | None:
    """The row this author already saved under this key, if any."""
    if key is None:
        return None
    return session.scalar(
        sa.select(model).where(model.author_id == author_id, model.idempotency_key == key)
    )


def insert_once(session: Session, row: Row) -> tuple[Row, bool]:
    """Add `row` (its columns set, no related objects: the caller adds those); when a
    concurrent request saved one under the same key first, that row instead. Returns (row,
    whether it is new). A new `row` is in the session as loaded, every column read back.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING, no unit of work (its flush cost more
    than the rest of a note's write) and no savepoint: a row the unique key refuses comes
    back as no row, and the transaction goes on."""
    if not has_returning(session):
        return _insert_once_flushing(session, row)
    model = type(row)
    postgres = session.connection().dialect.name == "postgresql"
    statement, columns = _insert_returning(model, postgres)
    given = instance_dict(row)
    values = {column.key: given[key] for key, column in columns if key in given}
    found = session.execute(statement, values).first()
    if found is None:  # the unique key refused it: a concurrent request saved it first
        saved = saved_before(session, model, row.author_id, row.idempotency_key)
        if saved is None:
            raise LookupError(f"A {model.__name__} refused on its key was not found.")
        return saved, False
    given.update(zip((key for key, _ in columns), found, strict=True))
    make_transient_to_detached(row)  # as if read: every column loaded, nothing to flush
    session.add(row)
    return row, True


def has_returning(session: Session) -> bool:
    """Whether the database answers INSERT ... RETURNING (SQLite from 3.35)."""
    postgres = session.connection().dialect.name == "postgresql"
    return postgres or sqlite3.sqlite_version_info >= (3, 35)


@cache
def _insert_returning(model: type[Row], postgres: bool):
    """The INSERT of `model`'s row that skips one its unique key refuses and returns every
    column (the model's defaults filled in), with (attribute, column) pairs in that order:
    built once per model and dialect."""
    table = model.__table__
    columns = [(prop.key, prop.columns[0]) for prop in sa.inspect(model).column_attrs]
    insert = (postgresql if postgres else sqlite).insert(table)
    statement = insert.on_conflict_do_nothing(
        index_elements=[table.c.author_id, table.c.idempotency_key]
    ).returning(*(column for _, column in columns))
    return statement, columns


def _insert_once_flushing(session: Session, row: Row) -> tuple[Row, bool]:
    """insert_once through the unit of work, a savepoint catching the refusal."""
    if row.idempotency_key is None:
        session.add(row)
        session.flush()
        return row, True
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = saved_before(session, type(row), row.author_id, row.idempotency_key)
        if found is None:
            raise
        return found, False
    return row, True
