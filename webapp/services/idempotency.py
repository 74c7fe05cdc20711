"""Idempotent writes: a new note or reply may carry a key its page made for it (one per
draft). The key is unique per author, so a retried or doubled request finds the row the
first one saved and is answered with it: no second row, change or notification."""

from __future__ import annotations

import re
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
    """Add `row`; when a concurrent request saved one under the same key first (the unique
    index refuses this one), that row instead. Returns (row, whether it is new)."""
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
