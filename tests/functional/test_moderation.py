"""The moderation queue: members flag notes and replies (with a reason) from the card; the
class's instructors see them at /classes/N/flags with who flagged and why, hide or keep
each, and the flags are marked reviewed (when, by whom, what was done). The class page
counts the unreviewed flags; instructors' notes carry an "Instructor" badge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.class_world import build_class_world
from tests.functional.helpers import page, parse
from webapp.models import Flag


@pytest.fixture
def world(db, client, seed_document):
    return build_class_world(db, client)


def flags(world) -> list[Flag]:
    world.db.session.expire_all()
    return list(world.db.session.scalars(sa.select(Flag).order_by(Flag.id)))


def flag_note(world, who: str, author: str, reason: str = ""):
    client = world.sign_in(who)
    return client.post(
        f"/annotations/{world.notes[author]}/flag", data={"reason": reason}, headers=HTMX
    )


def flag_reply(world, who: str, author: str, reason: str = ""):
    client = world.sign_in(who)
    return client.post(
        f"/annotations/{world.notes['ann']}/flag",
        data={"reply_id": str(world.replies[author]), "reason": reason},
        headers=HTMX,
    )


def reader(world, who: str):
    client = world.sign_in(who)
    return page(client.get(f"/articles/{SEED_SLUG}?context=class-{world.classroom_id}"))


def test_notes_and_replies_are_flagged_from_the_card_with_a_reason(world):
    root = reader(world, "cal")
    card = root.by_id(f"annotation-{world.notes['ann']}")
    forms = [f for f in card.find_all("form") if f.get("action", "").endswith("/flag")]
    assert len(forms) == 3  # the note's, ben's reply's and the teacher's reply's
    for form in forms:
        field = form.find("input", name="reason")
        label = form.find("label")
        assert label.get("for") == field.get("id")
    reply_form = next(
        f for f in forms if f.find("input", name="reply_id", value=str(world.replies["ben"]))
    )
    assert reply_form.find("input", name="reply_id").get("value") == str(world.replies["ben"])
    # no flag on one's own note
    own = root.by_id(f"annotation-{world.notes['cal']}")
    assert not [f for f in own.find_all("form") if f.get("action", "").endswith("/flag")]

    response = flag_reply(world, "cal", "ben", "Rude to ann")
    assert response.status_code == 200
    assert "Flagged for the instructors." in response.get_data(as_text=True)
    [flag] = flags(world)
    assert (flag.reply_id, flag.reason, flag.user_id) == (
        world.replies["ben"],
        "Rude to ann",
        world.users["cal"].id,
    )


def test_the_queue_lists_flags_with_reasons_and_who_flagged(world):
    flag_note(world, "cal", "ben", "Off topic")
    flag_note(world, "dee", "ben", "")
    flag_reply(world, "cal", "ben", "Rude")
    client = world.sign_in("teacher")
    class_page = page(client.get(world.url))
    link = class_page.by_id("flags-link")
    assert link.get("href") == f"{world.url}/flags"
    assert link.text() == "3 unreviewed flags"

    response = client.get(f"{world.url}/flags")
    assert response.status_code == 200
    root = page(response)
    note_item = root.by_id(f"flag-note-{world.notes['ben']}")
    reply_item = root.by_id(f"flag-reply-{world.replies['ben']}")
    assert note_item is not None and reply_item is not None
    assert "Note by BEN" in note_item.text() and "Reply by BEN" in reply_item.text()
    reasons = " ".join(note_item.find("ul", class_="flag-reasons").text().split())
    assert "cal: Off topic" in reasons and "dee: no reason given" in reasons
    assert "cal: Rude" in " ".join(reply_item.text().split())
    assert root.by_id("flag-count").text() == "3 unreviewed flags."
    # each item's form: labelled reason, Hide and Keep described by the item's heading
    form = note_item.find("form")
    field = form.find("input", name="reason")
    assert form.find("label", **{"for": field.get("id")}) is not None
    buttons = {b.text(): b for b in form.find_all("button")}
    assert set(buttons) == {"Hide", "Keep"}
    assert buttons["Hide"].get("aria-describedby") == note_item.find("h2").get("id")
    # the fragment alone
    fragment = client.get(f"{world.url}/flags", headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


def test_hiding_from_the_queue_hides_and_marks_the_flags_reviewed(world):
    flag_note(world, "cal", "ben", "Off topic")
    flag_note(world, "dee", "ben")
    client = world.sign_in("teacher")
    response = client.post(
        f"{world.url}/flags/review",
        data={"annotation_id": world.notes["ben"], "outcome": "hidden", "reason": "Off topic"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    root = parse(body)
    item = root.by_id(f"flag-note-{world.notes['ben']}")
    done = item.find("p", class_="flag-done")
    assert "autofocus" in done.attrs and done.get("tabindex") == "-1"
    assert "hidden from the class" in done.text()
    assert root.by_id("flag-count").get("hx-swap-oob") == "outerHTML"
    assert root.by_id("flag-count").text() == "No unreviewed flags."
    flash = root.by_id("flash")
    assert flash.get("hx-swap-oob") and "Hidden from the class: the note by ben" in flash.text()

    note = world.note("ben")
    assert note.hidden and note.hidden_reason == "Off topic"
    for flag in flags(world):
        assert flag.resolved_at is not None
        assert flag.resolved_by_id == world.users["teacher"].id
        assert flag.outcome == "hidden"
    # the queue is empty; the reviewed tab says who did what
    assert "Nothing to review" in page(client.get(f"{world.url}/flags")).text()
    reviewed = page(client.get(f"{world.url}/flags?show=reviewed"))
    assert "reviewed by teacher (hidden" in " ".join(reviewed.text().split())
    assert page(client.get(world.url)).by_id("flags-link").text() == "Flags (none to review)"
    # the class no longer reads it
    assert reader(world, "cal").by_id(f"annotation-{world.notes['ben']}") is None


def test_keeping_a_reply_leaves_it_and_a_new_flag_opens_it_again(world):
    flag_reply(world, "cal", "ben", "Rude")
    client = world.sign_in("teacher")
    response = client.post(
        f"{world.url}/flags/review",
        data={
            "annotation_id": world.notes["ann"],
            "reply_id": world.replies["ben"],
            "outcome": "kept",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{world.url}/flags"
    assert "Kept: the reply by ben." in page(client.get(f"{world.url}/flags")).text()
    assert not world.reply("ben").hidden
    [flag] = flags(world)
    assert flag.outcome == "kept" and flag.resolved_by_id == world.users["teacher"].id
    # reviewing it again: nothing open
    again = client.post(
        f"{world.url}/flags/review",
        data={
            "annotation_id": world.notes["ann"],
            "reply_id": world.replies["ben"],
            "outcome": "hidden",
        },
    )
    assert again.status_code == 404
    assert not world.reply("ben").hidden
    flag_reply(world, "dee", "ben", "Still rude")
    assert "1 unreviewed flag" in page(world.sign_in("teacher").get(world.url)).text()


def test_the_queue_is_for_the_class_instructors(world):
    flag_note(world, "cal", "ben", "Off topic")
    review = {"annotation_id": world.notes["ben"], "outcome": "hidden"}
    world.sign_in(None)
    assert world.client.get(f"{world.url}/flags").status_code == 302
    assert world.client.post(f"{world.url}/flags/review", data=review).status_code == 401
    for who, status in (("outsider", 404), ("ann", 403)):
        client = world.sign_in(who)
        assert client.get(f"{world.url}/flags").status_code == status
        assert client.post(f"{world.url}/flags/review", data=review).status_code == status
        assert "Off topic" not in client.get(f"{world.url}/flags").get_data(as_text=True)
    assert not world.note("ben").hidden
    # students see no count on the class page
    assert page(world.sign_in("ann").get(world.url)).by_id("flags-link") is None


def test_bad_reviews_are_refused_clearly(world):
    flag_note(world, "cal", "ben")
    client = world.sign_in("teacher")
    url = f"{world.url}/flags/review"
    note = str(world.notes["ben"])
    cases = [
        ({"annotation_id": note, "outcome": "deleted"}, 400, "hide or to keep"),
        ({"annotation_id": note}, 400, "hide or to keep"),
        ({"annotation_id": "abc", "outcome": "kept"}, 404, "no unreviewed flag"),
        ({"outcome": "kept"}, 404, "no unreviewed flag"),
        ({"annotation_id": note, "reply_id": "x", "outcome": "kept"}, 404, "no unreviewed"),
        ({"annotation_id": "987654321", "outcome": "kept"}, 404, "no unreviewed flag"),
        ({"annotation_id": str(world.notes["ann"]), "outcome": "kept"}, 404, "no unreviewed"),
        ({"annotation_id": note, "outcome": "hidden", "reason": "x" * 501}, 422, "at most"),
    ]
    for form, status, words in cases:
        response = client.post(url, data=form, headers=HTMX)
        assert response.status_code == status, (form, response.status_code)
        assert words in response.get_data(as_text=True), form
    assert client.get(f"{world.url}/flags?show=everything").status_code == 400
    assert client.get("/classes/987654321/flags").status_code == 404
    assert [f.resolved_at for f in flags(world)] == [None]


def test_flags_of_another_class_are_not_reviewed_here(world, db):
    from webapp.services.classes import create_class, join_class

    other = create_class(db.session, world.users["teacher"], "Other")
    join_class(db.session, world.users["ann"], other.join_code)
    db.session.commit()
    flag_note(world, "cal", "ben")
    client = world.sign_in("teacher")
    response = client.post(
        f"/classes/{other.id}/flags/review",
        data={"annotation_id": world.notes["ben"], "outcome": "hidden"},
    )
    assert response.status_code == 404
    assert not world.note("ben").hidden
    assert "Nothing to review" in page(client.get(f"/classes/{other.id}/flags")).text()


def test_instructor_notes_and_replies_carry_a_badge(world):
    root = reader(world, "ann")
    teacher_card = root.by_id(f"annotation-{world.notes['teacher']}")
    badge = teacher_card.find("span", class_="badge badge-instructor")
    assert badge is not None and badge.text() == "Instructor"
    ben_card = root.by_id(f"annotation-{world.notes['ben']}")
    assert ben_card.find("span", class_="badge badge-instructor") is None
    teacher_reply = root.by_id(f"reply-{world.replies['teacher']}")
    assert teacher_reply.find("span", class_="badge badge-instructor").text() == "Instructor"
    assert (
        root.by_id(f"reply-{world.replies['ben']}").find("span", class_="badge badge-instructor")
        is None
    )
    # a promoted student's notes get it too (on the htmx card as well)
    world.sign_in("teacher").post(
        f"{world.url}/members/{world.users['ben'].id}/role", data={"role": "instructor"}
    )
    card = world.sign_in("ann").get(f"/annotations/{world.notes['ben']}", headers=HTMX)
    assert parse(card.get_data(as_text=True)).find("span", class_="badge badge-instructor")
