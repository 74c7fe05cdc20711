"""The migration for articles from the browser (owners, archive, share links, version
authors, original quotes, drafts) on a database full of rows, up and down, on SQLite and
PostgreSQL: every row stays; each annotation's original quote is its quote at the time."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import make_config
from tests.functional.test_postgres import postgres_url  # noqa: F401 - the fixture
from tests.support.migrations import revision_before
from webapp import create_app
from webapp.extensions import db

BEFORE = revision_before("i7web_article_owners")
REVISION = "i7web_article_owners"
TABLES = (
    "users",
    "documents",
    "document_versions",
    "annotations",
    "replies",
    "votes",
    "annotation_tags",
    "assignments",
    "classrooms",
    "memberships",
    "changes",
)


def fill(connection) -> None:
    """Rows in every table the migration touches or that refers to one it rebuilds."""
    run = connection.exec_driver_sql
    for id_, name in ((1, "ann"), (2, "bob")):
        run(
            "INSERT INTO users (id, username, username_key, password_hash, created_at) "
            f"VALUES ({id_}, '{name}', '{name}', '!', '2026-01-01')"
        )
    run(
        "INSERT INTO documents (id, slug, source_name, created_at) "
        "VALUES (1, 'a-doc', 'a.md', '2026-01-01')"
    )
    for number in (1, 2):
        run(
            "INSERT INTO document_versions (id, document_id, number, title, body_markdown, "
            "body_html, text, content_hash, created_at) VALUES "
            f"({number}, 1, {number}, 'A doc', 'Hello world.', '<p>Hello world.</p>', "
            f"'Hello world.', 'h{number}', '2026-01-01')"
        )
    run("UPDATE documents SET current_version_id = 2 WHERE id = 1")
    run(
        "INSERT INTO classrooms (id, name, join_code, created_at) "
        "VALUES (1, 'C', 'ABCDEFGH', '2026-01-01')"
    )
    run(
        "INSERT INTO memberships (id, classroom_id, user_id, role, joined_at) "
        "VALUES (1, 1, 1, 'instructor', '2026-01-01')"
    )
    run(
        "INSERT INTO assignments (id, classroom_id, document_id, created_at) "
        "VALUES (1, 1, 1, '2026-01-01')"
    )
    quotes = [(1, 2, 0, 5, "Hello", "", " world."), (2, None, 6, 11, "world", "Hello ", ".")]
    for id_, version, start, end, exact, prefix, suffix in quotes:
        run(
            "INSERT INTO annotations (id, document_id, version_id, author_id, classroom_id, "
            '"start", "end", exact, prefix, suffix, colour, body_markdown, body_html, '
            "created_at, updated_at, hidden, pinned, is_question) VALUES "
            f"({id_}, 1, {version or 'NULL'}, 1, 1, {start}, {end}, '{exact}', '{prefix}', "
            f"'{suffix}', 'yellow', 'note', '<p>note</p>', '2026-01-01', '2026-01-01', "
            "false, false, false)"
        )
    run(
        "INSERT INTO replies (id, annotation_id, author_id, body_markdown, body_html, "
        "created_at, updated_at, hidden) VALUES (1, 1, 2, 'r', '<p>r</p>', '2026-01-01', "
        "'2026-01-01', false)"
    )
    run("INSERT INTO votes (id, annotation_id, user_id, created_at) VALUES (1, 1, 2, '2026-01-01')")
    run("INSERT INTO annotation_tags (id, annotation_id, name) VALUES (1, 1, 'tag')")
    run(
        "INSERT INTO changes (id, seq, document_id, classroom_id, annotation_id, actor_id, "
        "kind, created_at) VALUES (1, 1, 1, 1, 1, 1, 'created', '2026-01-01')"
    )


def counts(connection) -> dict[str, int]:
    return {
        table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
        for table in TABLES
    }


def round_trip(app, capfd) -> None:
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            fill(connection)
            before = counts(connection)
        upgrade()
        with db.engine.connect() as connection:
            assert counts(connection) == before
            rows = connection.exec_driver_sql(
                "SELECT id, exact, prefix, suffix, original_exact, original_prefix, "
                "original_suffix, version_id FROM annotations ORDER BY id"
            ).all()
            assert [tuple(r[1:4]) for r in rows] == [tuple(r[4:7]) for r in rows]
            assert [r.version_id for r in rows] == [2, None]
            owners = connection.exec_driver_sql("SELECT owner_id, archived_at FROM documents")
            assert owners.all() == [(None, None)]
            assert (
                connection.exec_driver_sql("SELECT current_version_id FROM documents").scalar() == 2
            )
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            assert counts(connection) == before
            columns = {c["name"] for c in sa.inspect(connection).get_columns("annotations")}
            assert "original_exact" not in columns
        # Up again, and an article with an owner: going down would make it public, refused.
        upgrade()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE documents SET owner_id = 1")
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            downgrade(revision=BEFORE)
        assert "this downgrade would make them public" in capfd.readouterr().err
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT owner_id FROM documents").scalar() == 1
            assert counts(connection) == before
        db.session.remove()
        db.engine.dispose()


def test_sqlite_up_and_down_keeps_every_row(tmp_path, capfd):
    round_trip(create_app(make_config(tmp_path)), capfd)


def test_postgres_up_and_down_keeps_every_row(tmp_path, postgres_url, monkeypatch, capfd):  # noqa: F811
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path)
    del config["SQLALCHEMY_DATABASE_URI"]
    round_trip(create_app(config), capfd)
