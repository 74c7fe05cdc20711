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
from sqlalchemy.orm import ONETOMANY, RelationshipProperty, Session
from sqlalchemy.orm.attributes import instance_dict, instance_state, set_committed_value

from webapp import statements
from webapp.models import Annotation, Reply
from webapp.row_objects import attach_as_loaded, register_inserted

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
    """Add `row`; when a concurrent request saved one under the same key first (the unique
    index refuses this one), that row instead. Returns (row, whether it is new). A new row
    is in the session as if read, every column loaded, its collections as given.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING (and one for the rows of each collection
    given, a note's tags): no unit of work, whose flush cost more than the rest of a note's
    write, and no savepoint, since a row the key refuses comes back as no row."""
    model = type(row)
    given = instance_dict(row)
    collections = _collections(model, given)
    connection = session.connection()  # (a Core statement: not through Session.execute)
    dialect = connection.dialect.name
    if collections is None or not instance_state(row).transient or not _returns(dialect):
        return _insert_once_flushing(session, row)
    statement, columns = _insert_returning(model, dialect)
    values = {column.key: given[key] for key, column in columns if key in given}
    found = statements.first(connection, statement, values)
    if found is None:  # the unique key refused it: a concurrent request saved it first
        saved = saved_before(session, model, row.author_id, row.idempotency_key)
        if saved is None:
            raise LookupError(f"A {model.__name__} refused on its key was not found.")
        return saved, False
    children = {relationship: given.pop(relationship.key) for relationship in collections}
    given.update(zip((key for key, _ in columns), found, strict=True))
    attach_as_loaded(session, row, _identity_of(model, given))  # as if read: nothing to flush
    register_inserted(session, row)  # (a rollback forgets it, as a flushed insert)
    for relationship, items in children.items():
        made = _insert_children(session, row, relationship, items)
        register_inserted(session, *made)
        set_committed_value(row, relationship.key, made)
    return row, True


def _identity_of(model: type, given: dict) -> tuple:
    """The identity key of a `model` row from its columns, by attribute."""
    mapper = sa.inspect(model)
    keys = _primary_key_attributes(model)
    return mapper.identity_key_from_primary_key([given[key] for key in keys])


@cache
def _primary_key_attributes(model: type) -> tuple[str, ...]:
    mapper = sa.inspect(model)
    return tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key)


def _returns(dialect: str) -> bool:
    """Whether the database answers INSERT ... RETURNING (SQLite from 3.35)."""
    return dialect == "postgresql" or sqlite3.sqlite_version_info >= (3, 35)


def _collections(model: type, given: dict) -> list[RelationshipProperty] | None:
    """The one-to-many collections set on a new row (its tags), whose rows are new and
    carry only columns; None when it holds anything else (a related object set): the
    unit of work saves that."""
    found = []
    for relationship in _relationships(model):
        items = given.get(relationship.key)
        if items is None:
            continue
        if relationship.direction is not ONETOMANY or not relationship.uselist:
            return None
        for item in items:
            state = instance_state(item)
            related = _relationship_keys(state.mapper.class_)
            if not state.transient or any(key in state.dict for key in related):
                return None
        found.append(relationship)
    return found


@cache
def _relationships(model: type) -> tuple[RelationshipProperty, ...]:
    return tuple(sa.inspect(model).relationships)


@cache
def _relationship_keys(model: type) -> tuple[str, ...]:
    return tuple(relationship.key for relationship in _relationships(model))


def _insert_children(session: Session, row, relationship: RelationshipProperty, items: list):
    """Insert the rows of one of `row`'s collections, its key in each; returns them as
    loaded, in the order given (on SQLite one INSERT a row, as the unit of work does)."""
    if not items:
        return []
    parent = relationship.parent
    pairs = [
        (remote.key, getattr(row, parent.get_property_by_column(local).key))
        for local, remote in relationship.local_remote_pairs
    ]
    child = relationship.mapper
    columns = [(prop.key, prop.columns[0].key) for prop in child.column_attrs]
    rows = []
    for item in items:
        values = {column: item.__dict__[key] for key, column in columns if key in item.__dict__}
        values.update(pairs)
        rows.append(values)
    insert = sa.insert(child.class_).returning(child.class_, sort_by_parameter_order=True)
    return list(session.scalars(insert, rows))


@cache
def _insert_returning(model: type[Row], dialect: str):
    """The INSERT of `model`'s row that skips one its unique key refuses and returns every
    column (the model's defaults filled in), with (attribute, column) pairs in that order:
    built once per model and dialect."""
    table = model.__table__
    columns = [(prop.key, prop.columns[0]) for prop in sa.inspect(model).column_attrs]
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
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
