"""Class discussion in the reader: threaded replies, deleted threads, votes, questions,
filters and sorts, moderation (pin, hide, flag), live changes, and reading contexts.

Everyone has their own test client (their own session), as in a real classroom: a teacher
with a class reading the seed article, two students (ann, ben) and an outsider (carl).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from tests.conftest import HTMX, PASSWORD, SEED_SLUG
from tests.functional.helpers import (
    Element,
    card_ids,
    create,
    current_version,
    fetch_annotation,
    latest_annotation,
    marks_for,
    page,
    parse,
    select,
    spot_ids,
    vary,
)
from webapp.models import Annotation, Classroom, Flag, Reply, User, Vote
from webapp.services.classes import assign, create_class, join_class, remove_member

ARTICLE = f"/articles/{SEED_SLUG}"
# Phrases of the seed article, in document order.
FIRST, SECOND, THIRD = "Russian forces were needed", "Hmeimim military base", "Middle East"
LONG_BODY = "x" * 10_001


@dataclass
class Room:
    classroom: Classroom
    teacher: User
    ann: User
    ben: User
    carl: User  # signed in, not a member

    @property
    def key(self) -> str:
        return f"class-{self.classroom.id}"


@pytest.fixture
def text(db) -> str:
    return current_version(db).text


@pytest.fixture
def room(db, auth, seed_document) -> Room:
    teacher, ann, ben, carl = (auth.create(n) for n in ("teacher", "ann", "ben", "carl"))
    classroom = create_class(db.session, teacher, "Reading group")
    for student in (ann, ben):
        join_class(db.session, student, classroom.join_code)
    assign(db.session, classroom, seed_document, None)
    db.session.commit()
    return Room(classroom, teacher, ann, ben, carl)


class PersonClient(FlaskClient):
    """A test client of its own person. The tests run inside one app context, which every
    request reuses, so Flask-Login's per-request cache of the user (on `g`) would carry one
    person's identity into another's request: each request starts without it."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        try:
            return super().open(*args, **kwargs)
        finally:
            g.pop("_login_user", None)


@pytest.fixture
def as_(app):
    """as_("ann") is a test client logged in as ann (one per person, kept for the test)."""
    clients = {}

    def client_of(username: str):
        if username not in clients:
            client = PersonClient(app, app.response_class, use_cookies=True)
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)
            clients[username] = client
        return clients[username]

    return client_of


# --- helpers --------------------------------------------------------------------------------


def body_of(response) -> str:
    return response.get_data(as_text=True)


def note(client, db, text, phrase, audience, body="", **extra) -> Annotation:
    """A note created over htmx as the reader's form sends it."""
    fields = {**select(text, phrase), "audience": audience, **extra}
    if body:
        fields.update(intent="comment", body=body)
    response = create(client, fields)
    assert response.status_code == 200, body_of(response)
    return latest_annotation(db)


def read(client, **params) -> Element:
    response = client.get(ARTICLE, query_string=params)
    assert response.status_code == 200, body_of(response)
    return page(response)


def sidebar(client, **params) -> Element:
    """The cards partial (what the filters and the sentinel load)."""
    response = client.get(f"{ARTICLE}/cards", query_string=params, headers=HTMX)
    assert response.status_code == 200, body_of(response)
    return parse(body_of(response))


def fragment_ids(root: Element) -> list[str]:
    return [e.id for e in root.top_level() if "card" in e.classes]


def post(client, url: str, htmx: bool = True, **data):
    return client.post(url, data=data, headers=HTMX if htmx else {})


def reply(client, annotation: Annotation, body: str, parent: Reply | None = None, **kw):
    data = {"body": body}
    if parent is not None:
        data["parent_id"] = str(parent.id)
    return post(client, f"/annotations/{annotation.id}/replies", **data, **kw)


def replies_of(db, annotation: Annotation) -> list[Reply]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Reply).where(Reply.annotation_id == annotation.id).order_by(Reply.id)
        )
    )


def card_in(response, annotation: Annotation) -> Element:
    card = parse(body_of(response)).by_id(f"annotation-{annotation.id}")
    assert card is not None, body_of(response)
    return card


def thread(card: Element) -> list[tuple[str, str, str]]:
    """The replies of a card: (id, depth class, text of the comment)."""
    listed = card.find("ol", class_="thread")
    if listed is None:
        return []
    return [
        (
            li.id,
            next(c for c in li.classes if c.startswith("depth-")),
            " ".join(li.find("div", class_="comment").text().split())
            if li.find("div", class_="comment")
            else "",
        )
        for li in listed.top_level()
    ]


def with_class(root: Element, tag: str, name: str) -> Element | None:
    """The first `tag` element that has the class `name` (among others)."""
    return next((e for e in root.find_all(tag) if name in e.classes), None)


def text_of(response) -> str:
    return " ".join(parse(body_of(response)).text().split())


def assert_error(response, status: int, message: str) -> None:
    assert response.status_code == status, body_of(response)
    assert message in text_of(response)
    assert response.headers.get("HX-Retarget") == "#flash"


def cursor_of(root: Element) -> int:
    live = root.by_id("live")
    assert live is not None, "the page has no #live poller"
    return int(parse_qs(urlsplit(live.get("hx-get")).query)["cursor"][0])


def poll(client, cursor: int, context: str | None = None, **params):
    query = {"cursor": cursor, **params}
    if context is not None:
        query["context"] = context
    return client.get(f"{ARTICLE}/changes", query_string=query, headers=HTMX)


# --- replies --------------------------------------------------------------------------------


@pytest.fixture
def class_note(as_, db, text, room) -> Annotation:
    """ann's class note with a comment."""
    return note(as_("ann"), db, text, FIRST, room.key, body="Why *long term*?")


def test_reply_to_a_note_and_to_a_reply_is_threaded(as_, db, room, class_note):
    ben, teacher, ann = as_("ben"), as_("teacher"), as_("ann")
    first = reply(ben, class_note, "A **first** reply")
    assert first.status_code == 200, body_of(first)
    [r1] = replies_of(db, class_note)
    assert (r1.author_id, r1.parent_id, r1.body_markdown) == (
        room.ben.id,
        None,
        "A **first** reply",
    )
    assert "<strong>first</strong>" in r1.body_html
    card = card_in(first, class_note)
    assert thread(card) == [(f"reply-{r1.id}", "depth-0", "A first reply")]

    # The reply box under one reply carries that reply as the parent.
    box = teacher.get(f"/annotations/{class_note.id}/replies/new?parent={r1.id}", headers=HTMX)
    assert box.status_code == 200
    form = card_in(box, class_note).by_id(f"reply-{r1.id}").find("form", class_="reply-form")
    assert form.find("input", name="parent_id").get("value") == str(r1.id)

    assert reply(teacher, class_note, "An answer to ben", parent=r1).status_code == 200
    r2 = replies_of(db, class_note)[-1]
    assert reply(ann, class_note, "And back to the teacher", parent=r2).status_code == 200
    r3 = replies_of(db, class_note)[-1]
    assert reply(ann, class_note, "A second top-level reply").status_code == 200
    r4 = replies_of(db, class_note)[-1]
    assert (r2.parent_id, r3.parent_id, r4.parent_id) == (r1.id, r2.id, None)

    expected = [
        (f"reply-{r1.id}", "depth-0", "A first reply"),
        (f"reply-{r2.id}", "depth-1", "An answer to ben"),
        (f"reply-{r3.id}", "depth-2", "And back to the teacher"),
        (f"reply-{r4.id}", "depth-0", "A second top-level reply"),
    ]
    for who in (ann, ben, teacher):
        assert thread(read(who).by_id(f"annotation-{class_note.id}")) == expected
    authors = [
        li.find("span", class_="author").text()
        for li in read(ben).by_id(f"annotation-{class_note.id}").find("ol").top_level()
    ]
    assert authors == ["ben", "teacher", "ann", "ann"]


def test_a_reply_without_javascript_redirects_to_the_card(as_, db, room, class_note):
    response = reply(as_("ben"), class_note, "Plain form reply", htmx=False)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"{ARTICLE}?context={room.key}#annotation-{class_note.id}"
    )
    assert [r.body_markdown for r in replies_of(db, class_note)] == ["Plain form reply"]


def test_edit_and_delete_ones_own_reply(as_, db, room, class_note):
    ben = as_("ben")
    reply(ben, class_note, "Frist reply")
    [r1] = replies_of(db, class_note)

    form = ben.get(f"/replies/{r1.id}/edit", headers=HTMX)
    assert form.status_code == 200
    box = card_in(form, class_note).by_id(f"reply-{r1.id}").find("textarea", name="body")
    assert box.text() == "Frist reply"

    edited = post(ben, f"/replies/{r1.id}/edit", body="First reply, *fixed*")
    assert edited.status_code == 200
    item = card_in(edited, class_note).by_id(f"reply-{r1.id}")
    assert item.find("em").text() == "fixed"
    assert item.find("span", class_="edited") is not None
    assert replies_of(db, class_note)[0].body_markdown == "First reply, *fixed*"

    deleted = post(ben, f"/replies/{r1.id}/delete")
    assert deleted.status_code == 200
    card = card_in(deleted, class_note)
    assert card.by_id(f"reply-{r1.id}") is None and thread(card) == []
    assert replies_of(db, class_note)[0].deleted_at is not None
    assert "First reply" not in body_of(as_("ann").get(ARTICLE))
    # Gone: neither editable nor deletable again.
    assert post(ben, f"/replies/{r1.id}/delete").status_code == 404
    assert post(ben, f"/replies/{r1.id}/edit", body="again").status_code == 404


@pytest.mark.parametrize("who", ["ann", "teacher"])
@pytest.mark.parametrize(
    "method, suffix, data",
    [
        ("get", "/edit", None),
        ("post", "/edit", {"body": "not yours"}),
        ("post", "/delete", None),
    ],
)
def test_another_persons_reply_cannot_be_changed(
    as_, db, room, class_note, who, method, suffix, data
):
    reply(as_("ben"), class_note, "ben's reply")
    [r1] = replies_of(db, class_note)
    response = getattr(as_(who), method)(f"/replies/{r1.id}{suffix}", data=data, headers=HTMX)
    assert_error(response, 403, "Only the author of a reply can change or delete it.")
    [stored] = replies_of(db, class_note)
    assert (stored.body_markdown, stored.deleted_at) == ("ben's reply", None)


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "The reply is empty"),
        ("  \r\n  ", "The reply is empty"),
        (LONG_BODY, "The reply is 10,001 characters long; the limit is 10,000."),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_an_empty_or_over_long_reply_is_a_422(as_, db, room, class_note, body, message):
    response = reply(as_("ben"), class_note, body)
    assert_error(response, 422, message)
    assert replies_of(db, class_note) == []
    # The same for an edit.
    reply(as_("ben"), class_note, "fine")
    [r1] = replies_of(db, class_note)
    assert_error(post(as_("ben"), f"/replies/{r1.id}/edit", body=body), 422, message)
    assert replies_of(db, class_note)[0].body_markdown == "fine"


def test_a_reply_to_a_reply_of_another_thread_is_a_422(as_, db, text, room, class_note):
    other = note(as_("ben"), db, text, SECOND, room.key, body="Another thread")
    reply(as_("ann"), other, "in the other thread")
    [elsewhere] = replies_of(db, other)
    response = reply(as_("ben"), class_note, "misplaced", parent=elsewhere)
    assert_error(response, 422, "no longer in this thread")
    assert replies_of(db, class_note) == []


def test_non_members_cannot_reply(as_, db, text, room, class_note):
    # An outsider does not see the class note at all.
    carl = as_("carl")
    assert reply(carl, class_note, "outsider").status_code == 404
    assert carl.get(f"/annotations/{class_note.id}/replies/new", headers=HTMX).status_code == 404
    # Someone else's private note is not there for ben either.
    private = note(as_("ann"), db, text, SECOND, "private", body="ann's own")
    assert reply(as_("ben"), private, "peeking").status_code == 404
    # A former member still sees her own note but no longer takes part in the class.
    remove_member(db.session, room.classroom, room.ann.id, room.teacher)
    db.session.commit()
    response = reply(as_("ann"), class_note, "after leaving")
    assert_error(response, 403, "Only class members can reply.")
    assert replies_of(db, class_note) == []
    assert replies_of(db, private) == []


def test_the_author_replies_to_their_own_private_note(as_, db, text, room):
    private = note(as_("ann"), db, text, SECOND, "private", body="thinking aloud")
    # From the "My notes" view (the reader sends its context with every card request).
    response = reply(as_("ann"), private, "and a follow-up thought", context="private")
    assert response.status_code == 200
    assert thread(card_in(response, private))[0][2] == "and a follow-up thought"


# --- deleting a note with replies -------------------------------------------------------------


def test_deleting_a_note_with_replies_keeps_the_thread(as_, db, room, class_note):
    ann, ben = as_("ann"), as_("ben")
    reply(ben, class_note, "Worth keeping")
    assert marks_for(read(ben), class_note.id)

    response = post(ann, f"/annotations/{class_note.id}/delete")
    assert response.status_code == 200
    root = parse(body_of(response))
    card = root.by_id(f"annotation-{class_note.id}")
    assert "deleted" in card.classes
    assert "This note was deleted" in card.text()
    assert thread(card)[0][2] == "Worth keeping"
    assert marks_for(root.by_id("block-1"), class_note.id) == []
    assert fetch_annotation(db, class_note.id).deleted_at is not None

    for client in (ann, ben, as_("teacher")):
        root = read(client)
        assert marks_for(root, class_note.id) == []
        card = root.by_id(f"annotation-{class_note.id}")
        assert "This note was deleted" in card.text()
        assert "long term" not in card.text()  # the deleted comment is not shown
        assert [t for _, _, t in thread(card)] == ["Worth keeping"]
        assert with_class(card, "button", "vote") is None
        assert card.find("a", href=f"/annotations/{class_note.id}/edit") is None
    # The discussion goes on under the deleted note.
    assert reply(ann, class_note, "Still here").status_code == 200
    assert len(replies_of(db, class_note)) == 2


def test_deleting_the_last_reply_of_a_deleted_note_removes_the_card(as_, db, room, class_note):
    ann, ben = as_("ann"), as_("ben")
    reply(ben, class_note, "The only reply")
    [r1] = replies_of(db, class_note)
    post(ann, f"/annotations/{class_note.id}/delete")
    cursor = cursor_of(read(ann))

    response = post(ben, f"/replies/{r1.id}/delete")
    assert response.status_code == 200
    root = parse(body_of(response))
    assert root.by_id(f"annotation-{class_note.id}") is None
    assert not body_of(response).lstrip().startswith("<article")  # nothing replaces the card
    for client in (ann, ben):
        assert read(client).by_id(f"annotation-{class_note.id}") is None
    assert ann.get(f"/annotations/{class_note.id}", headers=HTMX).status_code == 404
    # The other reader's sidebar drops the card.
    changes = poll(ann, cursor, room.key)
    assert changes.status_code == 200
    gone = parse(body_of(changes)).by_id(f"annotation-{class_note.id}")
    assert gone.get("hx-swap-oob") == "delete"


# --- votes ----------------------------------------------------------------------------------


def vote_button(root: Element, annotation: Annotation) -> Element:
    return with_class(root.by_id(f"annotation-{annotation.id}"), "button", "vote")


def vote_count(db, annotation: Annotation) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Vote.id)).where(Vote.annotation_id == annotation.id)
    )


def test_a_vote_and_a_second_vote_that_takes_it_back(as_, db, room, class_note):
    ben = as_("ben")
    response = post(ben, f"/annotations/{class_note.id}/vote")
    assert response.status_code == 200
    card = card_in(response, class_note)
    button = with_class(card, "button", "vote")
    # Its name ("Upvote 1") holds what it shows ("▲ 1"): the arrow is hidden from it.
    assert button.get("aria-label") is None
    assert (button.get("aria-pressed"), button.text().split()) == ("true", ["▲", "Upvote", "1"])
    assert "voted" in button.classes and card.get("data-votes") == "1"
    assert vote_count(db, class_note) == 1

    again = post(ben, f"/annotations/{class_note.id}/vote")
    button = with_class(card_in(again, class_note), "button", "vote")
    assert (button.get("aria-pressed"), button.text().split()) == ("false", ["▲", "Upvote", "0"])
    assert vote_count(db, class_note) == 0


def test_two_people_voting_count_two(as_, db, room, class_note):
    for who in ("ben", "teacher"):
        assert post(as_(who), f"/annotations/{class_note.id}/vote").status_code == 200
    assert vote_count(db, class_note) == 2
    for who in ("ben", "teacher"):
        button = vote_button(read(as_(who)), class_note)
        assert (button.text().split()[-1], button.get("aria-pressed")) == ("2", "true")
    # Without JavaScript: a redirect back to the card, and the vote taken back.
    plain = post(as_("ben"), f"/annotations/{class_note.id}/vote", htmx=False)
    assert plain.status_code == 302
    assert plain.headers["Location"].endswith(f"?context={room.key}#annotation-{class_note.id}")
    assert vote_count(db, class_note) == 1


def own_count(root: Element, annotation: Annotation) -> Element | None:
    return with_class(root.by_id(f"annotation-{annotation.id}"), "span", "vote-count")


def test_an_author_cannot_upvote_their_own_note(as_, db, room, class_note):
    """Refused with a message; the author's card shows the count, without a button."""
    ann = as_("ann")
    assert_error(
        post(ann, f"/annotations/{class_note.id}/vote"), 403, "You cannot upvote your own note."
    )
    assert vote_count(db, class_note) == 0
    assert post(as_("ben"), f"/annotations/{class_note.id}/vote").status_code == 200
    root = read(ann)
    assert vote_button(root, class_note) is None
    count = own_count(root, class_note)
    assert (count.text(), count.get("aria-label")) == ("▲ 1", "1 upvote")
    assert own_count(read(as_("ben")), class_note) is None


def test_a_self_vote_from_before_is_not_counted(as_, db, room, class_note):
    """Votes stored before self-votes were refused stay in the database, uncounted (as
    participation never counted them)."""
    db.session.add(Vote(annotation_id=class_note.id, user_id=room.ann.id))
    db.session.commit()
    root = read(as_("ben"))
    assert vote_button(root, class_note).text().split() == ["▲", "Upvote", "0"]
    assert root.by_id(f"annotation-{class_note.id}").get("data-votes") == "0"
    assert own_count(read(as_("ann")), class_note).text() == "▲ 0"
    assert post(as_("ben"), f"/annotations/{class_note.id}/vote").status_code == 200
    assert vote_button(read(as_("teacher")), class_note).text().split() == ["▲", "Upvote", "1"]
    assert vote_count(db, class_note) == 2  # both rows kept


def test_the_database_holds_one_vote_per_person(db, room, class_note):
    db.session.add(Vote(annotation_id=class_note.id, user_id=room.ben.id))
    db.session.commit()
    db.session.add(Vote(annotation_id=class_note.id, user_id=room.ben.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert vote_count(db, class_note) == 1


def test_a_private_note_cannot_be_voted_on(as_, db, text, room):
    ann = as_("ann")
    private = note(ann, db, text, SECOND, "private")
    response = post(ann, f"/annotations/{private.id}/vote")
    assert_error(response, 403, "Only members of the note's class can vote on it.")
    assert post(as_("ben"), f"/annotations/{private.id}/vote").status_code == 404
    assert vote_count(db, private) == 0
    assert vote_button(read(ann, context="private"), private) is None


def test_an_outsider_cannot_vote(as_, db, room, class_note):
    assert post(as_("carl"), f"/annotations/{class_note.id}/vote").status_code == 404
    assert vote_count(db, class_note) == 0


# --- questions ------------------------------------------------------------------------------


def badge(card: Element) -> str | None:
    found = [
        s.text() for s in card.find_all("span") if "badge" in s.classes and s.text() != "Pinned"
    ]
    return found[0] if found else None


@pytest.fixture
def question(as_, db, text, room) -> Annotation:
    return note(as_("ann"), db, text, FIRST, room.key, body="What base?", question="on")


def test_a_question_is_marked_answered_by_the_asker_or_the_instructor(as_, db, room, question):
    assert question.is_question and question.answered_at is None
    assert badge(read(as_("ben")).by_id(f"annotation-{question.id}")) == "Question"

    url = f"/annotations/{question.id}/answered"
    ben_card = read(as_("ben")).by_id(f"annotation-{question.id}")
    assert ben_card.find("form", action=url) is None  # no button for another student
    assert_error(
        post(as_("ben"), url, answered="1"),
        403,
        "Only the asker or an instructor can mark a question answered.",
    )
    assert fetch_annotation(db, question.id).answered_at is None

    response = post(as_("ann"), url, answered="1")
    assert response.status_code == 200
    assert badge(card_in(response, question)) == "Answered"
    stored = fetch_annotation(db, question.id)
    assert stored.answered_at is not None and stored.answered_by_id == room.ann.id

    assert badge(card_in(post(as_("ann"), url, answered="0"), question)) == "Question"
    assert fetch_annotation(db, question.id).answered_at is None

    teacher_card = read(as_("teacher")).by_id(f"annotation-{question.id}")
    assert teacher_card.find("form", action=url) is not None
    assert badge(card_in(post(as_("teacher"), url, answered="1"), question)) == "Answered"
    assert fetch_annotation(db, question.id).answered_by_id == room.teacher.id
    assert badge(read(as_("ben")).by_id(f"annotation-{question.id}")) == "Answered"


def test_only_a_question_can_be_marked_answered(as_, db, room, class_note):
    for who in ("ann", "teacher"):
        response = post(as_(who), f"/annotations/{class_note.id}/answered", answered="1")
        assert_error(response, 422, "Only a question can be marked answered.")
    assert fetch_annotation(db, class_note.id).answered_at is None


def test_the_author_can_turn_a_note_into_a_question(as_, db, room, class_note):
    response = post(
        as_("ann"),
        f"/annotations/{class_note.id}/edit",
        body="Why long term?",
        has_question_field="1",
        question="on",
    )
    assert response.status_code == 200
    assert badge(card_in(response, class_note)) == "Question"
    assert fetch_annotation(db, class_note.id).is_question


# --- filters and sorts ----------------------------------------------------------------------


@pytest.fixture
def discussion(as_, db, text, room):
    """Four class notes, in document order: ann's question (#sources), ben's note (#bias),
    ben's answered question, the teacher's note; and one private note of ben's."""
    ann, ben, teacher = as_("ann"), as_("ben"), as_("teacher")
    notes = {
        "ann_q": note(
            ann, db, text, FIRST, room.key, body="Which forces?", question="on", tags="Sources"
        ),
        "ben_note": note(ben, db, text, SECOND, room.key, body="The base", tags="bias"),
        "ben_q": note(
            ben, db, text, "Bashar al-Assad said", room.key, body="Said where?", question="on"
        ),
        "teacher_note": note(teacher, db, text, THIRD, room.key, body="Context"),
    }
    post(teacher, f"/annotations/{notes['ben_q'].id}/answered", answered="1")
    notes["ben_private"] = note(ben, db, text, "liquidated", "private", body="mine only")
    return notes


def ids_of(*annotations: Annotation) -> list[str]:
    return [f"annotation-{a.id}" for a in annotations]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["ann_q", "ben_q", "ben_note", "teacher_note"]),
        ({"filter": "everyone"}, ["ann_q", "ben_q", "ben_note", "teacher_note"]),
        ({"filter": "questions"}, ["ann_q", "ben_q"]),
        ({"filter": "unanswered"}, ["ann_q"]),
        ({"filter": "mine"}, ["ben_q", "ben_note"]),
        ({"tag": "sources"}, ["ann_q"]),
        ({"tag": "#Sources"}, ["ann_q"]),
        ({"tag": "bias", "filter": "questions"}, []),
        ({"tag": "nothing"}, []),
    ],
)
def test_sidebar_filters(as_, room, discussion, params, expected):
    ben = as_("ben")
    wanted = ids_of(*sorted((discussion[k] for k in expected), key=lambda a: a.start))
    assert card_ids(read(ben, context=room.key, **params)) == wanted
    assert fragment_ids(sidebar(ben, context=room.key, **params)) == wanted


def test_the_student_filter_is_offered_to_instructors_only(as_, room, discussion):
    teacher_page = read(as_("teacher"))
    select_box = teacher_page.by_id("filter-student")
    assert select_box is not None
    options = {o.text().strip(): o.get("value") for o in select_box.find_all("option")}
    assert options == {
        "All students": "",
        "ann": str(room.ann.id),
        "ben": str(room.ben.id),
        "teacher (instructor)": str(room.teacher.id),
    }
    for who in ("ann", "ben"):
        assert read(as_(who)).by_id("filter-student") is None

    picked = sidebar(as_("teacher"), context=room.key, student=room.ben.id)
    assert fragment_ids(picked) == ids_of(discussion["ben_q"], discussion["ben_note"])
    # ben's private note never shows, whoever filters for him.
    assert f"annotation-{discussion['ben_private'].id}" not in fragment_ids(picked)
    assert_error(
        as_("teacher").get(f"{ARTICLE}/cards", query_string={"student": "ben"}, headers=HTMX),
        400,
        "The student filter must be a user id.",
    )


@pytest.mark.parametrize("name", ["filter", "sort"])
def test_an_unknown_filter_or_sort_is_a_400(as_, room, name):
    response = as_("ben").get(f"{ARTICLE}/cards", query_string={name: "bogus"}, headers=HTMX)
    assert response.status_code == 400
    assert "Unknown" in body_of(response)


def test_sorts_with_pinned_notes_first(as_, db, room, discussion):
    d = discussion
    ben = as_("ben")
    for who in ("ann", "teacher"):
        post(as_(who), f"/annotations/{d['teacher_note'].id}/vote")
    post(as_("teacher"), f"/annotations/{d['ben_note'].id}/vote")

    in_text = sorted(
        (d[k] for k in ("ann_q", "ben_note", "ben_q", "teacher_note")), key=lambda a: a.start
    )
    position = ids_of(*in_text)
    newest = ids_of(d["teacher_note"], d["ben_q"], d["ben_note"], d["ann_q"])
    # Two votes, one vote, then the rest in document order.
    unvoted = [a for a in in_text if a not in (d["teacher_note"], d["ben_note"])]
    votes = ids_of(d["teacher_note"], d["ben_note"], *unvoted)
    for sort, expected in (("position", position), ("newest", newest), ("votes", votes)):
        assert fragment_ids(sidebar(ben, context=room.key, sort=sort)) == expected, sort
        root = read(ben, context=room.key, sort=sort)
        assert card_ids(root) == expected, sort
        assert root.by_id("cards").get("data-sort") == sort

    post(as_("teacher"), f"/annotations/{d['ben_q'].id}/pin", pinned="1")
    pinned = f"annotation-{d['ben_q'].id}"
    for sort, expected in (("position", position), ("newest", newest), ("votes", votes)):
        rest = [i for i in expected if i != pinned]
        assert fragment_ids(sidebar(ben, context=room.key, sort=sort)) == [pinned, *rest], sort


# --- moderation -----------------------------------------------------------------------------


def test_the_instructor_pins_a_note_first_with_a_badge(as_, db, text, room, class_note):
    later = note(as_("ben"), db, text, THIRD, room.key, body="Later in the text")
    ben = as_("ben")
    assert card_ids(read(ben)) == ids_of(class_note, later)

    response = post(as_("teacher"), f"/annotations/{later.id}/pin", pinned="1")
    assert response.status_code == 200
    card = card_in(response, later)
    assert "pinned" in card.classes and card.get("data-pinned") == "1"
    assert with_class(card, "span", "badge-pinned").text() == "Pinned"
    assert fetch_annotation(db, later.id).pinned

    root = read(ben)
    assert card_ids(root) == ids_of(later, class_note)
    assert with_class(root.by_id(f"annotation-{later.id}"), "span", "badge-pinned") is not None
    # Students see the badge but no pin button.
    assert (
        root.by_id(f"annotation-{later.id}").find("form", action=f"/annotations/{later.id}/pin")
        is None
    )

    post(as_("teacher"), f"/annotations/{later.id}/pin", pinned="0")
    assert card_ids(read(ben)) == ids_of(class_note, later)
    assert with_class(read(ben).by_id(f"annotation-{later.id}"), "span", "badge-pinned") is None


def test_a_hidden_note_is_seen_by_its_author_and_the_instructors_only(as_, db, room, class_note):
    ann, ben, teacher = as_("ann"), as_("ben"), as_("teacher")
    before = cursor_of(read(ben))
    response = post(teacher, f"/annotations/{class_note.id}/hide", hidden="1", reason="Off   topic")
    assert response.status_code == 200
    stored = fetch_annotation(db, class_note.id)
    assert (stored.hidden, stored.hidden_reason) == (True, "Off topic")
    assert "is-hidden" in card_in(response, class_note).classes

    # Another student: not on the page, not in the cards partial, not in the live changes.
    root = read(ben)
    assert root.by_id(f"annotation-{class_note.id}") is None
    assert marks_for(root, class_note.id) == []
    assert "long term" not in body_of(ben.get(ARTICLE))
    assert f"annotation-{class_note.id}" not in fragment_ids(sidebar(ben, context=room.key))
    assert "long term" not in body_of(ben.get(f"{ARTICLE}/cards", headers=HTMX))
    changes = poll(ben, before, room.key)
    assert changes.status_code == 200
    assert "long term" not in body_of(changes)
    assert parse(body_of(changes)).by_id(f"annotation-{class_note.id}").get("hx-swap-oob") == (
        "delete"
    )
    assert ben.get(f"/annotations/{class_note.id}", headers=HTMX).status_code == 404
    assert reply(ben, class_note, "can I?").status_code == 404
    assert post(ben, f"/annotations/{class_note.id}/vote").status_code == 404

    # The author sees it, with the reason; the instructor sees it, marked: live too.
    for who in ("ann", "teacher"):
        live = parse(body_of(poll(as_(who), before, room.key)))
        card = live.by_id(f"annotation-{class_note.id}")
        assert card.get("hx-swap-oob") == "outerHTML" and "is-hidden" in card.classes
        assert "Off topic" in card.find("p", class_="hidden-note").text()
    card = read(ann).by_id(f"annotation-{class_note.id}")
    assert (
        "Hidden from the class by an instructor: Off topic"
        in card.find("p", class_="hidden-note").text()
    )
    assert marks_for(read(ann), class_note.id)
    card = read(teacher).by_id(f"annotation-{class_note.id}")
    assert "is-hidden" in card.classes and "long term" in card.text()
    unhide = card.find("form", action=f"/annotations/{class_note.id}/hide")
    assert unhide.find("input", name="hidden").get("value") == "0"

    post(teacher, f"/annotations/{class_note.id}/hide", hidden="0")
    assert fetch_annotation(db, class_note.id).hidden_reason is None
    assert read(ben).by_id(f"annotation-{class_note.id}") is not None
    assert read(ann).by_id(f"annotation-{class_note.id}").find("p", class_="hidden-note") is None


def test_a_hidden_reply_is_seen_by_its_author_and_the_instructors_only(as_, db, room, class_note):
    ann, ben, teacher = as_("ann"), as_("ben"), as_("teacher")
    reply(ben, class_note, "A rude remark")
    reply(teacher, class_note, "A kind remark")
    rude, kind = replies_of(db, class_note)
    before = cursor_of(read(ann))

    response = post(teacher, f"/replies/{rude.id}/hide", hidden="1", reason="Be kind")
    assert response.status_code == 200
    assert replies_of(db, class_note)[0].hidden

    for view in (
        read(ann).by_id(f"annotation-{class_note.id}"),
        card_in(ann.get(f"/annotations/{class_note.id}", headers=HTMX), class_note),
        card_in(poll(ann, before, room.key), class_note),
        parse(body_of(ann.get(f"{ARTICLE}/cards", headers=HTMX))).by_id(
            f"annotation-{class_note.id}"
        ),
    ):
        assert [t for _, _, t in thread(view)] == ["A kind remark"]
        assert "rude" not in view.text()
    assert post(ann, f"/annotations/{class_note.id}/flag", reply_id=str(rude.id)).status_code == 404

    item = read(ben).by_id(f"reply-{rude.id}")
    assert "Hidden by an instructor: Be kind" in item.find("p", class_="hidden-note").text()
    assert "A rude remark" in item.text()
    item = read(teacher).by_id(f"reply-{rude.id}")
    assert "is-hidden" in item.classes and "A rude remark" in item.text()

    post(teacher, f"/replies/{rude.id}/hide", hidden="0")
    assert [t for _, _, t in thread(read(ann).by_id(f"annotation-{class_note.id}"))] == [
        "A rude remark",
        "A kind remark",
    ]


@pytest.mark.parametrize("who", ["ben", "ann"])
def test_students_cannot_pin_or_hide(as_, db, room, class_note, who):
    reply(as_("ben"), class_note, "a reply")
    [r1] = replies_of(db, class_note)
    client = as_(who)
    for url, data, message in (
        (f"/annotations/{class_note.id}/pin", {"pinned": "1"}, "Only instructors can pin notes."),
        (f"/annotations/{class_note.id}/hide", {"hidden": "1"}, "Only instructors can hide notes."),
        (f"/replies/{r1.id}/hide", {"hidden": "1"}, "Only instructors can hide replies."),
    ):
        assert_error(post(client, url, **data), 403, message)
    stored = fetch_annotation(db, class_note.id)
    assert (stored.pinned, stored.hidden) == (False, False)
    assert not replies_of(db, class_note)[0].hidden
    card = read(client).by_id(f"annotation-{class_note.id}")
    assert card.find("form", action=f"/annotations/{class_note.id}/pin") is None
    assert card.find("form", action=f"/annotations/{class_note.id}/hide") is None


def test_an_instructor_of_another_class_cannot_moderate(as_, db, auth, room, class_note):
    other = auth.create("otherteacher")
    create_class(db.session, other, "Another class")
    db.session.commit()
    client = as_("otherteacher")
    for action, field in (("pin", "pinned"), ("hide", "hidden")):
        response = post(client, f"/annotations/{class_note.id}/{action}", **{field: "1"})
        assert response.status_code == 404  # not a member: the note is not there for them
    stored = fetch_annotation(db, class_note.id)
    assert (stored.pinned, stored.hidden) == (False, False)


def flags_summary(card: Element) -> str | None:
    details = card.find("details", class_="flags")
    return details.find("summary").text() if details is not None else None


def test_members_flag_notes_and_replies_and_instructors_see_the_count(as_, db, room, class_note):
    ann, ben, teacher = as_("ann"), as_("ben"), as_("teacher")
    reply(ann, class_note, "ann answers herself")
    [r1] = replies_of(db, class_note)
    url = f"/annotations/{class_note.id}/flag"

    first = post(ben, url, reason="Spoiler")
    assert first.status_code == 200
    assert "Flagged for the instructors." in text_of(first)
    again = post(ben, url, reason="Spoiler again")
    assert again.status_code == 200
    assert "You had flagged this already." in text_of(again)
    assert post(ben, url, reply_id=str(r1.id)).status_code == 200
    assert "You had flagged this already." in text_of(post(ben, url, reply_id=str(r1.id)))

    flags = db.session.scalars(sa.select(Flag).where(Flag.annotation_id == class_note.id)).all()
    assert {(f.user_id, f.reply_id, f.reason) for f in flags} == {
        (room.ben.id, None, "Spoiler"),
        (room.ben.id, r1.id, ""),
    }

    card = read(teacher).by_id(f"annotation-{class_note.id}")
    assert flags_summary(card) == "2 flags"
    listed = [" ".join(li.text().split()) for li in card.find("details").find_all("li")]
    assert sorted(listed) == ["ben (on a reply)", "ben: Spoiler"]
    for who in ("ann", "ben"):
        card = read(as_(who)).by_id(f"annotation-{class_note.id}")
        assert flags_summary(card) is None
        assert "Spoiler" not in card.text()
    # Nor in the card a student's own action brings back.
    assert (
        flags_summary(card_in(post(ben, f"/annotations/{class_note.id}/vote"), class_note)) is None
    )
    assert (
        flags_summary(
            card_in(teacher.get(f"/annotations/{class_note.id}", headers=HTMX), class_note)
        )
        == "2 flags"
    )


def test_flagging_a_reply_of_another_thread_or_a_private_note(as_, db, text, room, class_note):
    ann, ben = as_("ann"), as_("ben")
    other = note(ben, db, text, THIRD, room.key, body="ben's note")
    reply(ann, other, "elsewhere")
    [elsewhere] = replies_of(db, other)
    assert_error(
        post(ben, f"/annotations/{class_note.id}/flag", reply_id=str(elsewhere.id)),
        422,
        "That reply is not in this thread.",
    )
    private = note(ann, db, text, SECOND, "private")
    assert_error(
        post(ann, f"/annotations/{private.id}/flag"),
        403,
        "Only members of the note's class can flag it.",
    )
    assert post(ben, f"/annotations/{private.id}/flag").status_code == 404
    assert post(as_("carl"), f"/annotations/{class_note.id}/flag").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 0


# --- live changes ---------------------------------------------------------------------------


def live_of(root: Element) -> Element:
    live = root.by_id("live")
    assert live is not None and live.get("hx-swap-oob") == "outerHTML"
    return live


def test_nothing_new_is_a_204_with_an_empty_body(as_, room, class_note):
    ben = as_("ben")
    root = read(ben)
    cursor = cursor_of(root)
    assert cursor > 0
    for context in (room.key, None):  # None: the default context, the class
        response = poll(ben, cursor, context)
        assert response.status_code == 204
        assert response.get_data() == b""
        assert "hx-request" in vary(response)
    assert poll(ben, cursor, "private").status_code == 204


def test_others_work_arrives_as_out_of_band_cards_blocks_and_a_new_cursor(as_, db, text, room):
    ann, ben, teacher = as_("ann"), as_("ben"), as_("teacher")
    cursor = cursor_of(read(ben))

    def changes() -> Element:
        nonlocal cursor
        response = poll(ben, cursor, room.key)
        assert response.status_code == 200, body_of(response)
        assert "hx-request" in vary(response)
        root = parse(body_of(response))
        live = live_of(root)
        new_cursor = int(parse_qs(urlsplit(live.get("hx-get")).query)["cursor"][0])
        assert new_cursor > cursor
        cursor = new_cursor
        assert poll(ben, cursor, room.key).status_code == 204  # and then nothing new
        return root

    # Created.
    created = note(ann, db, text, FIRST, room.key, body="A fresh note")
    root = changes()
    card = root.by_id(f"annotation-{created.id}")
    assert card.tag == "article" and card.get("hx-swap-oob") == "outerHTML"
    assert "A fresh note" in card.text()
    block = root.by_id("block-1")
    assert block.get("hx-swap-oob") == "outerHTML"
    assert [m.text() for m in marks_for(block, created.id)] == [FIRST]

    # Edited.
    post(ann, f"/annotations/{created.id}/edit", body="An edited note", colour="green")
    root = changes()
    assert "An edited note" in root.by_id(f"annotation-{created.id}").text()
    # Its block is redrawn; in a class view another's highlight is the neutral heat tint,
    # whatever its colour, which its author sees.
    redrawn = marks_for(root.by_id("block-1"), created.id)[0].classes
    assert "hl-others" in redrawn and "hl-green" not in redrawn
    own = page(ann.get(f"{ARTICLE}?context={room.key}"))
    assert "hl-green" in marks_for(own.by_id("block-1"), created.id)[0].classes

    # Replied to.
    reply(teacher, created, "The teacher answers")
    root = changes()
    assert [t for _, _, t in thread(root.by_id(f"annotation-{created.id}"))] == [
        "The teacher answers"
    ]

    # Deleted (a note without replies: its card goes).
    other = note(ann, db, text, THIRD, room.key, body="Short-lived")
    changes()
    post(ann, f"/annotations/{other.id}/delete")
    root = changes()
    gone = root.by_id(f"annotation-{other.id}")
    assert gone.tag == "div" and gone.get("hx-swap-oob") == "delete"
    assert "Short-lived" not in root.text()
    blocks = [e for e in root.top_level() if (e.id or "").startswith("block-")]
    assert blocks and all(marks_for(b, other.id) == [] for b in blocks)

    # Several changes in one poll: each card once.
    post(ben, f"/annotations/{created.id}/vote")
    post(teacher, f"/annotations/{created.id}/vote")
    root = changes()
    assert [e.id for e in root.top_level() if "card" in e.classes] == [f"annotation-{created.id}"]
    assert root.by_id(f"annotation-{created.id}").get("data-votes") == "2"


def test_a_private_note_never_appears_in_anyone_elses_changes(as_, db, text, room):
    ann = as_("ann")
    private = note(ann, db, text, FIRST, "private", body="ann's secret")
    post(ann, f"/annotations/{private.id}/edit", body="ann's edited secret")
    shared = note(ann, db, text, "forces were needed in the country", room.key, body="shared")
    reply(ann, private, "a reply to herself", context="private")
    token = f"annotation-{private.id}"
    for who in ("ben", "teacher", "carl"):
        for context in (room.key, "private", None):
            if who == "carl" and context == room.key:
                continue
            response = poll(as_(who), 0, context)
            html = body_of(response)
            assert response.status_code in (200, 204), (who, context)
            assert "secret" not in html and "a reply to herself" not in html
            assert f'id="{token}"' not in html
            for mark in parse(html).find_all("mark"):
                # Each mark is drawn by notes this reader sees there, never the private one.
                at = int(mark.get("data-at"))
                there = spot_ids(as_(who), SEED_SLUG, at, context)
                assert there and private.id not in there, (who, context)
    # ben's class changes hold the shared note, whose block shows no private mark.
    root = parse(body_of(poll(as_("ben"), 0, room.key)))
    assert root.by_id(f"annotation-{shared.id}") is not None
    assert marks_for(root.by_id("block-1"), shared.id)
    # ann herself gets it in her private view, and not in the class's.
    assert parse(body_of(poll(ann, 0, "private"))).by_id(token) is not None
    assert parse(body_of(poll(ann, 0, room.key))).by_id(token) is None


def test_changes_of_a_class_are_for_its_members_only(as_, client, room, class_note):
    for response in (
        poll(as_("carl"), 0, room.key),
        client.get(f"{ARTICLE}/changes", query_string={"cursor": 0, "context": room.key}),
    ):
        assert response.status_code == 404
        assert "long term" not in body_of(response)
        assert "hx-request" in vary(response)
    # Nor can the outsider read the class's page or cards.
    carl = as_("carl")
    assert carl.get(ARTICLE, query_string={"context": room.key}).status_code == 404
    cards = carl.get(f"{ARTICLE}/cards", query_string={"context": room.key}, headers=HTMX)
    assert cards.status_code == 404
    # In carl's own default context nothing of the class shows.
    assert poll(carl, 0).status_code == 204


@pytest.mark.parametrize("cursor", ["nonsense", "-1", "9" * 19])
def test_a_bad_cursor_is_a_400(as_, room, cursor):
    response = poll(as_("ben"), cursor, room.key)
    assert_error(response, 400, "Bad live-update cursor.")


# --- reading contexts -----------------------------------------------------------------------


@pytest.fixture
def contexts(as_, db, auth, text, room):
    """ann and ben write in the class and privately; ann is also in an evening class (which
    does not read this article) and writes there."""
    evening = create_class(db.session, room.teacher, "Evening class")
    join_class(db.session, room.ann, evening.join_code)
    db.session.commit()
    ann, ben = as_("ann"), as_("ben")
    return {
        "evening": evening,
        "ann_class": note(ann, db, text, FIRST, room.key, body="ann to the class"),
        "ann_private": note(ann, db, text, SECOND, "private", body="ann to herself"),
        "ben_class": note(ben, db, text, THIRD, room.key, body="ben to the class"),
        "ben_private": note(ben, db, text, "liquidated", "private", body="ben to himself"),
        "ann_evening": note(
            ann, db, text, "Bashar al-Assad said", f"class-{evening.id}", body="ann at night"
        ),
    }


def marked(client, root: Element, context: str) -> set[int]:
    """The notes drawing the page's marks, as the spot partial lists them."""
    return {
        i
        for m in root.find_all("mark")
        for i in spot_ids(client, SEED_SLUG, int(m.get("data-at")), context)
    }


def test_each_context_shows_only_its_notes(as_, room, contexts):
    c = contexts
    ann = as_("ann")
    evening = f"class-{c['evening'].id}"
    expected = {
        "private": [c["ann_private"]],
        room.key: [c["ann_class"], c["ben_class"]],
        evening: [c["ann_evening"]],
    }
    for key, notes in expected.items():
        root = read(ann, context=key)
        assert card_ids(root) == ids_of(*sorted(notes, key=lambda a: a.start)), key
        assert marked(ann, root, key) == {a.id for a in notes}, key
        assert fragment_ids(sidebar(ann, context=key)) == card_ids(root), key
        nav = root.find("nav", class_="contexts")
        [current] = [a for a in nav.find_all("a") if a.get("aria-current") == "page"]
        assert current.get("href") == f"{ARTICLE}?context={key}"
        audience = root.by_id("audience")
        [chosen] = [o.get("value") for o in audience.find_all("option") if "selected" in o.attrs]
        assert chosen == key
    # The default: the class that reads this article.
    assert card_ids(read(ann)) == card_ids(read(ann, context=room.key))
    labels = [a.text() for a in read(ann).find("nav", class_="contexts").find_all("a")]
    assert labels == ["My notes", "Evening class", "Reading group"]
    # ben's private context: his own private note only.
    assert card_ids(read(as_("ben"), context="private")) == ids_of(c["ben_private"])
    assert as_("ben").get(ARTICLE, query_string={"context": evening}).status_code == 404


@pytest.mark.parametrize("key", ["class-x", "classroom-1", "public", "class-" + "9" * 30])
def test_an_unknown_context_is_a_404(as_, room, key):
    assert as_("ann").get(ARTICLE, query_string={"context": key}).status_code == 404


def test_a_note_saved_for_another_audience_gives_an_info_flash(as_, db, text, room):
    ann = as_("ann")
    fields = {**select(text, FIRST), "audience": room.key, "context": "private"}
    response = create(ann, fields, intent="comment", body="for the class")
    assert response.status_code == 200
    saved = latest_annotation(db)
    assert saved.classroom_id == room.classroom.id
    root = parse(body_of(response))
    assert root.by_id(f"annotation-{saved.id}") is None
    flash = root.by_id("flash")
    assert flash.get("hx-swap-oob") == "innerHTML"
    message = flash.find("p")
    assert "flash-info" in message.classes
    assert " ".join(message.text().split()) == (
        "Saved to Reading group. Switch the view to see it there."
    )
    # The private page's blocks do not get the class's mark.
    for block in (e for e in root.top_level() if (e.id or "").startswith("block-")):
        assert marks_for(block, saved.id) == []
    assert read(ann, context="private").by_id(f"annotation-{saved.id}") is None
    for who in ("ann", "ben"):
        root = read(as_(who), context=room.key)
        assert root.by_id(f"annotation-{saved.id}") is not None
        assert marks_for(root, saved.id)


def test_without_javascript_a_note_redirects_to_its_own_context(as_, db, text, room):
    fields = {**select(text, FIRST), "audience": room.key, "intent": "comment", "body": "hi"}
    response = create(as_("ann"), fields, htmx=False)
    assert response.status_code == 302
    saved = latest_annotation(db)
    assert response.headers["Location"] == f"{ARTICLE}?context={room.key}#annotation-{saved.id}"


def test_a_note_cannot_be_posted_to_a_class_one_is_not_in(as_, db, text, room):
    response = create(as_("carl"), {**select(text, FIRST), "audience": room.key})
    assert_error(response, 422, "Cannot post there")
    assert db.session.scalar(sa.select(sa.func.count(Annotation.id))) == 0


def form_fields(root: Element, form_id: str) -> dict[str, str]:
    """What a browser (and htmx) submits from a form: its named inputs and selected options,
    plus the hx-vals of the form and its ancestors."""
    form = root.by_id(form_id)
    fields: dict[str, str] = {}
    for element in [*reversed(list(form.ancestors())), form]:
        if element.get("hx-vals"):
            fields.update(json.loads(element.get("hx-vals")))
    for element in form.iter():
        name = element.get("name")
        if not name:
            continue
        if element.tag == "select":
            chosen = [o for o in element.find_all("option") if "selected" in o.attrs]
            fields[name] = (chosen or element.find_all("option"))[0].get("value")
        elif element.tag == "input" and element.get("type") in ("radio", "checkbox"):
            if "checked" in element.attrs:
                fields[name] = element.get("value")
        elif element.tag == "input":
            fields[name] = element.get("value") or ""
        elif element.tag == "textarea":
            fields[name] = element.text()
    return fields


@pytest.mark.parametrize("context", ["private", "class", "evening"])
@pytest.mark.parametrize("intent", ["highlight", "comment"])
def test_the_toolbar_form_saves_to_the_view_it_was_opened_in(
    as_, db, text, room, contexts, context, intent
):
    """Highlighting or commenting from a page in any context puts the card in that page's
    sidebar; a comment goes to the view's audience, a bare highlight stays private."""
    key = {"private": "private", "class": room.key, "evening": f"class-{contexts['evening'].id}"}[
        context
    ]
    ann = as_("ann")
    root = read(ann, context=key)
    fields = form_fields(root, "annotate-form")
    assert fields["audience"] == key
    fields.update(select(text, "Middle East"), intent=intent)
    if intent == "comment":
        fields["body"] = "A comment for this view"
    response = ann.post(f"{ARTICLE}/annotations", data=fields, headers=HTMX)
    assert response.status_code == 200
    saved = latest_annotation(db)
    shared = intent == "comment" and key != "private"
    assert saved.classroom_id == (int(key[6:]) if shared else None)
    answer = parse(body_of(response))
    card = answer.by_id(f"annotation-{saved.id}")
    assert card is not None, text_of(response)
    assert card.get("hx-swap-oob") == "outerHTML"
    blocks = [e for e in answer.top_level() if (e.id or "").startswith("block-")]
    # The blocks keep the marks the page shows, plus the new one.
    drawn = marked(ann, blocks[0], key)
    assert saved.id in drawn
    assert drawn - {saved.id} <= marked(ann, root, key)


# --- text fidelity ----------------------------------------------------------------------------

TRICKY = "&amp;lt;b&amp;gt; <i>x</i> &copy; AT&T"


def test_comments_replies_and_plain_text_show_exactly_what_was_written(as_, db, text, room):
    """A comment and a reply show what CommonMark makes of them (entities decoded once);
    a class name, a hide reason and a flag reason show exactly what was typed."""
    room.classroom.name = TRICKY
    db.session.commit()
    ann, teacher = as_("ann"), as_("teacher")
    shared = note(ann, db, text, FIRST, room.key, body=TRICKY)
    assert reply(teacher, shared, TRICKY).status_code == 200
    hidden_reason, flag_reason = f"reason {TRICKY}", f"flag {TRICKY}"
    assert post(as_("ben"), f"/annotations/{shared.id}/flag", reason=flag_reason).status_code == 200
    hide = post(teacher, f"/annotations/{shared.id}/hide", hidden="1", reason=hidden_reason)
    assert hide.status_code == 200

    markdown_shows = "&lt;b&gt; <i>x</i> © AT&T"
    root = read(ann, context=room.key)
    card = root.by_id(f"annotation-{shared.id}")
    comments = [" ".join(c.text().split()) for c in card.find_all("div", class_="comment")]
    assert comments == [markdown_shows, markdown_shows]
    hidden_note = with_class(card, "p", "hidden-note")
    assert " ".join(hidden_note.text().split()).endswith(f": {hidden_reason}")
    current = root.find("nav", class_="contexts").find("a", aria_current="page")
    assert current.text() == TRICKY
    assert TRICKY in [o.text() for o in root.by_id("audience").find_all("option")]
    flags = with_class(read(teacher, context=room.key), "details", "flags")
    assert f"ben: {flag_reason}" in [" ".join(li.text().split()) for li in flags.find_all("li")]
    for url in ("/classes", f"/classes/{room.classroom.id}"):
        assert TRICKY in page(ann.get(url)).text()


# --- a bare highlight is its author's own ---------------------------------------------------


def test_a_bare_highlight_made_in_a_class_view_is_private(as_, db, text, room):
    """The server keeps it private whatever audience the toolbar sends; its author still
    sees it in the class view (mark and card, marked "Only you"), nobody else anywhere."""
    ann, ben = as_("ann"), as_("ben")
    cursor = cursor_of(read(ann, context=room.key))
    mark = note(ann, db, text, FIRST, room.key)
    assert mark.classroom_id is None
    root = read(ann, context=room.key)
    assert marks_for(root, mark.id)
    card = root.by_id(f"annotation-{mark.id}")
    assert "Only you" in [s.text() for s in card.find_all("span") if "badge" in s.classes]
    assert read(ann, context="private").by_id(f"annotation-{mark.id}") is not None
    for who in ("ben", "teacher"):
        page_root = read(as_(who), context=room.key)
        assert page_root.by_id(f"annotation-{mark.id}") is None
        assert not marks_for(page_root, mark.id)
        assert f"annotation-{mark.id}" not in body_of(poll(as_(who), cursor, room.key))
    # The author's other tabs on the class view get it live, as the page shows it.
    assert parse(body_of(poll(ann, cursor, room.key))).by_id(f"annotation-{mark.id}")
    assert post(ben, f"/annotations/{mark.id}/vote").status_code == 404


@pytest.mark.parametrize(
    "extra", [{"question": "on"}, {"tags": "sources"}, {"intent": "comment", "body": "Why?"}]
)
def test_a_comment_a_question_or_tags_make_a_note_for_the_class(as_, db, text, room, extra):
    shared = note(as_("ann"), db, text, FIRST, room.key, **extra)
    assert shared.classroom_id == room.classroom.id
    assert read(as_("ben"), context=room.key).by_id(f"annotation-{shared.id}") is not None


def edit_form(client, annotation: Annotation, context: str) -> Element:
    response = client.get(
        f"/annotations/{annotation.id}/edit", query_string={"context": context}, headers=HTMX
    )
    assert response.status_code == 200, body_of(response)
    return card_in(response, annotation)


def test_a_private_highlight_given_a_comment_stays_private_unless_shared(as_, db, text, room):
    ann, ben = as_("ann"), as_("ben")
    mark = note(ann, db, text, FIRST, room.key)
    url = f"/annotations/{mark.id}/edit"
    # The edit form offers the author's classes, "Only me" chosen.
    choice = edit_form(ann, mark, room.key).find("select", name="audience")
    options = [(o.get("value"), o.text(), "selected" in o.attrs) for o in choice.find_all("option")]
    assert options == [("private", "Only me", True), (room.key, "Reading group", False)]

    # A comment alone keeps it private: it leaves the class view, which says where it went.
    response = post(ann, url, body="Only my thought", audience="private", context=room.key)
    assert response.status_code == 200
    assert fetch_annotation(db, mark.id).classroom_id is None
    root = parse(body_of(response))
    assert root.by_id(f"annotation-{mark.id}") is None
    assert "Saved to your private notes." in root.by_id("flash").text()
    blocks = [e for e in root.top_level() if (e.id or "").startswith("block-")]
    assert blocks and not any(marks_for(block, mark.id) for block in blocks)
    assert read(ann, context=room.key).by_id(f"annotation-{mark.id}") is None
    assert read(ann, context="private").by_id(f"annotation-{mark.id}") is not None

    # Shared from the private view: it goes to the class, and the class sees it.
    response = post(ann, url, body="For everyone", audience=room.key, context="private")
    assert response.status_code == 200, body_of(response)
    assert fetch_annotation(db, mark.id).classroom_id == room.classroom.id
    assert "Shared with Reading group." in parse(body_of(response)).by_id("flash").text()
    assert read(ben, context=room.key).by_id(f"annotation-{mark.id}") is not None
    # A shared note stays shared; the edit form no longer offers a choice.
    assert edit_form(ann, mark, room.key).find("select", name="audience") is None
    assert_error(
        post(ann, url, body="back", audience="private", context=room.key),
        422,
        "A note shared with a class stays there",
    )
    assert fetch_annotation(db, mark.id).classroom_id == room.classroom.id


def test_sharing_needs_a_comment_and_a_class_of_ones_own(as_, db, text, room):
    ann = as_("ann")
    mark = note(ann, db, text, FIRST, "private")
    url = f"/annotations/{mark.id}/edit"
    assert_error(
        post(ann, url, body="  ", audience=room.key),
        422,
        "Write a comment to share it with Reading group.",
    )
    other = create_class(db.session, room.carl, "Carl's class")
    db.session.commit()
    assert_error(post(ann, url, body="hi", audience=f"class-{other.id}"), 422, "Cannot share")
    stored = fetch_annotation(db, mark.id)
    assert (stored.classroom_id, stored.body_markdown) == (None, "")


# A write asked to answer in a view one cannot read is refused before it writes: a 404
# after the commit would report a failure for a change that was made.
UNREADABLE_CONTEXTS = ["class-99999", "nonsense", "class-2147483648"]


@pytest.mark.parametrize("context", UNREADABLE_CONTEXTS)
def test_a_vote_in_an_unreadable_context_is_refused_unmade(as_, db, room, discussion, context):
    target = discussion["teacher_note"]
    response = post(as_("ben"), f"/annotations/{target.id}/vote", context=context)
    assert response.status_code == 404
    assert "Choose another view" in body_of(response)
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


@pytest.mark.parametrize("context", UNREADABLE_CONTEXTS)
def test_other_discussion_writes_in_an_unreadable_context_change_nothing(
    as_, db, room, discussion, context
):
    d = discussion
    teacher, ben = as_("teacher"), as_("ben")
    refused = [
        post(teacher, f"/annotations/{d['ben_note'].id}/pin", pinned="1", context=context),
        post(teacher, f"/annotations/{d['ben_note'].id}/hide", hidden="1", context=context),
        post(ben, f"/annotations/{d['ann_q'].id}/replies", body="Hello", context=context),
        post(ben, f"/annotations/{d['ben_q'].id}/answered", answered="0", context=context),
        post(ben, f"/annotations/{d['ben_note'].id}/edit", body="Changed", context=context),
        post(ben, f"/annotations/{d['ben_note'].id}/delete", context=context),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)
    db.session.expire_all()
    note = db.session.get(Annotation, d["ben_note"].id)
    assert (note.pinned, note.hidden, note.body_markdown, note.deleted_at) == (
        False,
        False,
        "The base",
        None,
    )
    assert db.session.get(Annotation, d["ben_q"].id).answered_at is not None
    assert replies_of(db, d["ann_q"]) == []


def test_an_outsider_naming_a_class_they_are_not_in_is_refused(as_, db, room, discussion):
    response = post(
        as_("carl"), f"/annotations/{discussion['ben_private'].id}/vote", context=room.key
    )
    assert response.status_code == 404


def test_a_private_highlight_asked_in_an_unreadable_view_is_not_saved(as_, db, room, text):
    start = text.index(FIRST)
    response = post(
        as_("ben"),
        f"{ARTICLE}/annotations",
        start=start,
        end=start + len(FIRST),
        exact=FIRST,
        audience="private",
        context="class-99999",
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Annotation.id))) == 0
