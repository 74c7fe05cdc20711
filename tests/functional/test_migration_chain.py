"""Every migration keeps every row, on SQLite and PostgreSQL, up and down.

A database is built at the first revision with rows in every table (plain SQL written for
that revision's schema, not today's models), then upgraded one revision at a time to the
head: after each step no table that exists on both sides has fewer rows. Tables a step
creates get a row each (made from the reflected schema), so the next steps carry rows in
them too. Then it goes down one step at a time to the first revision, up again, and down
to base and up, with the same check. The revisions are read from migrations/, so a new
migration is covered without touching this file.

On SQLite a batch migration rebuilds a table (create, copy, drop, rename); with foreign
keys on, dropping the old table deletes every row pointing at it (ON DELETE CASCADE).
migrations/env.py turns them off while migrating: the last test adds a migration that
rebuilds tables that others refer to and checks that their children stay.
"""

from __future__ import annotations

import datetime
import shutil

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import PROJECT_ROOT, make_config
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.extensions import db

MIGRATIONS = PROJECT_ROOT / "migrations"

# The first revision's tables, with rows that exercise what later migrations touch: names
# that differ only in case (one username key later), a private and a class note, a hidden
# one, a document with its current version.
FIRST_REVISION_ROWS = [
    "INSERT INTO users (username, password_hash, created_at) VALUES"
    " ('Alice', 'hash', '2026-01-01 10:00:00'),"
    " ('bob', 'hash', '2026-01-01 10:00:00'),"
    " ('Kate', 'hash', '2026-01-01 10:00:00'),"
    " ('KATE', 'hash', '2026-01-02 10:00:00')",
    "INSERT INTO classrooms (name, join_code, created_at) VALUES"
    " ('Reading group', 'JOIN1', '2026-01-01 10:00:00'),"
    " ('Seminar', 'JOIN2', '2026-01-01 10:00:00')",
    "INSERT INTO documents (slug, source_name, created_at, current_version_id) VALUES"
    " ('first', 'first.md', '2026-01-01 10:00:00', NULL),"
    " ('second', 'second.md', '2026-01-01 10:00:00', NULL)",
    "INSERT INTO document_versions (document_id, number, title, byline, published,"
    " published_text, source_url, body_markdown, body_html, text, content_hash, created_at)"
    " SELECT id, 1, 'Title ' || slug, 'By someone', '2026-01-01', 'January 1, 2026',"
    " 'https://example.org/' || slug, 'Some text here.', '<p>Some text here.</p>',"
    " 'Some text here.', 'hash-' || slug, '2026-01-01 10:00:00' FROM documents",
    "INSERT INTO document_versions (document_id, number, title, body_markdown, body_html,"
    " text, content_hash, created_at)"
    " SELECT id, 2, 'Edited', 'Other text.', '<p>Other text.</p>', 'Other text.',"
    " 'hash2-' || slug, '2026-01-02 10:00:00' FROM documents WHERE slug = 'first'",
    "UPDATE documents SET current_version_id = (SELECT max(v.id) FROM document_versions v"
    " WHERE v.document_id = documents.id)",
    "INSERT INTO memberships (classroom_id, user_id, role, joined_at)"
    " SELECT c.id, u.id, CASE WHEN u.username = 'Alice' THEN 'instructor' ELSE 'student' END,"
    " '2026-01-01 11:00:00' FROM classrooms c, users u WHERE c.join_code = 'JOIN1'",
    'INSERT INTO annotations (document_id, version_id, author_id, classroom_id, start, "end",'
    " exact, prefix, suffix, colour, body_markdown, body_html, created_at, updated_at,"
    " deleted_at, hidden, hidden_reason, pinned)"
    " SELECT v.document_id, v.id, u.id, c.id, 5, 9, 'text', 'Some ', ' here.', 'yellow',"
    " 'A note by ' || u.username, '<p>A note</p>', '2026-01-03 10:00:00',"
    " '2026-01-03 10:00:00', NULL, FALSE, NULL, FALSE"
    " FROM document_versions v, users u, classrooms c WHERE v.number = 1"
    " AND c.join_code = 'JOIN1'",
    'INSERT INTO annotations (document_id, version_id, author_id, classroom_id, start, "end",'
    " exact, prefix, suffix, colour, body_markdown, body_html, created_at, updated_at,"
    " deleted_at, hidden, hidden_reason, pinned)"
    " SELECT v.document_id, v.id, u.id, NULL, 0, 4, 'Some', '', ' text', 'green',"
    " '', '', '2026-01-03 10:00:00', '2026-01-03 10:00:00', '2026-01-04 10:00:00',"
    " TRUE, 'off topic', TRUE FROM document_versions v, users u WHERE v.number = 1",
]


def revisions(directory=MIGRATIONS) -> list[str]:
    """The revisions from the first to the head, read from the migrations folder."""
    script = ScriptDirectory(str(directory))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations have several heads, chain them: {heads}"
    chain = [revision.revision for revision in script.walk_revisions()]
    return list(reversed(chain))


def row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return {
            table: connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(table))
            ).scalar_one()
            for table in tables
            if table != "alembic_version"
        }


def value_for(column: sa.Column, connection) -> object:
    """A plain value of the column's type; for a foreign key, a row that exists (or None)."""
    for key in column.foreign_keys:
        target = key.column
        return connection.execute(
            sa.select(target).select_from(target.table).limit(1)
        ).scalar_one_or_none()
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime):
        return datetime.datetime(2026, 1, 5, 10, 0)
    if isinstance(kind, sa.Date):
        return datetime.date(2026, 1, 5)
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.String | sa.Text):
        return "x"
    if isinstance(kind, sa.LargeBinary | sa.BLOB):
        return b"x"
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def fill_empty_tables() -> None:
    """One row in each table that has none, from the schema as it is now (reflected, so a
    future table is filled too). Tables whose required references are still empty wait
    for the next round."""
    for _ in range(10):
        waiting = []
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            for (
                table
            ) in metadata.tables.values():  # unsorted: documents and versions refer to each other
                if (
                    table.name == "alembic_version"
                    or connection.execute(
                        sa.select(sa.func.count()).select_from(table)
                    ).scalar_one()
                ):
                    continue
                row = {}
                for column in table.columns:
                    if (
                        column.primary_key
                        and column.autoincrement is not False
                        and not (column.foreign_keys)
                    ):
                        if isinstance(column.type, sa.Integer):
                            continue  # the database numbers it
                    row[column.name] = value_for(column, connection)
                if any(
                    value is None and not table.columns[name].nullable
                    for name, value in row.items()
                ):
                    waiting.append(table.name)
                    continue
                connection.execute(table.insert().values(row))
        if not waiting:
            return
    raise AssertionError(f"could not fill {waiting}")


def step(revision: str, directory, down: bool = False) -> None:
    """Migrate to `revision` and check that no table kept on both sides lost a row."""
    before = row_counts()
    (downgrade if down else upgrade)(directory=str(directory), revision=revision)
    after = row_counts()
    lost = {
        table: (before[table], after[table])
        for table in before.keys() & after.keys()
        if after[table] < before[table]
    }
    assert not lost, f"{'down' if down else 'up'}grading to {revision} lost rows: {lost}"


def texts() -> dict[str, list]:
    """What the first revision's rows said, for a last comparison."""
    with db.engine.connect() as connection:
        return {
            "users": sorted(connection.exec_driver_sql("SELECT username FROM users").scalars()),
            "annotations": sorted(
                connection.exec_driver_sql("SELECT body_markdown FROM annotations").scalars()
            ),
        }


def walk_every_migration(directory=MIGRATIONS) -> None:
    chain = revisions(directory)
    upgrade(directory=str(directory), revision=chain[0])
    with db.engine.begin() as connection:
        for statement in FIRST_REVISION_ROWS:
            connection.exec_driver_sql(statement)
    fill_empty_tables()
    first = texts()
    assert all(row_counts().values()), row_counts()

    for revision in chain[1:]:
        step(revision, directory)
        fill_empty_tables()
    assert all(row_counts().values()), row_counts()  # rows in every table at the head too
    for revision in reversed(chain[:-1]):
        step(revision, directory, down=True)
    for revision in chain[1:]:
        step(revision, directory)
        fill_empty_tables()
    assert texts() == first

    downgrade(directory=str(directory), revision="base")
    assert row_counts() == {}
    upgrade(directory=str(directory))
    assert set(row_counts()) == set(db.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    if request.param == "sqlite":
        app = create_app(make_config(tmp_path))
        with app.app_context():
            yield app
            db.engine.dispose()
        return
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        with app.app_context():
            yield app
            db.engine.dispose()


def test_every_migration_keeps_every_row_up_and_down(empty_app):
    walk_every_migration()


REBUILD = '''"""rebuild tables that others refer to (a test migration)"""
from alembic import op

revision = "test_rebuild_referenced"
down_revision = {head!r}
branch_labels = None
depends_on = None


def rebuild():
    # Every row pointing at these is deleted with them (ON DELETE CASCADE) if foreign
    # keys are on: the loss would be silent.
    for table in ("annotations", "classrooms"):
        with op.batch_alter_table(table, recreate="always"):
            pass


def upgrade():
    rebuild()


def downgrade():
    rebuild()
'''


def test_a_sqlite_migration_that_rebuilds_referenced_tables_keeps_their_children(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = revisions()[-1]
    (directory / "versions" / "test_rebuild_referenced.py").write_text(REBUILD.format(head=head))
    app = create_app(make_config(tmp_path))
    with app.app_context():
        walk_every_migration(directory)
        db.engine.dispose()
