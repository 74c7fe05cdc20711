"""Database faults answer 503, not 500: a full disk (SQLite on a small tmpfs filled to the
last byte), a read-only PostgreSQL database, connections the PostgreSQL server ended, and
a dropped database. Writes are refused with Retry-After and a clear message and change
nothing; reads go on where the database still answers; the error page needs no database;
the log has one line per kind of fault and one when writes work again; and the repaired
database serves the next request without a restart.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3

import psycopg
import pytest
from flask import g
from flask_migrate import upgrade

from tests.conftest import HTMX, PASSWORD, SEED_SLUG, copy_database, make_config
from tests.functional.helpers import (
    annotation_count,
    create,
    current_version,
    fetch_annotation,
    latest_annotation,
    parse,
    select,
)
from tests.support.disks import fill, postgres_database_on_small_disk, tmpfs
from tests.support.postgres import ADMIN_URL
from tests.support.postgres import postgres_app as seeded_postgres_app
from webapp import create_app
from webapp.errors import FAULT_MESSAGE, FAULT_READ_MESSAGE, FAULT_RETRY_AFTER_SECONDS
from webapp.extensions import db as _db

PHRASE = "Hmeimim military base"
ARTICLE = f"/articles/{SEED_SLUG}"


def fresh_login_cache(app) -> None:
    @app.before_request
    def _fresh_login_cache():
        # Requests share the test's app context (and so `g`), as in tests/conftest.py.
        g.pop("_login_user", None)


def sign_up(client, username: str) -> None:
    response = client.post("/signup", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def assert_refused(response, htmx: bool = True, message: str = FAULT_MESSAGE) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:1000]
    assert response.headers["Retry-After"] == str(FAULT_RETRY_AFTER_SECONDS)
    assert message in parse(html).text()
    assert "Internal Server Error" not in html
    if htmx:
        assert response.headers["HX-Retarget"] == "#flash"
        assert parse(html).find("p", role="alert") is not None
    else:
        assert "<h1>503</h1>" in html  # the whole error page, drawn without the database
    return html


def fault_lines(caplog, kind: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"Database fault ({kind})" in r.getMessage()]


def assert_one_line_per_fault(caplog, kind: str) -> None:
    lines = fault_lines(caplog, kind)
    assert len([line for line in lines if "is over" not in line]) == 1, lines
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


# --- SQLite: a full disk ---------------------------------------------------------------------


@pytest.fixture
def full_disk_app(tmp_path, migrated_db):
    with tmpfs(tmp_path / "disk") as disk:
        copy_database(migrated_db, disk / "test.db")
        uri = f"sqlite:///{disk / 'test.db'}"
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production
        fresh_login_cache(app)
        app.disk = disk
        with app.app_context():
            yield app
            _db.session.remove()
            _db.engine.dispose()


def test_a_full_disk_refuses_writes_keeps_reads_and_recovers(full_disk_app, caplog):
    caplog.set_level(logging.WARNING)
    client = full_disk_app.test_client()
    sign_up(client, "filler")
    fields = select(current_version(_db).text, PHRASE)
    assert create(client, fields, intent="comment", body="before").status_code == 200
    note = latest_annotation(_db)
    before = annotation_count(_db)
    _db.session.remove()
    filler = fill(full_disk_app.disk)

    assert_refused(create(client, fields, intent="comment", body="on a full disk " * 50))
    page = assert_refused(create(client, fields, htmx=False, intent="comment", body="full"), False)
    assert "Signed in as" in page and "filler" in page  # the user was loaded before the fault
    edit = client.post(f"/annotations/{note.id}/edit", data={"body": "x" * 4000}, headers=HTMX)
    assert_refused(edit)
    assert client.get(ARTICLE).status_code == 200  # reads need no space
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "is full" in " ".join(health.get_json()["problems"])
    assert annotation_count(_db) == before
    assert fetch_annotation(_db, note.id).body_markdown == "before"
    _db.session.remove()
    assert_one_line_per_fault(caplog, "disk full")

    os.remove(filler)
    assert create(client, fields, intent="comment", body="after").status_code == 200
    assert annotation_count(_db) == before + 1
    assert client.get("/healthz").status_code == 200
    assert fault_lines(caplog, "disk full")[-1].endswith("is over: writes succeed again.")


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres_app(tmp_path):
    with seeded_postgres_app(tmp_path, PROPAGATE_EXCEPTIONS=False) as app:
        yield app


def admin(statement: str, *params) -> list[tuple]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def end_app_connections(name: str) -> int:
    """End every connection to the database but this one, as a server restart would."""
    (ended,) = admin(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        name,
    )
    return ended[0]


def test_postgres_connections_the_server_ended_cost_no_request_an_error(postgres_app):
    client = postgres_app.test_client()
    sign_up(client, "restarted")
    fields = select(current_version(_db).text, PHRASE)
    _db.session.remove()
    assert create(client, fields, intent="comment", body="before").status_code == 200
    # Requests here share the test's app context: end each as a server's request ends,
    # with the connection back in the pool.
    _db.session.remove()
    assert end_app_connections(postgres_app.database_name) >= 1

    # Each pooled connection is checked before use, and replaced: no 500, no 503.
    assert create(client, fields, intent="comment", body="after").status_code == 200
    _db.session.remove()
    assert end_app_connections(postgres_app.database_name) >= 1
    assert client.get(ARTICLE).status_code == 200
    assert annotation_count(_db) == 2


def test_postgres_read_only_refuses_writes_keeps_reads_and_recovers_without_restart(
    postgres_app, caplog
):
    caplog.set_level(logging.WARNING)
    name = postgres_app.database_name
    client = postgres_app.test_client()
    sign_up(client, "standby")
    fields = select(current_version(_db).text, PHRASE)
    _db.session.remove()
    admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    end_app_connections(name)  # the setting applies to the connections opened from now on

    for _ in range(3):
        assert_refused(create(client, fields, intent="comment", body="read-only"))
    assert client.get(ARTICLE).status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["problems"] == ["the PostgreSQL database is read-only"]
    assert_one_line_per_fault(caplog, "read-only")
    assert annotation_count(_db) == 0
    _db.session.remove()

    # Writable again: the connections opened read-only are not used again.
    admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    assert create(client, fields, intent="comment", body="writable").status_code == 200
    assert annotation_count(_db) == 1
    assert "is over" in fault_lines(caplog, "read-only")[-1]


def test_postgres_database_dropped_under_the_app_is_503_with_a_page_that_needs_no_database(
    postgres_app, caplog
):
    caplog.set_level(logging.WARNING)
    client = postgres_app.test_client()
    sign_up(client, "dropped")
    fields = select(current_version(_db).text, PHRASE)
    _db.session.remove()
    admin(f'DROP DATABASE "{postgres_app.database_name}" WITH (FORCE)')

    assert_refused(create(client, fields, intent="comment", body="into the void"))
    assert_refused(create(client, fields, htmx=False, intent="comment", body="void"), False)
    # A read cannot be served either; its page says so, and offers to log in (the user
    # cannot be loaded without the database).
    response = client.get(ARTICLE)
    page = assert_refused(response, htmx=False, message=FAULT_READ_MESSAGE)
    assert "Log in" in page
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "does not exist" in health.get_json()["problems"][0]
    assert_one_line_per_fault(caplog, "unreachable")


@pytest.fixture
def postgres_small_disk_app(tmp_path):
    with postgres_database_on_small_disk() as (url, disk):
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        app.config["PROPAGATE_EXCEPTIONS"] = False
        fresh_login_cache(app)
        app.disk = disk
        with app.app_context():
            upgrade()
            app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
            yield app
            _db.session.remove()
            _db.engine.dispose()


# Alone: a full tablespace stalls the server's checkpoints, which other tests' drops wait on.
@pytest.mark.serial
def test_postgres_full_disk_refuses_writes_keeps_reads_and_recovers(
    postgres_small_disk_app, caplog
):
    caplog.set_level(logging.WARNING)
    client = postgres_small_disk_app.test_client()
    sign_up(client, "pgfull")
    fields = select(current_version(_db).text, PHRASE)
    _db.session.remove()
    filler = fill(postgres_small_disk_app.disk)
    # Random text does not compress: it needs new pages, which cannot be had.
    body = secrets.token_hex(4000)
    for _ in range(3):
        assert_refused(create(client, fields, intent="comment", body=body))
        _db.session.remove()
    assert client.get(ARTICLE).status_code == 200
    assert annotation_count(_db) == 0
    _db.session.remove()
    assert_one_line_per_fault(caplog, "disk full")
    assert "[53100]" in fault_lines(caplog, "disk full")[0]

    filler.unlink()
    assert create(client, fields, intent="comment", body=body).status_code == 200
    assert annotation_count(_db) == 1
    assert "is over" in fault_lines(caplog, "disk full")[-1]


# --- SQLite: the file's folder gone ----------------------------------------------------------


def test_sqlite_folder_gone_under_the_app_refuses_writes_with_503(tmp_path, migrated_db, caplog):
    caplog.set_level(logging.WARNING)
    folder = tmp_path / "data"
    folder.mkdir()
    copy_database(migrated_db, folder / "test.db")
    app = create_app(
        make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'test.db'}")
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    fresh_login_cache(app)
    with app.app_context():
        client = app.test_client()
        sign_up(client, "unmounted")
        fields = select(current_version(_db).text, PHRASE)
        _db.session.remove()
        folder.rename(tmp_path / "elsewhere")  # as a disk unmounted or a folder moved

        for _ in range(3):
            response = create(client, fields, intent="comment", body="lost")
            assert response.status_code == 503
            assert response.headers["Retry-After"]
            assert "nothing was saved" in response.get_data(as_text=True)
        assert client.get("/healthz").status_code == 503
        assert not folder.exists()
        assert len(fault_lines(caplog, "file gone")) == 1
        _db.session.remove()
        _db.engine.dispose()
    with sqlite3.connect(tmp_path / "elsewhere" / "test.db") as moved:
        assert moved.execute("SELECT count(*) FROM annotations").fetchone() == (0,)
    moved.close()
