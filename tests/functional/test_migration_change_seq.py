"""The migration that numbers live changes per document keeps every row, on SQLite and
PostgreSQL, up and down: existing changes keep their id as their place in the log (the
cursors of open pages stay valid) and new ones continue after it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import PASSWORD, SEED_SLUG, copy_database, make_config
from tests.support.migrations import revision_before
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.database import write_intent
from webapp.extensions import db
from webapp.models import Document
from webapp.services.accounts import create_user
from webapp.services.annotations import create_annotation

BEFORE = revision_before("i10ops_commit_ordered_changes")


def add_note(n: int) -> None:
    token = write_intent.set(True)
    try:
        user = create_user(db.session, f"migrating{n}", PASSWORD)
        document = db.session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
        version = document.current_version
        start = version.text.index("Hmeimim")
        form = {"start": str(start), "end": str(start + 7), "exact": "Hmeimim", "body": "n"}
        create_annotation(db.session, user, version, form)
        db.session.commit()
    finally:
        write_intent.reset(token)
        db.session.remove()


def rows(query: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(query)]


@pytest.fixture(params=["sqlite", "postgresql"])
def migrating_app(request, tmp_path, migrated_db):
    if request.param == "sqlite":
        copy_database(migrated_db, tmp_path / "test.db")
        app = create_app(make_config(tmp_path))
        with app.app_context():
            yield app
            db.engine.dispose()
        return
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        with app.app_context():
            upgrade()
            app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
            yield app
            db.session.remove()
            db.engine.dispose()


def test_change_seq_migration_keeps_rows_up_and_down(migrating_app):
    add_note(1)
    add_note(2)
    downgrade(revision=BEFORE)
    before = rows("SELECT id, document_id, annotation_id, kind FROM changes ORDER BY id")
    assert len(before) == 2

    upgrade()
    after = rows("SELECT id, document_id, annotation_id, kind, seq FROM changes ORDER BY id")
    assert [row[:4] for row in after] == before
    assert all(row[4] == row[0] for row in after)  # the id is the place in the log
    document_id = before[0][1]
    assert rows("SELECT document_id, last_seq FROM change_counters") == [
        (document_id, max(row[0] for row in before))
    ]
    add_note(3)
    (newest,) = rows("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1")
    assert newest == (max(row[0] for row in before) + 1,)

    downgrade(revision=BEFORE)
    assert len(rows("SELECT id FROM changes")) == 3
    upgrade()
