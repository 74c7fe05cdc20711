"""GET /healthz, and writes refused when the SQLite file goes away under the app."""

from __future__ import annotations

import os
import sqlite3

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event

from tests.conftest import copy_database, make_config
from tests.functional.helpers import create, current_version, select
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.extensions import db as _db

PHRASE = "Russian forces were needed"


def health(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_healthy_database_answers_200_without_a_session_or_a_user(app, client, auth, db):
    auth.login("health")  # a session cookie is sent along, and must not be used
    db.session.remove()  # the test client shares one session: end the login's transaction
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "sqlite"}
    assert "Set-Cookie" not in response.headers
    assert not [s for s in statements if "users" in s], statements
    assert len(statements) <= 4, statements  # cheap: a few catalogue-sized queries


def test_no_schema_is_503_and_says_to_run_init(tmp_path):
    sqlite3.connect(tmp_path / "test.db").close()  # an empty database file
    app = create_app(make_config(tmp_path))
    status, body = health(app.test_client())
    assert status == 503
    assert body["status"] == "unavailable"
    assert "no schema" in body["problems"][0]
    assert "flask --app webapp init" in body["problems"][0]


def test_missing_file_is_503_and_is_not_created(tmp_path):
    app = create_app(make_config(tmp_path))
    status, body = health(app.test_client())
    assert status == 503
    assert "there is no database file" in body["problems"][0]
    assert not (tmp_path / "test.db").exists()


def test_an_older_migration_is_503_and_says_to_upgrade(app, db, client):
    downgrade(revision="-1")
    status, body = health(client)
    assert status == 503
    assert "flask --app webapp db upgrade" in body["problems"][0]
    upgrade()
    assert health(client)[0] == 200


def test_a_read_only_sqlite_database_is_503(tmp_path, migrated_db):
    copy_database(migrated_db, tmp_path / "test.db")
    uri = f"sqlite:///file:{tmp_path / 'test.db'}?mode=ro&uri=true"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
    status, body = health(app.test_client())
    assert status == 503
    assert "readonly" in " ".join(body["problems"])
    with app.app_context():
        _db.engine.dispose()


def test_a_held_write_lock_is_503_within_seconds(app, client, db):
    path = db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        status, body = health(client)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 503
    assert "locked" in body["problems"][0]
    assert health(client)[0] == 200


def remove_database(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def test_writes_to_a_deleted_file_are_refused_not_acknowledged(app, client, auth, db):
    auth.login("deleted")
    text = current_version(db).text
    db.session.remove()
    assert create(client, select(text, PHRASE)).status_code == 200
    db.session.remove()
    remove_database(db.engine.url.database)

    for _ in range(3):
        response = create(client, select(text, PHRASE))
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert "nothing was saved" in response.get_data(as_text=True)
    page = client.post("/annotations/1/delete")  # a full page, not a fragment
    assert page.status_code == 503
    assert "Saving is paused" in page.get_data(as_text=True)
    status, body = health(client)
    assert status == 503
    assert "no database file" in body["problems"][0]
    assert not os.path.exists(db.engine.url.database)  # not created again behind our back


def test_a_replaced_file_refuses_the_write_in_flight_then_serves_the_new_file(
    app, client, auth, db, tmp_path
):
    auth.login("replaced")
    text = current_version(db).text
    db.session.remove()
    assert create(client, select(text, PHRASE)).status_code == 200
    db.session.remove()
    # An operator puts a copy in place: a new file renamed over the served path.
    path = db.engine.url.database
    copy_database(path, tmp_path / "replacement.db")
    os.replace(tmp_path / "replacement.db", path)

    response = create(client, select(text, PHRASE))
    assert response.status_code == 503  # its transaction began on the old file
    db.session.remove()
    assert create(client, select(text, PHRASE)).status_code == 200
    with sqlite3.connect(path) as served:
        assert served.execute("SELECT count(*) FROM annotations").fetchone() == (2,)
    served.close()


@pytest.fixture
def postgres_app(tmp_path):
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        with app.app_context():
            upgrade()
            _db.engine.dispose()
        app.url = url
        yield app
        with app.app_context():
            _db.engine.dispose()


def test_postgres_healthy_then_read_only(postgres_app):
    client = postgres_app.test_client()
    assert health(client) == (200, {"status": "ok", "database": "postgresql"})
    name = postgres_app.url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_app.url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    with postgres_app.app_context():
        _db.engine.dispose()  # the setting applies to new connections
    status, body = health(client)
    assert status == 503
    assert body["problems"] == ["the PostgreSQL database is read-only"]


def test_postgres_unreachable_is_503(tmp_path):
    uri = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
    status, body = health(app.test_client())
    assert status == 503
    assert body["problems"][0].startswith("the database cannot be used")
