"""Bad input found in review: each is a clear 4xx (never a 500), and rights end with
membership."""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    as_,
    body_of,
    class_note,
    note,
    reply,
    room,
    text,
)
from webapp.models import Reply
from webapp.services.classes import remove_member
from webapp.services.limits import check_write_allowed

SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() says yes, int() says no
TOO_LONG = "9" * 25


@pytest.mark.parametrize(
    "url",
    [
        f"/articles/{SEED_SLUG}?student={SUPERSCRIPT_TWO}",
        f"/articles/{SEED_SLUG}?offset={SUPERSCRIPT_TWO}",
        f"/articles/{SEED_SLUG}?context=class-{SUPERSCRIPT_TWO}",
        f"/articles/{SEED_SLUG}/changes?cursor={SUPERSCRIPT_TWO}",
        f"/articles/{SEED_SLUG}/cards?offset={SUPERSCRIPT_TWO}",
    ],
    ids=["student", "offset", "context", "cursor", "cards-offset"],
)
def test_odd_digits_in_a_query_are_a_4xx(as_, room, url):
    response = as_("ann").get(url, headers=HTMX)
    assert 400 <= response.status_code < 500, body_of(response)
    assert response.headers.get("HX-Retarget") == "#flash"


@pytest.mark.parametrize("parent", [SUPERSCRIPT_TWO, TOO_LONG], ids=["superscript", "too-long"])
def test_a_bad_parent_reply_id_is_a_422(as_, db, room, class_note, parent):
    response = reply(as_("ben"), class_note, "hello", parent_id=parent)
    assert response.status_code == 422, body_of(response)
    assert db.session.query(Reply).count() == 0


def test_a_too_long_flagged_reply_id_is_a_4xx(as_, room, class_note):
    response = as_("ben").post(
        f"/annotations/{class_note.id}/flag", data={"reply_id": TOO_LONG}, headers=HTMX
    )
    assert response.status_code in (404, 422), body_of(response)


@pytest.mark.parametrize("due", ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00"])
def test_a_due_date_out_of_range_is_a_400(as_, room, seed_document, due):
    response = as_("teacher").post(
        f"/classes/{room.classroom.id}/assignments",
        data={"document_id": str(seed_document.id), "due": due},
    )
    assert response.status_code == 400, body_of(response)
    assert "A due date looks like" in body_of(response)


def test_the_cards_redirect_keeps_only_known_parameters(as_, room):
    response = as_("ann").get(f"/articles/{SEED_SLUG}/cards?slug=x&_external=1&sort=newest")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/articles/{SEED_SLUG}?")
    assert "sort=newest" in location and "_external" not in location and "slug=" not in location


def test_a_removed_student_can_no_longer_change_their_class_notes(as_, db, room, class_note):
    ann = as_("ann")
    remove_member(db.session, room.classroom, room.ann.id, by=room.teacher)
    db.session.commit()
    response = ann.post(f"/annotations/{class_note.id}/edit", data={"body": "SPAM"}, headers=HTMX)
    assert response.status_code == 403
    db.session.refresh(class_note)
    assert class_note.body_markdown == "Why *long term*?"
    assert ann.post(f"/annotations/{class_note.id}/delete", headers=HTMX).status_code == 403


def test_control_characters_are_dropped_from_comments(as_, db, text, room):
    annotation = note(as_("ann"), db, text, "Hmeimim", room.key, body="a\x00b\x07c\td")
    assert annotation.body_markdown == "abc\td"


def test_reply_and_edit_reply_without_javascript_are_full_pages(as_, db, room, class_note):
    page = as_("ben").get(f"/annotations/{class_note.id}/replies/new")
    assert page.status_code == 200
    assert "<html" in body_of(page) and 'name="body"' in body_of(page)
    reply(as_("ben"), class_note, "first")
    (mine,) = db.session.query(Reply).all()
    page = as_("ben").get(f"/replies/{mine.id}/edit")
    assert page.status_code == 200 and "<html" in body_of(page) and "Save reply" in body_of(page)


def test_replies_count_towards_the_write_limit(as_, db, room, class_note):
    for n in range(3):
        assert reply(as_("ben"), class_note, f"reply {n}").status_code == 200
    check_write_allowed(db.session, room.ben.id, allowed=4)
    with pytest.raises(Exception, match="very fast"):
        check_write_allowed(db.session, room.ben.id, allowed=3)
