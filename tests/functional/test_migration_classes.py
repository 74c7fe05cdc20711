"""The migration that adds groups, the assignment mode, archived classes and flag reviews
keeps every row, on SQLite and PostgreSQL, up and down: assignments made before it are
read by the whole class, classes are not archived, flags keep their reasons."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.functional.test_migration_change_seq import add_note, migrating_app, rows  # noqa: F401
from tests.support.migrations import revision_before
from webapp.extensions import db

REVISION = "i9cls_roles_groups_archive"
BEFORE = revision_before(REVISION)


def table(name: str) -> sa.Table:
    """The table as the database has it now (written through, never through the models)."""
    return sa.Table(name, sa.MetaData(), autoload_with=db.engine)


def test_classes_migration_keeps_rows_up_and_down(migrating_app):  # noqa: F811
    add_note(1)
    downgrade(revision=BEFORE)
    assert "class_groups" not in sa.inspect(db.engine).get_table_names()
    user_id, annotation_id, document_id = rows(
        "SELECT author_id, id, document_id FROM annotations ORDER BY id"
    )[0]
    with db.engine.begin() as connection:
        classroom_id = connection.execute(
            table("classrooms")
            .insert()
            .values(name="Old class", join_code="OLDCODE1", created_at=sa.func.now())
        ).inserted_primary_key[0]
        connection.execute(
            table("memberships")
            .insert()
            .values(
                classroom_id=classroom_id,
                user_id=user_id,
                role="instructor",
                joined_at=sa.func.now(),
            )
        )
        connection.execute(
            table("assignments")
            .insert()
            .values(classroom_id=classroom_id, document_id=document_id, created_at=sa.func.now())
        )
        connection.execute(
            table("flags")
            .insert()
            .values(
                annotation_id=annotation_id,
                user_id=user_id,
                reason="Old reason",
                created_at=sa.func.now(),
            )
        )

    upgrade()
    assert rows("SELECT name, archived_at FROM classrooms") == [("Old class", None)]
    assert rows("SELECT mode FROM assignments") == [("class",)]
    assert rows("SELECT reason, resolved_at, resolved_by_id, outcome FROM flags") == [
        ("Old reason", None, None, None)
    ]
    with db.engine.begin() as connection:
        group_id = connection.execute(
            table("class_groups")
            .insert()
            .values(classroom_id=classroom_id, name="G", created_at=sa.func.now())
        ).inserted_primary_key[0]
        connection.execute(
            table("group_members")
            .insert()
            .values(group_id=group_id, classroom_id=classroom_id, user_id=user_id)
        )
        connection.exec_driver_sql(
            "UPDATE flags SET outcome = 'kept', resolved_at = CURRENT_TIMESTAMP, "
            f"resolved_by_id = {user_id}"
        )
        connection.exec_driver_sql("UPDATE classrooms SET archived_at = CURRENT_TIMESTAMP")

    downgrade(revision=BEFORE)
    assert "group_members" not in sa.inspect(db.engine).get_table_names()
    assert rows("SELECT name FROM classrooms") == [("Old class",)]
    assert len(rows("SELECT id FROM assignments")) == 1
    assert rows("SELECT reason FROM flags") == [("Old reason",)]
    assert len(rows("SELECT id FROM memberships")) == 1
    assert len(rows("SELECT id FROM annotations")) == 1
    upgrade()
    assert rows("SELECT mode FROM assignments") == [("class",)]
