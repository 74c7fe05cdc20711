"""`flask backup` and `flask restore` on SQLite and PostgreSQL: what they refuse, what
they bring back, and the schema upgraded to head afterwards."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import make_config
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.extensions import db as _db
from webapp.services.accounts import create_user
from webapp.services.health import migration_heads

HEAD_BEFORE = "567d4d9c6010"  # the head before this branch's migration


def heads_of(path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    connection.close()
    return [row[0] for row in rows]


def fresh_app(tmp_path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    return create_app(make_config(folder)), folder / "test.db"


def test_backup_then_restore_into_a_new_instance(app, db, runner, tmp_path):
    create_user(db.session, "kept", "correct horse battery")
    db.session.commit()
    result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert "1 articles, 0 notes, 1 accounts" in result.output
    assert "instance/secret_key" in result.output

    other, path = fresh_app(tmp_path, "other")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "copy.db")])
        _db.engine.dispose()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as restored:
        assert restored.execute("SELECT username FROM users").fetchall() == [("kept",)]
    restored.close()


def test_restore_refuses_to_replace_data_without_force(app, db, runner, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "copy.db")]).exit_code == 0
    create_user(db.session, "after-the-backup", "correct horse battery")
    db.session.commit()
    db.session.remove()

    result = runner.invoke(args=["restore", str(tmp_path / "copy.db")])
    assert result.exit_code == 1
    assert "already holds a database; add --force" in result.output
    assert _db.session.scalar(sa.text("SELECT count(*) FROM users")) == 1
    _db.session.remove()

    result = runner.invoke(args=["restore", "--force", str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert _db.session.scalar(sa.text("SELECT count(*) FROM users")) == 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"not a database at all" * 100), "is not a SQLite database"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)"), "not a Marginalia database"),
    ],
)
def test_restore_refuses_what_is_not_a_marginalia_database(app, runner, tmp_path, make, message):
    other, path = fresh_app(tmp_path, "other")
    make(tmp_path / "bad.db")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "bad.db")])
    assert result.exit_code == 1
    assert message in result.output
    assert not path.exists()


def test_restore_refuses_an_unknown_migration(app, runner, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "copy.db")]).exit_code == 0
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        copy.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    copy.close()
    other, path = fresh_app(tmp_path, "other")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "copy.db")])
    assert result.exit_code == 1
    assert "from_the_future, which this version of Marginalia does not know" in result.output


def test_restoring_an_older_backup_upgrades_it_to_head(app, db, runner, tmp_path):
    db.session.remove()
    downgrade(revision=HEAD_BEFORE)
    assert runner.invoke(args=["backup", str(tmp_path / "old.db")]).exit_code == 0
    assert heads_of(tmp_path / "old.db") == [HEAD_BEFORE]
    other, path = fresh_app(tmp_path, "other")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "old.db")])
        heads = set(_db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
        _db.session.remove()
        _db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert heads == migration_heads(other.extensions["migrate"].directory)
    assert heads_of(path) != [HEAD_BEFORE]


def test_backup_never_overwrites_the_database_itself(app, db, runner):
    result = runner.invoke(args=["backup", db.engine.url.database])
    assert result.exit_code == 1
    assert "would overwrite the database itself" in result.output


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_app(tmp_path, url: str, name: str):
    folder = tmp_path / name
    folder.mkdir()
    uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app(make_config(folder, SQLALCHEMY_DATABASE_URI=uri))


def test_postgres_backup_and_restore_round_trip(tmp_path):
    with throwaway_database() as source_url, throwaway_database() as target_url:
        source = postgres_app(tmp_path, source_url, "source")
        with source.app_context():
            upgrade()
            create_user(_db.session, "pg-kept", "correct horse battery")
            _db.session.commit()
            _db.session.remove()
            result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "pg.dump")])
            _db.engine.dispose()
        assert result.exit_code == 0, result.output
        assert "pg_dump --format=custom" in result.output

        target = postgres_app(tmp_path, target_url, "target")
        with target.app_context():
            runner = target.test_cli_runner()
            result = runner.invoke(args=["restore", str(tmp_path / "pg.dump")])
            assert result.exit_code == 0, result.output
            again = runner.invoke(args=["restore", str(tmp_path / "pg.dump")])
            assert again.exit_code == 1
            assert "add --force" in again.output
            forced = runner.invoke(args=["restore", "--force", str(tmp_path / "pg.dump")])
            assert forced.exit_code == 0, forced.output
            _db.engine.dispose()
        with psycopg.connect(target_url) as connection:
            users = connection.execute("SELECT username FROM users").fetchall()
        assert users == [("pg-kept",)]


def test_postgres_backup_without_pg_dump_says_what_to_run(tmp_path, monkeypatch):
    with throwaway_database() as url:
        app = postgres_app(tmp_path, url, "app")
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.dump")])
            _db.engine.dispose()
    assert result.exit_code == 1
    assert "pg_dump is not installed here; run this where it is:" in result.output
    expected = f"pg_dump --format=custom --no-owner --file={tmp_path / 'x.dump'} {url}"
    assert expected in result.output
    assert not (tmp_path / "x.dump").exists()
