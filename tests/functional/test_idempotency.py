"""A retried write is not a duplicate: a new note or reply sent again with its idempotency
key is answered with the one saved the first time (same card, no second row, no second
change or notification). Keys are unique per author; malformed keys are a clear 422."""

# The fixtures come from test_discussion; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.functional.helpers import create, parse, select
from tests.functional.test_discussion import (
    FIRST,
    SECOND,
    as_,
    body_of,
    class_note,
    note,
    replies_of,
    reply,
    room,
    text,
)
from webapp.models import Annotation, AnnotationTag, Change, Notification, Reply, utcnow
from webapp.services.idempotency import insert_once


def key() -> str:
    return str(uuid.uuid4())


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def a_reply(room, class_note, body: str, sent: str) -> Reply:
    """Ben's reply to the class note, not yet saved, with idempotency key `sent`."""
    now = utcnow()
    return Reply(
        annotation_id=class_note.id,
        author_id=room.ben.id,
        body_markdown=body,
        body_html=f"<p>{body}</p>",
        created_at=now,
        updated_at=now,
        idempotency_key=sent,
    )


def card_ids_of(response) -> list[str]:
    return [e.id for e in parse(body_of(response)).iter() if "card" in e.classes]


def test_a_repeated_note_is_answered_with_the_one_saved(as_, db, text, room):
    ann = as_("ann")
    fields = {
        **select(text, FIRST),
        "audience": room.key,
        "intent": "comment",
        "body": "Needed by whom?",
        "idempotency_key": key(),
    }
    first = create(ann, fields)
    assert first.status_code == 200, body_of(first)
    changes = count(db, Change)
    again = create(ann, fields)
    assert again.status_code == 200, body_of(again)
    assert count(db, Annotation, Annotation.author_id == room.ann.id) == 1
    assert count(db, Change) == changes
    assert card_ids_of(again) == card_ids_of(first) != []
    assert again.headers["HX-Trigger"] == first.headers["HX-Trigger"]


def test_a_tagged_note_is_saved_whole_and_once(as_, db, text, room):
    ann = as_("ann")
    fields = {
        **select(text, FIRST),
        "audience": room.key,
        "intent": "comment",
        "body": "Whose words?",
        "tags": "zeta, alpha #beta",
        "idempotency_key": key(),
    }
    for _ in range(2):
        response = create(ann, fields)
        assert response.status_code == 200, body_of(response)
        html = body_of(response)
        assert all(f"<li>#{name}</li>" in html for name in ("zeta", "alpha", "beta")), html
    saved = db.session.scalar(sa.select(Annotation).where(Annotation.author_id == room.ann.id))
    assert sorted(tag.name for tag in saved.tags) == ["alpha", "beta", "zeta"]
    assert count(db, AnnotationTag, AnnotationTag.annotation_id == saved.id) == 3
    assert saved.original_exact == saved.exact and saved.hidden is False


def test_a_repeated_reply_is_answered_with_the_one_saved(as_, db, room, class_note):
    ben = as_("ben")
    sent = key()
    before = count(db, Notification, Notification.user_id == room.ann.id)
    first = reply(ben, class_note, "Because of the base.", idempotency_key=sent)
    assert first.status_code == 200, body_of(first)
    changes = count(db, Change)
    told = count(db, Notification, Notification.user_id == room.ann.id)
    assert told == before + 1
    again = reply(ben, class_note, "Because of the base.", idempotency_key=sent)
    assert again.status_code == 200, body_of(again)
    assert [r.body_markdown for r in replies_of(db, class_note)] == ["Because of the base."]
    assert count(db, Change) == changes
    assert count(db, Notification, Notification.user_id == room.ann.id) == told
    assert body_of(again).count("Because of the base.") == 1
    # A new key is a new reply.
    assert reply(ben, class_note, "And the port.", idempotency_key=key()).status_code == 200
    assert len(replies_of(db, class_note)) == 2


def test_a_repeat_is_answered_even_at_the_rate_limit(app, as_, db, room, class_note):
    ben = as_("ben")
    sent = key()
    assert reply(ben, class_note, "Once.", idempotency_key=sent).status_code == 200
    app.config["WRITES_PER_MINUTE"] = 1
    assert reply(ben, class_note, "Once.", idempotency_key=sent).status_code == 200
    assert reply(ben, class_note, "Twice.", idempotency_key=key()).status_code == 429
    assert len(replies_of(db, class_note)) == 1


def test_keys_are_per_author_and_optional(as_, db, text, room, class_note):
    shared = key()
    for who in ("ben", "teacher"):
        assert reply(as_(who), class_note, f"From {who}", idempotency_key=shared).status_code == 200
    assert len(replies_of(db, class_note)) == 2
    # Without a key every request is a new reply, as before.
    for _ in range(2):
        assert reply(as_("ben"), class_note, "No key").status_code == 200
    assert len(replies_of(db, class_note)) == 4
    # The same key on a note and on a reply are different things.
    note(as_("ben"), db, text, SECOND, room.key, body="Mine", idempotency_key=shared)
    assert count(db, Annotation, Annotation.author_id == room.ben.id) == 1


def test_a_malformed_key_is_a_clear_422(as_, db, text, room, class_note):
    for bad in ("short", "x" * 65, "not a key!", "ключ-ключ-ключ"):
        answer = reply(as_("ben"), class_note, "Hello", idempotency_key=bad)
        assert answer.status_code == 422, body_of(answer)
        assert "idempotency key" in body_of(answer)
        fields = {**select(text, SECOND), "audience": room.key, "idempotency_key": bad}
        answer = create(as_("ben"), fields)
        assert answer.status_code == 422, body_of(answer)
    assert replies_of(db, class_note) == []
    assert count(db, Annotation, Annotation.author_id == room.ben.id) == 0


def test_a_concurrent_duplicate_finds_the_saved_row(db, room, class_note):
    """The request that loses the race (its check ran before the other's commit) meets the
    unique index, and is answered with the row the other saved."""
    sent = key()
    saved, new = insert_once(db.session, a_reply(room, class_note, "first", sent))
    assert new
    db.session.commit()
    found, new = insert_once(db.session, a_reply(room, class_note, "second", sent))
    assert not new
    assert found.id == saved.id and found.body_markdown == "first"
    db.session.commit()
    assert [r.body_markdown for r in replies_of(db, class_note)] == ["first"]


def test_concurrent_repeats_save_one_reply(app, db, room, class_note):
    """The same request sent four times at once (a double click, a retry racing the first
    send): one reply, and every answer shows it."""
    import threading

    from flask.testing import FlaskClient

    from tests.conftest import HTMX, PASSWORD

    sent = key()
    clients = []
    for _ in range(4):
        client = FlaskClient(app, app.response_class, use_cookies=True)
        clients.append(client)
    gate = threading.Barrier(len(clients))
    answers: list = []

    def send(client) -> None:
        login = client.post("/login", data={"username": "ben", "password": PASSWORD})
        assert login.status_code == 302
        gate.wait(timeout=60)
        answer = client.post(
            f"/annotations/{class_note.id}/replies",
            data={"body": "At once.", "idempotency_key": sent},
            headers=HTMX,
        )
        answers.append((answer.status_code, answer.get_data(as_text=True)))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [status for status, _ in answers] == [200] * len(clients), answers
    db.session.rollback()  # the test's own session reads after the other requests' commits
    (saved,) = replies_of(db, class_note)
    assert all(f'id="reply-{saved.id}"' in body for _, body in answers)
    assert count(db, Change, Change.kind == "replied") == 1


def test_a_rolled_back_insert_is_forgotten_and_its_id_can_be_taken_again(db, room, class_note):
    """A row inserted and then rolled back (the commit failed: a full disk) leaves the
    session as the unit of work's would: the next insert, which SQLite gives the same id,
    joins the session instead of failing on a ghost of the first."""
    lost, new = insert_once(db.session, a_reply(room, class_note, "lost", key()))
    assert new
    db.session.rollback()
    assert lost not in db.session
    saved, new = insert_once(db.session, a_reply(room, class_note, "kept", key()))
    assert new and saved.id == lost.id  # the id of the row rolled back, taken again
    db.session.commit()
    assert [r.body_markdown for r in replies_of(db, class_note)] == ["kept"]


def test_a_savepoint_rolled_back_forgets_only_what_was_inserted_in_it(db, room, class_note):
    """A savepoint's rollback undoes only what it holds: a row inserted before it stays in
    the session and is committed; one inserted inside it is forgotten, as it is gone."""
    before, new = insert_once(db.session, a_reply(room, class_note, "before", key()))
    assert new
    savepoint = db.session.begin_nested()
    inside, new = insert_once(db.session, a_reply(room, class_note, "inside", key()))
    assert new
    savepoint.rollback()
    assert before in db.session
    assert inside not in db.session
    db.session.commit()
    assert [r.body_markdown for r in replies_of(db, class_note)] == ["before"]


def test_a_savepoint_released_then_rolled_back_with_its_transaction(db, room, class_note):
    """A row inserted in a savepoint that was released belongs to the transaction around
    it: that transaction's rollback forgets it too."""
    with db.session.begin_nested():
        inside, new = insert_once(db.session, a_reply(room, class_note, "inside", key()))
    assert new and inside in db.session
    db.session.rollback()
    assert inside not in db.session
    assert replies_of(db, class_note) == []
