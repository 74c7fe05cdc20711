"""Notifications in the app: who is told what, never about their own actions, never about
what they cannot see (when made, and again when shown), the unread count in the header,
marking read, settings, and the unsubscribe link (which works without logging in).

Everyone has their own client, as in test_discussion: a teacher, ann and ben in the class
reading the seed article, carl outside it.
"""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX
from tests.functional.helpers import page, parse
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    FIRST,
    SECOND,
    as_,
    body_of,
    class_note,
    note,
    post,
    reply,
    room,
    text,
)
from webapp.models import Assignment, Notification, NotificationSetting, Reply, utcnow
from webapp.notifications.unsubscribe import make_token
from webapp.services import notifications as service
from webapp.services.classes import assign, remove_member
from webapp.services.documents import import_article


@pytest.fixture(autouse=True)
def _without_the_setups_notifications(room, db):
    """The room's seed assignment told its members; the tests start from nothing."""
    db.session.execute(sa.delete(Notification))
    db.session.commit()


def events_of(db, user) -> list[tuple[str, int | None]]:
    """(event, actor id) of the user's notifications, oldest first."""
    db.session.expire_all()
    return [
        (n.event, n.actor_id)
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def listed(client) -> list[str]:
    """The summaries on the notifications page, newest first."""
    response = client.get("/notifications")
    assert response.status_code == 200, body_of(response)
    return [
        " ".join(li.find("p", class_="notification-summary").text().split())
        for li in page(response).find_all("li")
        if "notification" in li.classes
    ]


def header_link(client):
    link = page(client.get("/classes")).by_id("notifications-link")
    assert link is not None
    return link


def last_reply(db) -> Reply:
    db.session.expire_all()
    return db.session.scalar(sa.select(Reply).order_by(Reply.id.desc()).limit(1))


# --- who is told what ---------------------------------------------------------------------------


def test_a_reply_tells_the_notes_author_and_not_the_replier(as_, db, room, class_note):
    assert reply(as_("ben"), class_note, "Because of the base.").status_code == 200
    assert events_of(db, room.ann) == [("reply", room.ben.id)]
    assert events_of(db, room.ben) == []
    assert listed(as_("ann")) == ["Unread: ben replied to your note on “" + title(db) + "”"]


def title(db) -> str:
    from webapp.models import Document

    return db.session.scalars(sa.select(Document)).first().current_version.title


def test_a_reply_to_a_reply_tells_both_authors_once_each(as_, db, room, class_note):
    reply(as_("ben"), class_note, "Because of the base.")
    bens = last_reply(db)
    reply(as_("teacher"), class_note, "Good point, Ben.", parent=bens)
    assert events_of(db, room.ben) == [("reply_to_reply", room.teacher.id)]
    # The note's author hears of the instructor's comment as such.
    assert events_of(db, room.ann) == [
        ("reply", room.ben.id),
        ("instructor_reply", room.teacher.id),
    ]
    # ann answering ben under her own note: ben is told, ann (the note's author) is not.
    reply(as_("ann"), class_note, "Thanks!", parent=bens)
    assert events_of(db, room.ben)[-1] == ("reply_to_reply", room.ann.id)
    assert len(events_of(db, room.ann)) == 2


def test_own_actions_tell_nobody(as_, db, room, text):
    mine = note(as_("ann"), db, text, FIRST, room.key, body="Mine?", question="on")
    reply(as_("ann"), mine, "Answering myself.")
    post(as_("ann"), f"/annotations/{mine.id}/answered", answered="1")
    own = note(as_("teacher"), db, text, SECOND, room.key, body="Teacher's note")
    post(as_("teacher"), f"/annotations/{own.id}/pin", pinned="1")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_answered_and_pinned_tell_the_author_once(as_, db, room, text):
    question = note(as_("ann"), db, text, FIRST, room.key, body="Who needs them?", question="on")
    for value in ("1", "0", "1"):
        response = post(as_("teacher"), f"/annotations/{question.id}/answered", answered=value)
        assert response.status_code == 200, body_of(response)
    for value in ("1", "0", "1"):
        post(as_("teacher"), f"/annotations/{question.id}/pin", pinned=value)
    assert events_of(db, room.ann) == [("answered", room.teacher.id), ("pinned", room.teacher.id)]
    summaries = listed(as_("ann"))
    assert summaries[0].startswith("Unread: teacher, an instructor, pinned your note")
    assert summaries[1].startswith("Unread: teacher marked your question")


def test_a_new_assignment_tells_the_class_but_not_who_assigned_it(as_, db, room, seed_document):
    other = import_article(
        db.session, "# Second article\n\nBy Someone\n\n2026-11-01\n\nSome text here.", "second.md"
    ).document
    db.session.commit()
    response = as_("teacher").post(
        f"/classes/{room.classroom.id}/assignments", data={"document_id": str(other.id)}
    )
    assert response.status_code == 302, body_of(response)
    for student in (room.ann, room.ben):
        assert events_of(db, student) == [("assigned", room.teacher.id)]
    assert events_of(db, room.teacher) == [] and events_of(db, room.carl) == []
    # Changing its due date is not a new assignment.
    as_("teacher").post(
        f"/classes/{room.classroom.id}/assignments",
        data={"document_id": str(other.id), "due": "2030-01-01"},
    )
    assert events_of(db, room.ann) == [("assigned", room.teacher.id)]
    assert listed(as_("ann")) == [f"Unread: New in {room.classroom.name}: “Second article”"]


def set_due(db, room, seed_document, due) -> Assignment:
    assignment = assign(db.session, room.classroom, seed_document, due)
    db.session.commit()
    return assignment


def test_a_deadline_within_24_hours_reminds_each_student_once(as_, db, room, seed_document):
    assignment = set_due(db, room, seed_document, utcnow() + timedelta(hours=12))
    for _ in range(2):  # opening pages twice still makes one reminder
        as_("ann").get("/classes")
        as_("teacher").get("/classes")
    assert events_of(db, room.ann) == [("due_soon", None)]
    assert events_of(db, room.teacher) == []  # instructors are not reminded
    assert header_link(as_("ann")).get("aria-label") == "Notifications, 1 unread"
    item = page(as_("ann").get("/notifications")).find("li", class_="notification unread")
    assert "is due within 24 hours" in item.text()
    assert assignment.due_at.strftime("%H:%M") in item.text()
    # ben had not opened a page: the sender's pass (or his next page) makes his.
    assert service.remind_deadlines(db.session, utcnow()) == 1
    db.session.commit()
    assert service.remind_deadlines(db.session, utcnow()) == 0
    assert events_of(db, room.ben) == [("due_soon", None)]


@pytest.mark.parametrize("hours", [30, -1])
def test_no_reminder_for_a_deadline_further_off_or_past(as_, db, room, seed_document, hours):
    set_due(db, room, seed_document, utcnow() + timedelta(hours=hours))
    as_("ann").get("/classes")
    assert service.remind_deadlines(db.session, utcnow()) == 0
    assert events_of(db, room.ann) == []


# --- visibility -----------------------------------------------------------------------------------


def test_no_notification_about_a_thread_the_recipient_can_no_longer_see(as_, db, room, text):
    teachers = note(as_("teacher"), db, text, SECOND, room.key, body="Discuss.")
    reply(as_("ben"), teachers, "Ben's view.")
    bens = last_reply(db)
    remove_member(db.session, room.classroom, room.ben.id, room.teacher)
    db.session.commit()
    # ben, removed from the class, no longer sees the teacher's note or its thread.
    assert reply(as_("ann"), teachers, "Answering Ben.", parent=bens).status_code == 200
    assert events_of(db, room.ben) == []
    assert events_of(db, room.teacher)[-1] == ("reply", room.ann.id)


def test_a_notification_leaves_the_list_when_its_reply_is_hidden_or_deleted(
    as_, db, room, class_note
):
    reply(as_("ben"), class_note, "Off-topic remark.")
    bens = last_reply(db)
    assert header_link(as_("ann")).get("aria-label") == "Notifications, 1 unread"
    response = post(as_("teacher"), f"/replies/{bens.id}/hide", hidden="1", reason="Off topic")
    assert response.status_code == 200, body_of(response)
    assert listed(as_("ann")) == []
    link = header_link(as_("ann"))
    assert link.get("aria-label") is None and link.text().strip() == "Notifications"
    assert "Off-topic remark" not in body_of(as_("ann").get("/notifications"))
    post(as_("teacher"), f"/replies/{bens.id}/hide", hidden="0")
    assert len(listed(as_("ann"))) == 1
    post(as_("ben"), f"/replies/{bens.id}/delete")
    assert listed(as_("ann")) == []


# --- reading and marking ----------------------------------------------------------------


def test_the_list_links_to_the_note_and_shows_the_reply(as_, db, room, class_note):
    reply(as_("ben"), class_note, "Because of *the base*.")
    item = page(as_("ann").get("/notifications")).find("li", class_="notification unread")
    link = item.find("a")
    assert link.get("href") == (
        f"/articles/{class_note.document.slug}?context={room.key}#annotation-{class_note.id}"
    )
    assert "Because of *the base*." in item.find("p", class_="notification-excerpt").text()


def test_mark_one_read_over_htmx_updates_the_list_and_the_header(as_, db, room, class_note):
    reply(as_("ben"), class_note, "One.")
    reply(as_("ben"), class_note, "Two.")
    ann = as_("ann")
    first = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == room.ann.id)
    ).first()
    response = ann.post(f"/notifications/{first.id}/read", headers=HTMX)
    assert response.status_code == 200, body_of(response)
    root = parse(body_of(response))
    region, link = root.top_level()
    assert region.id == "notification-list" and "<html" not in body_of(response)
    assert link.id == "notifications-link" and link.get("hx-swap-oob") == "outerHTML"
    assert link.get("aria-label") == "Notifications, 1 unread"
    assert len([li for li in region.find_all("li") if "unread" in li.classes]) == 1
    # Without htmx: back to the list.
    response = ann.post("/notifications/read")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    assert header_link(ann).get("aria-label") is None
    assert all(not s.startswith("Unread") for s in listed(ann))


def test_nobody_marks_anothers_notification(as_, db, room, class_note, client):
    reply(as_("ben"), class_note, "One.")
    anns = db.session.scalar(sa.select(Notification.id))
    assert as_("ben").post(f"/notifications/{anns}/read").status_code == 404
    assert as_("ben").post("/notifications/999999/read").status_code == 404
    assert client.post(f"/notifications/{anns}/read").status_code == 401
    db.session.expire_all()
    assert db.session.get(Notification, anns).read_at is None
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert as_("ann").get("/notifications?before=abc").status_code == 400


# --- settings -----------------------------------------------------------------------------------


def test_settings_choose_in_app_and_email_per_kind(as_, db, room, class_note):
    ann = as_("ann")
    form = page(ann.get("/notifications/settings")).find("form", class_="stack-form settings-form")
    boxes = {i.get("name"): i for i in form.find_all("input", type="checkbox")}
    assert set(boxes) == {f"{w}-{k}" for k in service.KINDS for w in ("in_app", "email")}
    assert all("checked" in box.attrs for box in boxes.values())  # all on by default
    # Replies: e-mail only. Then a reply makes a row for the e-mail, shown nowhere in the app.
    chosen = {name: "on" for name in boxes if name != "in_app-reply"}
    response = ann.post("/notifications/settings", data=chosen)
    assert response.status_code == 303
    assert service.settings_of(db.session, room.ann.id)["reply"] == service.Choice(False, True)
    reply(as_("ben"), class_note, "Seen by e-mail only.")
    assert events_of(db, room.ann) == [("reply", room.ben.id)]
    assert listed(ann) == [] and header_link(ann).get("aria-label") is None
    # Both off: nothing at all.
    ann.post("/notifications/settings", data={})
    reply(as_("ben"), class_note, "Unheard.")
    assert len(events_of(db, room.ann)) == 1


# --- unsubscribe ------------------------------------------------------------------------------


def test_unsubscribe_link_asks_then_turns_off_that_kind_of_email_without_login(
    app, db, room, client
):
    token = make_token(room.ann.id, "reply")
    response = client.get(f"/unsubscribe/{token}")
    assert response.status_code == 200
    assert "Replies to my notes" in page(response).find("main").text()
    assert db.session.scalar(sa.select(NotificationSetting)) is None  # a GET changes nothing
    # One click as RFC 8058 has it: a POST with this body, no session, no CSRF token.
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/unsubscribe/{token}",
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, body_of(response)
    assert "Done" in page(response).find("main").text()
    chosen = service.settings_of(db.session, room.ann.id)
    assert chosen["reply"] == service.Choice(True, False)
    assert chosen["answered"] == service.Choice(True, True)


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "WzEsInJlcGx5Il0.forged-signature"],
)
def test_a_bad_unsubscribe_link_says_so(client, db, token):
    for method in ("get", "post"):
        response = getattr(client, method)(f"/unsubscribe/{token}")
        assert response.status_code == 404
        assert page(response).find("p", role="alert") is not None
    assert db.session.scalar(sa.select(NotificationSetting)) is None


def test_an_unsubscribe_link_of_a_deleted_account_or_unknown_kind_is_refused(client, room, db):
    assert client.post(f"/unsubscribe/{make_token(999999, 'reply')}").status_code == 404
    assert client.post(f"/unsubscribe/{make_token(room.ann.id, 'nonsense')}").status_code == 404
