"""A database that cannot be had in time: 503 with Retry-After, nothing changed; and nothing
that happens after a commit turns into a 5xx.

Another connection to the same SQLite file plays the other worker: it holds the write lock
while a request wants it, or takes it the moment the request has committed.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import event

from tests.conftest import HTMX, PASSWORD, make_config
from tests.functional.helpers import (
    annotation_count,
    create,
    current_version,
    fetch_annotation,
    latest_annotation,
    page,
    parse,
    select,
)
from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp import create_app
from webapp.database import write_intent
from webapp.errors import BUSY_MESSAGE, SAVED_MESSAGE
from webapp.extensions import db as _db
from webapp.services.classes import create_class

PHRASE = "Hmeimim military base"


@pytest.fixture
def app_config():
    # Answer as in production (no exception passed through to the test), and give up on
    # the lock quickly.
    return {"SQLITE_BUSY_TIMEOUT_MS": 50, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def other_worker(tmp_path):
    connection = sqlite3.connect(tmp_path / "test.db", isolation_level=None, timeout=5)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


@pytest.fixture
def fields(db):
    return select(current_version(db).text, PHRASE)


@pytest.fixture
def alice(auth, db):
    user = auth.login("alice")
    db.session.rollback()  # the test's own reads end here: requests start their own
    return user


def after_the_next_commit(db, action) -> None:
    """`action` right after the next commit of a write transaction (a note's create first
    ends a transaction that only read, without the write lock)."""
    writing, done = [], []

    def then(_session) -> None:
        if writing.pop() and not done:
            done.append(True)
            action()

    event.listen(db.session, "before_commit", lambda _session: writing.append(write_intent.get()))
    event.listen(db.session, "after_commit", then)


def assert_busy(response, htmx: bool) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert response.headers["Retry-After"] == "1"
    assert BUSY_MESSAGE in parse(html).text()
    if htmx:
        assert response.headers["HX-Retarget"] == "#flash"
        assert parse(html).find("p", role="alert") is not None


def test_a_write_that_cannot_get_the_lock_is_a_503_and_changes_nothing(
    client, db, alice, fields, other_worker
):
    before = annotation_count(db)
    db.session.rollback()
    other_worker.execute("BEGIN IMMEDIATE")
    assert_busy(create(client, fields, intent="comment", body="busy"), htmx=True)
    assert_busy(create(client, fields, htmx=False, intent="comment", body="busy"), htmx=False)
    other_worker.execute("ROLLBACK")
    assert annotation_count(db) == before

    # Once the lock is free, the same write goes through.
    db.session.rollback()
    assert create(client, fields, intent="comment", body="free").status_code == 200
    assert annotation_count(db) == before + 1


def test_an_edit_that_cannot_get_the_lock_keeps_the_old_text(
    client, db, alice, fields, other_worker
):
    assert create(client, fields, intent="comment", body="first").status_code == 200
    note = latest_annotation(db)
    db.session.rollback()
    other_worker.execute("BEGIN IMMEDIATE")
    response = client.post(f"/annotations/{note.id}/edit", data={"body": "second"}, headers=HTMX)
    assert_busy(response, htmx=True)
    other_worker.execute("ROLLBACK")
    assert fetch_annotation(db, note.id).body_markdown == "first"


def test_a_lock_taken_right_after_the_commit_does_not_fail_the_answer(
    client, db, alice, fields, other_worker
):
    # What the view reads to draw its answer, after the commit, does not wait for the
    # write lock: the saved note's card and marks come back, never "nothing was changed".
    after_the_next_commit(db, lambda: other_worker.execute("BEGIN IMMEDIATE"))
    response = create(client, fields, intent="comment", body="kept")
    assert response.status_code == 200, response.get_data(as_text=True)
    note = latest_annotation(db)
    assert note.body_markdown == "kept"
    assert page(response).by_id(f"annotation-{note.id}") is not None
    other_worker.execute("ROLLBACK")

    db.session.rollback()
    after_the_next_commit(db, lambda: other_worker.execute("BEGIN IMMEDIATE"))
    response = client.post(f"/annotations/{note.id}/edit", data={"body": "edited"}, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "edited" in page(response).by_id(f"annotation-{note.id}").text()
    other_worker.execute("ROLLBACK")
    assert fetch_annotation(db, note.id).body_markdown == "edited"


def test_a_failure_after_the_commit_says_the_change_was_saved(
    client, db, alice, fields, other_worker
):
    # The schema changes under the running app (as a botched upgrade would) right after an
    # edit is committed: drawing the answer fails, but the edit is saved, and the answer
    # says so instead of a 5xx that claims nothing was changed.
    assert create(client, fields, intent="comment", body="a").status_code == 200
    note = latest_annotation(db)
    db.session.rollback()
    after_the_next_commit(
        db, lambda: other_worker.execute("ALTER TABLE memberships RENAME TO gone")
    )
    response = client.post(f"/annotations/{note.id}/edit", data={"body": "b"}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#flash"
    assert SAVED_MESSAGE in parse(response.get_data(as_text=True)).text()
    assert fetch_annotation(db, note.id).body_markdown == "b"


def test_a_new_note_failing_after_its_commit_says_it_was_saved(
    client, db, alice, fields, other_worker
):
    # A new note's answer is drawn from a read after its commit where nothing read before
    # says what it draws (an instructor's class view keeps no shared view): a schema change
    # right then fails the drawing, not the note, and the answer says so.
    classroom = create_class(db.session, alice, "Seminar")
    db.session.commit()
    key = f"class-{classroom.id}"
    before = annotation_count(db)
    db.session.rollback()
    after_the_next_commit(
        db, lambda: other_worker.execute("ALTER TABLE memberships RENAME TO gone")
    )
    response = create(
        client, fields, intent="comment", body="saved anyway", audience=key, context=key
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#flash"
    assert SAVED_MESSAGE in parse(response.get_data(as_text=True)).text()
    assert annotation_count(db) == before + 1


def test_without_javascript_a_failure_after_the_commit_goes_back_saying_saved(
    client, db, alice, other_worker
):
    # Creating a class reads its name after the commit, for the confirmation.
    after_the_next_commit(db, lambda: other_worker.execute("ALTER TABLE classrooms RENAME TO gone"))
    response = client.post(
        "/classes", data={"name": "Kept class"}, headers={"Referer": "http://localhost/classes"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/classes"
    with client.session_transaction() as session:
        assert ("info", SAVED_MESSAGE) in session["_flashes"]
    assert other_worker.execute("SELECT name FROM gone").fetchall() == [("Kept class",)]


def test_a_database_error_that_is_not_contention_stays_a_logged_500(
    client, db, alice, fields, other_worker, caplog
):
    other_worker.execute("ALTER TABLE annotations RENAME TO gone")
    db.session.rollback()
    response = create(client, fields, intent="comment", body="lost")
    assert response.status_code == 500
    assert "nothing was changed" in response.get_data(as_text=True)
    assert "Retry-After" not in response.headers
    assert any("no such table: annotations" in str(r.exc_info) for r in caplog.records)


def test_on_postgresql_a_lock_timeout_is_a_503_that_changes_nothing(
    tmp_path,
    postgres_url,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    config = make_config(tmp_path, PROPAGATE_EXCEPTIONS=False)
    del config["SQLALCHEMY_DATABASE_URI"]
    # The operator's bound on waiting for a lock, as for SQLite's busy timeout.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c lock_timeout=200"}}
    app = create_app(config)
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"])
        client = app.test_client()
        client.post("/signup", data={"username": "pg-busy", "password": PASSWORD})
        fields = select(current_version(_db).text, PHRASE)
        _db.session.rollback()
        with psycopg.connect(postgres_url) as other_worker:
            other_worker.execute("LOCK TABLE annotations IN EXCLUSIVE MODE")
            response = create(client, fields, intent="comment", body="busy")
            assert_busy(response, htmx=True)
        assert annotation_count(_db) == 0
        assert create(client, fields, intent="comment", body="free").status_code == 200
        _db.session.remove()
        _db.engine.dispose()
