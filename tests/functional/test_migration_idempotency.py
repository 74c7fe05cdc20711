"""The migration that adds idempotency keys to annotations and replies keeps every row, on
SQLite and PostgreSQL, up and down; the key is unique per author, NULLs never collide."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.functional.test_migration_change_seq import add_note, migrating_app, rows  # noqa: F401
from tests.support.migrations import revision_before
from webapp.extensions import db

REVISION = "i8key_idempotency_keys"
BEFORE = revision_before(REVISION)
NOTES = "SELECT id, author_id, start, body_markdown FROM annotations ORDER BY id"
REPLIES = "SELECT id, annotation_id, author_id, body_markdown FROM replies ORDER BY id"


def columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def add_reply(annotation_id: int, author_id: int, key: str | None = None) -> None:
    names = "annotation_id, author_id, body_markdown, body_html, created_at, updated_at, hidden"
    now = "CURRENT_TIMESTAMP"
    values = f"{annotation_id}, {author_id}, 'r', '<p>r</p>', {now}, {now}, false"
    if key is not None:
        names, values = f"{names}, idempotency_key", f"{values}, '{key}'"
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO replies ({names}) VALUES ({values})")


def test_idempotency_migration_keeps_rows_up_and_down(migrating_app):  # noqa: F811
    add_note(1)
    add_note(2)
    downgrade(revision=BEFORE)
    assert "idempotency_key" not in columns("annotations") | columns("replies")
    notes = rows(NOTES)
    assert len(notes) == 2
    add_reply(notes[0][0], notes[1][1])
    add_reply(notes[0][0], notes[1][1])
    replies = rows(REPLIES)

    upgrade()
    assert rows(NOTES) == notes and rows(REPLIES) == replies
    assert rows("SELECT idempotency_key FROM replies") == [(None,), (None,)]
    add_reply(notes[0][0], notes[1][1], "key-0001")
    add_reply(notes[0][0], notes[0][1], "key-0001")  # another author: allowed
    with pytest.raises(sa.exc.IntegrityError):
        add_reply(notes[0][0], notes[1][1], "key-0001")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE annotations SET idempotency_key = 'n-' || id")
    replies = rows(REPLIES)
    assert len(replies) == 4

    downgrade(revision=BEFORE)
    assert rows(NOTES) == notes and rows(REPLIES) == replies
    upgrade()
    assert rows(NOTES) == notes and rows(REPLIES) == replies
