"""The migration that gives due dates a time and classes a time zone, and adds extensions,
rubrics and score overrides, keeps every row, on SQLite and PostgreSQL, up and down; a
due date stored as a bare date becomes that day's 23:59 in UTC."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.functional.test_migration_change_seq import add_note, migrating_app, rows  # noqa: F401
from tests.support.migrations import revision_before
from webapp.extensions import db

BEFORE = revision_before("i9grd_deadlines_rubrics")
TABLES = {"extensions", "rubrics", "score_overrides"}


def table(name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=db.engine)


def test_deadlines_migration_keeps_rows_and_converts_bare_dates(migrating_app):  # noqa: F811
    add_note(1)
    add_note(2)
    downgrade(revision=BEFORE)
    assert not TABLES & set(sa.inspect(db.engine).get_table_names())
    sqlite = db.engine.dialect.name == "sqlite"
    [(user_id,)] = rows("SELECT id FROM users ORDER BY id LIMIT 1")
    [(document_id,)] = rows("SELECT id FROM documents ORDER BY id LIMIT 1")
    created = datetime(2026, 1, 1, 9)
    classrooms, memberships, assignments = (
        table(n) for n in ("classrooms", "memberships", "assignments")
    )
    # A class per due date: a bare date (midnight), a date and time, none.
    dues = [datetime(2026, 12, 1), datetime(2026, 12, 2, 18, 30), None]
    with db.engine.begin() as connection:
        for n, due in enumerate(dues):
            classroom_id = connection.execute(
                classrooms.insert().values(
                    name=f"Legacy {n}", join_code=f"LEGACY2{n}", created_at=created
                )
            ).inserted_primary_key[0]
            connection.execute(
                memberships.insert().values(
                    classroom_id=classroom_id, user_id=user_id, role="instructor", joined_at=created
                )
            )
            connection.execute(
                assignments.insert().values(
                    classroom_id=classroom_id,
                    document_id=document_id,
                    due_at=due,
                    created_at=created,
                )
            )
    if sqlite:  # a bare date as text, as SQLite may hold one written by hand
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE assignments SET due_at = '2026-12-05' WHERE due_at IS NULL"
            )
    before = rows("SELECT id, classroom_id, document_id FROM assignments ORDER BY id")
    members = rows("SELECT classroom_id, user_id, role FROM memberships ORDER BY id")

    upgrade()
    assert TABLES <= set(sa.inspect(db.engine).get_table_names())
    assert rows("SELECT id, classroom_id, document_id FROM assignments ORDER BY id") == before
    assert rows("SELECT classroom_id, user_id, role FROM memberships ORDER BY id") == members
    assert rows("SELECT time_zone FROM classrooms") == [("UTC",)] * 3
    assignment_table = table("assignments")
    with db.engine.connect() as connection:
        after = (
            connection.execute(sa.select(assignment_table.c.due_at).order_by(assignment_table.c.id))
            .scalars()
            .all()
        )
    expected = [datetime(2026, 12, 1, 23, 59), datetime(2026, 12, 2, 18, 30)]
    expected += [datetime(2026, 12, 5, 23, 59)] if sqlite else [None]
    assert after == expected

    first_assignment = before[0][0]
    with db.engine.begin() as connection:
        connection.execute(
            table("extensions")
            .insert()
            .values(
                assignment_id=first_assignment,
                user_id=user_id,
                due_at=datetime(2026, 12, 9),
                created_at=created,
            )
        )
        connection.execute(
            table("score_overrides")
            .insert()
            .values(
                assignment_id=first_assignment,
                user_id=user_id,
                points=3,
                reason="oral",
                created_at=created,
            )
        )
        connection.exec_driver_sql("UPDATE classrooms SET time_zone = 'Europe/Paris'")

    downgrade(revision=BEFORE)
    assert rows("SELECT id, classroom_id, document_id FROM assignments ORDER BY id") == before
    assert rows("SELECT classroom_id, user_id, role FROM memberships ORDER BY id") == members
    assert len(rows("SELECT id FROM annotations")) == 2
    upgrade()
    assert rows("SELECT time_zone FROM classrooms") == [("UTC",)] * 3
    assert rows("SELECT id, classroom_id, document_id FROM assignments ORDER BY id") == before
