"""A database that cannot be had in time: 503 with Retry-After, nothing changed; and nothing
that happens after a commit turns into a 5xx.

Another connection to the same SQLite file plays the other worker: it holds the write lock
while a request wants it, or takes it the moment the request has committed.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event

from tests.conftest import HTMX
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
from webapp.errors import BUSY_MESSAGE, SAVED_MESSAGE

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
    event.listen(db.session, "after_commit", lambda _session: action(), once=True)


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
    # The schema changes under the running app (as a botched upgrade would) right after the
    # note is committed: drawing the answer fails, but the note is saved, and the answer
    # says so instead of a 5xx that claims nothing was changed.
    after_the_next_commit(db, lambda: other_worker.execute("ALTER TABLE votes RENAME TO gone"))
    before = annotation_count(db)
    db.session.rollback()
    response = create(client, fields, intent="comment", body="saved anyway")
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
