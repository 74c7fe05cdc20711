"""The migration that gives classes their colour purposes keeps every row, on SQLite and
PostgreSQL, up and down."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from tests.functional.test_migration_change_seq import add_note, migrating_app, rows  # noqa: F401
from tests.support.migrations import revision_before
from webapp.extensions import db

BEFORE = revision_before("i8ph_colour_purposes")


def columns() -> set[str]:
    return {c["name"] for c in db.inspect(db.engine).get_columns("classrooms")}


def test_purposes_migration_keeps_rows_up_and_down(migrating_app):  # noqa: F811
    add_note(1)
    downgrade(revision=BEFORE)
    assert "colour_purposes" not in columns()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO classrooms (name, join_code, created_at) "
            "VALUES ('Legacy', 'LEGACY01', CURRENT_TIMESTAMP)"
        )
        (classroom_id,) = connection.exec_driver_sql("SELECT id FROM classrooms").one()
        (user_id,) = connection.exec_driver_sql("SELECT id FROM users").one()
        connection.exec_driver_sql(
            "INSERT INTO memberships (classroom_id, user_id, role, joined_at) "
            f"VALUES ({classroom_id}, {user_id}, 'instructor', CURRENT_TIMESTAMP)"
        )
    classes = rows("SELECT id, name, join_code FROM classrooms")
    members = rows("SELECT id, classroom_id, user_id, role FROM memberships")

    upgrade()
    assert "colour_purposes" in columns()
    assert rows("SELECT id, name, join_code FROM classrooms") == classes
    assert rows("SELECT colour_purposes FROM classrooms") == [(None,)]
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            """UPDATE classrooms SET colour_purposes = '{"blue": "Source?"}'"""
        )

    downgrade(revision=BEFORE)
    assert "colour_purposes" not in columns()
    assert rows("SELECT id, name, join_code FROM classrooms") == classes
    assert rows("SELECT id, classroom_id, user_id, role FROM memberships") == members
    assert len(rows("SELECT id FROM annotations")) == 1
    upgrade()
