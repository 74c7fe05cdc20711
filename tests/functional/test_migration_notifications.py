"""The migration that adds notifications, their settings, the outbox, password resets and
users.email keeps every row, on SQLite and PostgreSQL, up and down."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.functional.test_migration_change_seq import add_note, migrating_app, rows  # noqa: F401
from tests.support.migrations import revision_before
from webapp.extensions import db

BEFORE = revision_before("i9ppl_notifications_accounts")
TABLES = ("notifications", "notification_settings", "outbox", "password_resets")


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_notifications_migration_keeps_rows_up_and_down(migrating_app):  # noqa: F811
    add_note(1)
    add_note(2)
    downgrade(revision=BEFORE)
    assert not set(TABLES) & tables()
    users = rows("SELECT id, username, username_key, password_hash FROM users ORDER BY id")
    notes = rows("SELECT id, author_id, body_markdown FROM annotations ORDER BY id")
    assert len(users) == 2 and len(notes) == 2

    upgrade()
    assert set(TABLES) <= tables()
    assert rows("SELECT id, username, username_key, password_hash FROM users ORDER BY id") == users
    assert rows("SELECT email FROM users") == [(None,), (None,)]
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE users SET email = 'a@example.org'")
        connection.exec_driver_sql(
            "INSERT INTO notifications (user_id, event, in_app, created_at) "
            f"VALUES ({users[0][0]}, 'reply', true, CURRENT_TIMESTAMP)"
        )
    add_note(3)

    downgrade(revision=BEFORE)
    assert rows("SELECT id, username FROM users ORDER BY id")[:2] == [u[:2] for u in users]
    assert len(rows("SELECT id FROM annotations")) == 3
    upgrade()
    assert len(rows("SELECT id FROM users")) == 3
