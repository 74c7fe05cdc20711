"""The access matrix: who may see and do what, through every read path and every write.

Actors: anonymous; a signed-in non-member; the author (student A, who wrote the objects);
another student (B) of the same class; the instructor of another class; the class's
instructor; a co-instructor (a student the class promoted); a student of the class in
another group (the class reads the article in groups: A and B share a group, so this
student reads none of their notes, only the instructors').
Objects, all A's: a private annotation, a class annotation, a class annotation
the instructor hid, a reply on B's class annotation, and the same kind of reply hidden.
Actions: see it on the page, in the cards partial, by searching the sidebar, in its card
(GET /annotations/<id>), in a live update, in the JSON-LD export (one annotation, and the
article's collection), be counted in the participation CSV; and every write: edit,
delete, restore (after its author deleted it), hide (unhide, for the hidden ones), pin,
reply (to the note, or to the reply), vote, mark answered (the notes are questions), flag
(the note, or the reply).

The expected allow/deny table is written out below (EXPECTED, one line per object and
action); test_table_follows_the_rules derives it again from the rules in DESIGN.md so that a
typo in either is caught. Every cell builds the whole world afresh (with the services, not
through HTTP) and checks both ways: a deny asserts the precise status and that the object's
text and id appear nowhere in the response; an allow asserts success and that the text
appears (reads) or that the database changed (writes).

A refused write never tells whether the object exists: to someone who cannot see the
object it answers exactly (status and message) as the same request about an id that does
not exist; 403 is only for an object one sees but may not change.

Notes on what "appears" means here:
- The quote is article text (it is on the page anyway), so each object carries a comment
  with a unique word; its id shows as a card (annotation-N / reply-N), an entry of the
  notes at a spot (data-spot-note), a jump link, a URL.
- A live update's delete directive (`<div id="annotation-N" hx-swap-oob="delete">`) names
  the id too, so it counts as showing: it is only for a card the reader may have had (one
  that existed at their cursor and was then hidden or deleted). Live is polled from cursor
  0 and again after the author touches the object (an edit of a hidden note must not send
  its id to the class either).
- The JSON-LD export carries replies (EXPORTS_REPLIES) as annotations of their own
  (GET /api/replies/<id>, and in the article's collection after their note).
- The Markdown export and the printable annotated article (GET /articles/<slug>/notes.md
  and /annotated) are asked in every context, like the page: without a context they hold
  one's own notes, with one the notes of that context, each with its visible replies.
- The participation CSV exports counts, never text: the text of every object must be
  absent, and an object "is counted" when soft-deleting it changes the author's row.
  Hidden work counts (the instructor may see it); private notes do not.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG, session_id_for
from tests.functional.helpers import marks_for, parse, select
from webapp.models import (
    Annotation,
    AssignmentMode,
    Document,
    Flag,
    Reply,
    Role,
    User,
    Vote,
    utcnow,
)
from webapp.services.annotations import create_annotation, delete_annotation, update_annotation
from webapp.services.class_roles import set_role
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply, set_hidden, update_reply
from webapp.services.groups import create_group, place, set_mode
from webapp.services.live import latest_change

ACTORS = (
    "anonymous",
    "non_member",
    "author",
    "another_student",
    "other_instructor",
    "instructor",
    "co_instructor",
    "other_group",
)
ANNOTATIONS = ("private_annotation", "class_annotation", "hidden_annotation")
REPLIES = ("reply", "hidden_reply")
OBJECTS = ANNOTATIONS + REPLIES
READS = (
    "page",
    "cards",
    "search",
    "card",
    "live",
    "export",
    "export_list",
    "csv",
    "markdown",
    "printable",
)
WRITES = ("edit", "delete", "restore", "hide", "pin", "reply", "vote", "answered", "flag")
ANNOTATION_ONLY = ("pin", "restore", "vote", "answered")  # no such route for a reply
MISSING_ID = 987654321

# Each object's comment: a word found nowhere else, so its presence is unambiguous.
TEXT = {
    "private_annotation": "Quokka private musing",
    "class_annotation": "Axolotl class comment",
    "hidden_annotation": "Narwhal hidden remark",
    "reply": "Pangolin reply text",
    "hidden_reply": "Okapi hidden reply",
}
THREAD_TEXT = "Capybara thread opener"  # B's class annotation, which A's replies answer
EDITED = "Edited by the access matrix"
EXPORTS_REPLIES = True  # replies are Web Annotations too (motivation "replying")
SEARCHES_REPLIES = False  # the sidebar's search (?q=) looks in quotes and comments


def actions_of(obj: str) -> tuple[str, ...]:
    """Pinning, restoring, voting and marking answered are for annotations only."""
    actions = READS + WRITES
    return actions if obj in ANNOTATIONS else tuple(a for a in actions if a not in ANNOTATION_ONLY)


# --- the expected table ---------------------------------------------------------------------

# Y = allowed, - = denied. Columns in ACTORS order: anonymous, non_member, author,
# another_student (B), other_instructor, instructor, co_instructor, other_group.
TABLE = """
object              action       anon    nonmem  author  B       other_i instr   co_inst group2
private_annotation  page         -       -       Y       -       -       -       -       -
private_annotation  markdown     -       -       Y       -       -       -       -       -
private_annotation  printable    -       -       Y       -       -       -       -       -
private_annotation  cards        -       -       Y       -       -       -       -       -
private_annotation  search       -       -       Y       -       -       -       -       -
private_annotation  card         -       -       Y       -       -       -       -       -
private_annotation  live         -       -       Y       -       -       -       -       -
private_annotation  export       -       -       Y       -       -       -       -       -
private_annotation  export_list  -       -       Y       -       -       -       -       -
private_annotation  csv          -       -       -       -       -       -       -       -
private_annotation  edit         -       -       Y       -       -       -       -       -
private_annotation  delete       -       -       Y       -       -       -       -       -
private_annotation  restore      -       -       Y       -       -       -       -       -
private_annotation  hide         -       -       -       -       -       -       -       -
private_annotation  pin          -       -       -       -       -       -       -       -
private_annotation  reply        -       -       Y       -       -       -       -       -
private_annotation  vote         -       -       -       -       -       -       -       -
private_annotation  answered     -       -       Y       -       -       -       -       -
private_annotation  flag         -       -       -       -       -       -       -       -
class_annotation    page         -       -       Y       Y       -       Y       Y       -
class_annotation    markdown     -       -       Y       Y       -       Y       Y       -
class_annotation    printable    -       -       Y       Y       -       Y       Y       -
class_annotation    cards        -       -       Y       Y       -       Y       Y       -
class_annotation    search       -       -       Y       Y       -       Y       Y       -
class_annotation    card         -       -       Y       Y       -       Y       Y       -
class_annotation    live         -       -       Y       Y       -       Y       Y       -
class_annotation    export       -       -       Y       Y       -       Y       Y       -
class_annotation    export_list  -       -       Y       Y       -       Y       Y       -
class_annotation    csv          -       -       -       -       -       Y       Y       -
class_annotation    edit         -       -       Y       -       -       -       -       -
class_annotation    delete       -       -       Y       -       -       -       -       -
class_annotation    restore      -       -       Y       -       -       -       -       -
class_annotation    hide         -       -       -       -       -       Y       Y       -
class_annotation    pin          -       -       -       -       -       Y       Y       -
class_annotation    reply        -       -       Y       Y       -       Y       Y       -
class_annotation    vote         -       -       -       Y       -       Y       Y       -
class_annotation    answered     -       -       Y       -       -       Y       Y       -
class_annotation    flag         -       -       Y       Y       -       Y       Y       -
hidden_annotation   page         -       -       Y       -       -       Y       Y       -
hidden_annotation   markdown     -       -       Y       -       -       Y       Y       -
hidden_annotation   printable    -       -       Y       -       -       Y       Y       -
hidden_annotation   cards        -       -       Y       -       -       Y       Y       -
hidden_annotation   search       -       -       Y       -       -       Y       Y       -
hidden_annotation   card         -       -       Y       -       -       Y       Y       -
hidden_annotation   live         -       -       Y       -       -       Y       Y       -
hidden_annotation   export       -       -       Y       -       -       Y       Y       -
hidden_annotation   export_list  -       -       Y       -       -       Y       Y       -
hidden_annotation   csv          -       -       -       -       -       Y       Y       -
hidden_annotation   edit         -       -       Y       -       -       -       -       -
hidden_annotation   delete       -       -       Y       -       -       -       -       -
hidden_annotation   restore      -       -       Y       -       -       -       -       -
hidden_annotation   hide         -       -       -       -       -       Y       Y       -
hidden_annotation   pin          -       -       -       -       -       Y       Y       -
hidden_annotation   reply        -       -       Y       -       -       Y       Y       -
hidden_annotation   vote         -       -       -       -       -       Y       Y       -
hidden_annotation   answered     -       -       Y       -       -       Y       Y       -
hidden_annotation   flag         -       -       Y       -       -       Y       Y       -
reply               page         -       -       Y       Y       -       Y       Y       -
reply               markdown     -       -       Y       Y       -       Y       Y       -
reply               printable    -       -       Y       Y       -       Y       Y       -
reply               cards        -       -       Y       Y       -       Y       Y       -
reply               search       -       -       -       -       -       -       -       -
reply               card         -       -       Y       Y       -       Y       Y       -
reply               live         -       -       Y       Y       -       Y       Y       -
reply               export       -       -       Y       Y       -       Y       Y       -
reply               export_list  -       -       Y       Y       -       Y       Y       -
reply               csv          -       -       -       -       -       Y       Y       -
reply               edit         -       -       Y       -       -       -       -       -
reply               delete       -       -       Y       -       -       -       -       -
reply               hide         -       -       -       -       -       Y       Y       -
reply               reply        -       -       Y       Y       -       Y       Y       -
reply               flag         -       -       Y       Y       -       Y       Y       -
hidden_reply        page         -       -       Y       -       -       Y       Y       -
hidden_reply        markdown     -       -       Y       -       -       Y       Y       -
hidden_reply        printable    -       -       Y       -       -       Y       Y       -
hidden_reply        cards        -       -       Y       -       -       Y       Y       -
hidden_reply        search       -       -       -       -       -       -       -       -
hidden_reply        card         -       -       Y       -       -       Y       Y       -
hidden_reply        live         -       -       Y       -       -       Y       Y       -
hidden_reply        export       -       -       Y       -       -       Y       Y       -
hidden_reply        export_list  -       -       Y       -       -       Y       Y       -
hidden_reply        csv          -       -       -       -       -       Y       Y       -
hidden_reply        edit         -       -       Y       -       -       -       -       -
hidden_reply        delete       -       -       Y       -       -       -       -       -
hidden_reply        hide         -       -       -       -       -       Y       Y       -
hidden_reply        reply        -       -       Y       -       -       Y       Y       -
hidden_reply        flag         -       -       Y       -       -       Y       Y       -
"""


def parse_table(table: str) -> dict[tuple[str, str, str], bool]:
    lines = [line.split() for line in table.strip().splitlines()]
    expected = {}
    for obj, action, *marks in lines[1:]:
        assert len(marks) == len(ACTORS), (obj, action)
        for actor, mark in zip(ACTORS, marks, strict=True):
            assert mark in ("Y", "-"), (obj, action, mark)
            expected[(actor, obj, action)] = mark == "Y"
    return expected


EXPECTED: dict[tuple[str, str, str], bool] = parse_table(TABLE)

# Cells where the app is known to be wrong: (actor, object, action) -> reason. Empty: none.
LEAKS: dict[tuple[str, str, str], str] = {}


# --- the rules, to check the table against ----------------------------------------------------

INSTRUCTORS = ("instructor", "co_instructor")
MEMBERS = ("author", "another_student", *INSTRUCTORS)  # those who read A's group
CLASS_MEMBERS = (*MEMBERS, "other_group")


def rule_sees(actor: str, obj: str) -> bool:
    """Private: the author. Class: the class's members. Hidden: its instructor and the
    author. Replies follow their annotation (B's class annotation, seen by the members)."""
    if actor == "author":
        return True
    if obj == "private_annotation":
        return False
    if obj in ("hidden_annotation", "hidden_reply"):
        return actor in INSTRUCTORS
    return actor in MEMBERS


def rule(actor: str, obj: str, action: str) -> bool:
    if action in ("page", "cards", "card", "live", "markdown", "printable"):
        return rule_sees(actor, obj)
    if action in ("export", "export_list"):
        return rule_sees(actor, obj) and (obj in ANNOTATIONS or EXPORTS_REPLIES)
    if action == "search":
        return rule_sees(actor, obj) and (obj in ANNOTATIONS or SEARCHES_REPLIES)
    if action == "csv":  # counts for the class's instructor, of class work only
        return actor in INSTRUCTORS and obj != "private_annotation"
    if action in ("edit", "delete", "restore"):
        return actor == "author"
    if action in ("hide", "pin"):
        return actor in INSTRUCTORS and obj != "private_annotation"
    if action == "reply":  # whoever sees it (on a private note, that is its author)
        return rule_sees(actor, obj)
    if action == "vote":  # class members who see it, but not for their own note
        return rule_sees(actor, obj) and obj != "private_annotation" and actor != "author"
    if action == "answered":  # the asker or the class's instructor
        return rule_sees(actor, obj) and actor in ("author", *INSTRUCTORS)
    if action == "flag":  # class members who see it
        return rule_sees(actor, obj) and obj != "private_annotation"
    raise AssertionError(action)


def container_visible(actor: str, obj: str) -> bool:
    """Whether the actor sees the annotation a card or an export of `obj` is about: the
    object itself, or for a reply the annotation it answers."""
    return rule_sees(actor, obj) if obj in ANNOTATIONS else actor in MEMBERS


def test_table_follows_the_rules():
    cells = {(a, o, x) for o in OBJECTS for x in actions_of(o) for a in ACTORS}
    assert set(EXPECTED) == cells
    wrong = {cell: allowed for cell, allowed in EXPECTED.items() if allowed != rule(*cell)}
    assert not wrong, f"the table disagrees with the rules at {wrong}"


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    db: object
    users: dict[str, User]
    classroom_id: int
    other_id: int
    ids: dict[str, int]  # object -> annotation or reply id
    thread_id: int  # B's class annotation, under which A's replies are

    def sign_in(self, client, actor: str) -> None:
        if actor == "anonymous":
            return
        user = self.users[actor]
        with client.session_transaction() as session:
            session["_user_id"] = session_id_for(self.db, user)
            session["_fresh"] = True

    def contexts(self) -> dict[str, str | None]:
        """Every reading context asked for: the default, private, the class, the other."""
        return {
            "default": None,
            "private": "private",
            "class": f"class-{self.classroom_id}",
            "other_class": f"class-{self.other_id}",
        }

    def home(self, obj: str) -> str:
        return "private" if obj == "private_annotation" else "class"

    def row(self, obj: str) -> Annotation | Reply:
        self.db.session.expire_all()
        model = Reply if obj in REPLIES else Annotation
        return self.db.session.get(model, self.ids[obj])

    def card_id(self, obj: str) -> int:
        """The annotation whose card (and export) shows `obj`."""
        return self.ids[obj] if obj in ANNOTATIONS else self.thread_id


def usable(actor: str, context: str) -> bool:
    """May the actor read in this context? (anyone: default and private; members: theirs)"""
    if context in ("default", "private"):
        return True
    if context == "class":
        return actor in CLASS_MEMBERS
    return actor == "other_instructor"


@pytest.fixture
def world(db, seed_document) -> World:
    """The whole world, built afresh for each cell with the services (no HTTP, no hashing)."""
    session = db.session
    users = {}
    for actor, name in (
        ("non_member", "nadia"),
        ("author", "ana"),
        ("another_student", "ben"),
        ("other_instructor", "olga"),
        ("instructor", "teacher"),
        ("co_instructor", "cora"),
        ("other_group", "gus"),
    ):
        users[actor] = User(username=name, password_hash="!not-a-password")
        session.add(users[actor])
    session.flush()
    classroom = create_class(session, users["instructor"], "History 10")
    other = create_class(session, users["other_instructor"], "Other class")
    join_class(session, users["author"], classroom.join_code)
    join_class(session, users["another_student"], classroom.join_code)
    for actor in ("co_instructor", "other_group"):
        join_class(session, users[actor], classroom.join_code)
    set_role(session, classroom, users["co_instructor"].id, Role.INSTRUCTOR.value)
    # The class reads the article in groups: A and B in one, the other group's student
    # in another (who then reads none of A's or B's notes).
    ours, theirs = (create_group(session, classroom, name) for name in ("Ours", "Theirs"))
    for actor, group in (("author", ours), ("another_student", ours), ("other_group", theirs)):
        place(session, classroom, users[actor].id, group)
    assignment = assign(session, classroom, seed_document, None)
    set_mode(session, classroom, assignment.id, AssignmentMode.GROUPS.value)
    assign(session, other, seed_document, None)
    version = seed_document.current_version
    in_class = f"class-{classroom.id}"

    def note(author: User, phrase: str, body: str, audience: str) -> Annotation:
        form = {**select(version.text, phrase), "body": body, "audience": audience}
        return create_annotation(session, author, version, {**form, "question": "on"})

    author = users["author"]
    private = note(
        author, "needed for balance in our region", TEXT["private_annotation"], "private"
    )
    shared = note(author, "Hmeimim military base", TEXT["class_annotation"], in_class)
    hidden = note(author, "main issue being discussed", TEXT["hidden_annotation"], in_class)
    set_hidden(session, hidden, hidden, users["instructor"], True, "Off topic")
    thread = note(users["another_student"], "White Helmets volunteers", THREAD_TEXT, in_class)
    reply = add_reply(session, author, thread, TEXT["reply"], None)
    hidden_reply = add_reply(session, author, thread, TEXT["hidden_reply"], None)
    set_hidden(session, hidden_reply, thread, users["instructor"], True, "Off topic")
    session.commit()
    ids = {
        "private_annotation": private.id,
        "class_annotation": shared.id,
        "hidden_annotation": hidden.id,
        "reply": reply.id,
        "hidden_reply": hidden_reply.id,
    }
    return World(db, users, classroom.id, other.id, ids, thread.id)


# --- what a response shows ------------------------------------------------------------------


def id_references(world: World, obj: str, body: str) -> list[str]:
    """Every place the body names the object's id (a live update's delete directive too)."""
    number = world.ids[obj]
    if obj in ANNOTATIONS:
        pattern = rf'(?:annotation-|annotations/|data-annotation="|data-jump="){number}(?!\d)'
        found = re.findall(pattern, body)
        found += [f"mark {number}" for _ in marks_for(parse(body), number)]
        return found
    pattern = rf'(?:reply-|reply-edit-|replies/|parent=|name="reply_id" value="){number}(?!\d)'
    return re.findall(pattern, body)


def assert_hidden_from(world: World, obj: str, body: str, where: str) -> None:
    assert TEXT[obj] not in body, f"LEAK: {obj}'s text in {where}"
    refs = id_references(world, obj, body)
    assert not refs, f"LEAK: {obj}'s id in {where}: {refs}"


def assert_shown(world: World, obj: str, body: str, where: str, marks: bool) -> None:
    """The text, the card (or the reply in its thread) and, where the article is, the mark."""
    root = parse(body)
    assert TEXT[obj] in body, f"{obj}'s text missing from {where}"
    element = f"annotation-{world.ids[obj]}" if obj in ANNOTATIONS else f"reply-{world.ids[obj]}"
    found = root.by_id(element)
    assert found is not None and TEXT[obj] in found.text(), f"no {element} in {where}"
    if marks and obj in ANNOTATIONS:
        assert marks_for(root, world.ids[obj]), f"no mark of {obj} in {where}"


def context_query(key: str | None) -> str:
    return f"?context={key}" if key else ""


# --- the reads --------------------------------------------------------------------------------


def check_in_contexts(world, client, actor, obj, allowed, url: str, marks: bool, htmx: bool):
    """Ask in every context: 404 where the actor may not read; elsewhere the object only
    when allowed, and then surely in its own context."""
    for name, key in world.contexts().items():
        response = client.get(url + context_query(key), headers=HTMX if htmx else {})
        body = response.get_data(as_text=True)
        where = f"{url} in context {name}"
        if not usable(actor, name):
            assert response.status_code == 404, (where, response.status_code)
            assert_hidden_from(world, obj, body, where)
            continue
        if url.endswith("/changes"):
            expected = {204} if actor == "anonymous" else {200, 204}
        else:
            expected = {200}
        assert response.status_code in expected, (where, response.status_code)
        if allowed and name == world.home(obj):
            assert response.status_code == 200, where
            assert_shown(world, obj, body, where, marks)
        elif not allowed:
            assert_hidden_from(world, obj, body, where)


def check_page(world, client, actor, obj, allowed):
    url = f"/articles/{SEED_SLUG}"
    check_in_contexts(world, client, actor, obj, allowed, url, marks=True, htmx=False)


def check_cards(world, client, actor, obj, allowed):
    url = f"/articles/{SEED_SLUG}/cards"
    check_in_contexts(world, client, actor, obj, allowed, url, marks=False, htmx=True)


def poll_everywhere(world, client, actor, obj, allowed, cursor: int, where: str) -> None:
    url = f"/articles/{SEED_SLUG}/changes"
    for name, key in world.contexts().items():
        query = f"?cursor={cursor}&context={key}" if key else f"?cursor={cursor}"
        response = client.get(url + query, headers=HTMX)
        body = response.get_data(as_text=True)
        here = f"{where} in context {name}"
        if not usable(actor, name):
            assert response.status_code == 404, (here, response.status_code)
            assert_hidden_from(world, obj, body, here)
            continue
        expected = {204} if actor == "anonymous" else {200, 204}
        assert response.status_code in expected, (here, response.status_code)
        if allowed and name == world.home(obj):
            assert response.status_code == 200, here
            assert_shown(world, obj, body, here, marks=True)
        elif not allowed:
            assert_hidden_from(world, obj, body, here)


def check_search(world, client, actor, obj, allowed):
    """The sidebar searched for the object's own word, in every context. A deny finds no
    card at all: not the object's, and not (for a reply) its thread's, which would say
    what the hidden text contains."""
    url = f"/articles/{SEED_SLUG}/cards?q={TEXT[obj].split()[0].lower()}"
    for name, key in world.contexts().items():
        response = client.get(url + (f"&context={key}" if key else ""), headers=HTMX)
        body = response.get_data(as_text=True)
        where = f"{url} in context {name}"
        if not usable(actor, name):
            assert response.status_code == 404, (where, response.status_code)
            assert_hidden_from(world, obj, body, where)
            continue
        assert response.status_code == 200, (where, response.status_code)
        if allowed and name == world.home(obj):
            assert_shown(world, obj, body, where, marks=False)
        elif not allowed:
            assert_hidden_from(world, obj, body, where)
            found = [e.id for e in parse(body).iter() if "card" in e.classes]
            assert not found, f"LEAK: searching {obj}'s word in {where} finds {found}"


def check_live(world, client, actor, obj, allowed):
    """Polled from cursor 0 (every change ever recorded in the context), then from the
    latest cursor after the author touched the object again (an edit keeping its text)."""
    poll_everywhere(world, client, actor, obj, allowed, 0, "live changes from cursor 0")
    session = world.db.session
    cursor = latest_change(session, world.row("class_annotation").document_id)
    row, author = world.row(obj), world.users["author"]
    if obj in ANNOTATIONS:
        update_annotation(session, row, author, {"body": TEXT[obj]})
    else:
        update_reply(session, row, author, TEXT[obj])
    session.commit()
    poll_everywhere(world, client, actor, obj, allowed, cursor, "live changes after an edit")


def check_card(world, client, actor, obj, allowed):
    """The card alone, as htmx asks for it: the page sends its context with every request
    (hx-vals), so it is asked in every context too. 404 unless the actor sees the
    annotation and may read in that context."""
    url = f"/annotations/{world.card_id(obj)}"
    for name, key in world.contexts().items():
        response = client.get(url + context_query(key), headers=HTMX)
        body = response.get_data(as_text=True)
        where = f"{url} in context {name}"
        status = 200 if container_visible(actor, obj) and usable(actor, name) else 404
        assert response.status_code == status, (where, response.status_code)
        if allowed and name == world.home(obj):
            assert_shown(world, obj, body, where, marks=False)
        elif not allowed:
            assert_hidden_from(world, obj, body, where)


def json_ids(doc) -> list[str]:
    if isinstance(doc, dict):
        found = [doc["id"]] if isinstance(doc.get("id"), str) else []
        return found + [i for value in doc.values() for i in json_ids(value)]
    if isinstance(doc, list):
        return [i for value in doc for i in json_ids(value)]
    return []


def api_path(world: World, obj: str) -> str:
    kind = "annotations" if obj in ANNOTATIONS else "replies"
    return f"/api/{kind}/{world.ids[obj]}"


def check_export(world, client, actor, obj, allowed):
    url = api_path(world, obj)
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == (200 if allowed else 404), (url, response.status_code)
    if obj in REPLIES:  # the thread's note answers by its own visibility
        note = client.get(f"/api/annotations/{world.thread_id}")
        assert note.status_code == (200 if container_visible(actor, obj) else 404)
        assert TEXT[obj] not in note.get_data(as_text=True)
    if allowed:
        doc = json.loads(body)
        assert doc["body"]["value"] == TEXT[obj]
        assert doc["id"].endswith(url)
    else:
        assert TEXT[obj] not in body, f"LEAK: {obj}'s text in {url}"
        assert not any(i.endswith(url) for i in json_ids(json.loads(body)))


def check_export_list(world, client, actor, obj, allowed):
    url = f"/api/articles/{SEED_SLUG}/annotations"
    for page in ("", "?page=1"):
        response = client.get(url + page)
        assert response.status_code == 200, (url + page, response.status_code)
        body = response.get_data(as_text=True)
        doc = json.loads(body)
        listed = any(i.endswith(api_path(world, obj)) for i in json_ids(doc))
        if allowed:
            assert TEXT[obj] in body and listed, f"{obj} missing from {url + page}"
        else:
            assert TEXT[obj] not in body, f"LEAK: {obj}'s text in {url + page}"
            assert not listed, f"LEAK: {obj}'s id in {url + page}"
            # Nothing targets it either (a reply to a hidden reply targets the note).
            assert api_path(world, obj) not in body, f"LEAK: {obj} named in {url + page}"


def author_row(response) -> list[str]:
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, *rest = rows
    student = header.index("student")
    mine = [row for row in rest if row[student] == "ana"]
    assert len(mine) == 1, rows
    return mine[0]


def check_csv(world, client, actor, obj, allowed):
    url = f"/classes/{world.classroom_id}/participation.csv"
    response = client.get(url)
    body = response.get_data(as_text=True)
    for text in TEXT.values():
        assert text not in body, f"LEAK: text in {url}"
    if actor == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        return
    status = {actor: 200 for actor in INSTRUCTORS}
    status = {**status, "author": 403, "another_student": 403, "other_group": 403}.get(actor, 404)
    assert response.status_code == status, (url, response.status_code)
    if status != 200:
        return
    before = author_row(response)
    world.row(obj).deleted_at = utcnow()
    world.db.session.commit()
    after = author_row(client.get(url))
    counted = before != after
    assert counted == allowed, f"{obj} counted={counted} in the participation CSV"


def check_note_export(path: str):
    """The Markdown export or the printable article, in every context (none: one's own
    notes): 404 where the actor may not read, the object only when allowed."""

    def check(world, client, actor, obj, allowed):
        url = f"/articles/{SEED_SLUG}/{path}"
        for name, key in world.contexts().items():
            response = client.get(url + context_query(key))
            body = response.get_data(as_text=True)
            where = f"{url} in context {name}"
            if actor == "anonymous":
                assert response.status_code == 302 and "/login" in response.headers["Location"]
            elif not usable(actor, name):
                assert response.status_code == 404, (where, response.status_code)
            else:
                assert response.status_code == 200, (where, response.status_code)
                if allowed and name == world.home(obj):
                    assert TEXT[obj] in body, f"{obj}'s text missing from {where}"
                    continue
            if not allowed:
                assert_hidden_from(world, obj, body, where)

    return check


# --- the writes -------------------------------------------------------------------------------


def related(world: World, obj: str, model) -> int:
    """Rows of `model` (Reply, Vote or Flag) about the object: replies answering it, votes
    for it, flags on it."""
    session = world.db.session
    if model is Reply:
        column = Reply.parent_id if obj in REPLIES else Reply.annotation_id
        return session.scalar(sa.select(sa.func.count(Reply.id)).where(column == world.ids[obj]))
    if model is Flag and obj in REPLIES:
        where = Flag.reply_id == world.ids[obj]
    elif model is Flag:
        where = sa.and_(Flag.annotation_id == world.ids[obj], Flag.reply_id.is_(None))
    else:
        where = Vote.annotation_id == world.ids[obj]
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(where))


def snapshot(world: World, obj: str) -> tuple:
    row = world.row(obj)
    return (
        row.body_markdown,
        row.deleted_at,
        row.hidden,
        getattr(row, "pinned", None),
        getattr(row, "answered_at", None),
        related(world, obj, Reply),
        related(world, obj, Vote),
        related(world, obj, Flag),
    )


ROUTES = {
    "reply": ("replies", "parent_id"),
    "flag": ("flag", "reply_id"),
}


def write_request(world: World, obj: str, action: str, missing: bool = False):
    """The URL and form of the write, about the object or (missing) about an id that does
    not exist in the same place: a reply is answered and flagged through its thread."""
    number = MISSING_ID if missing else world.ids[obj]
    data: dict[str, str] = {}
    if action == "edit":
        data = {"body": EDITED}
    elif action == "hide":  # toggles: a hidden object is unhidden
        data = {"hidden": "0" if world.row(obj).hidden else "1", "reason": "matrix"}
    elif action == "pin":
        data = {"pinned": "1"}
    elif action == "answered":
        data = {"answered": "1"}
    elif action == "reply":
        data = {"body": "A reply from the access matrix"}
    elif action == "flag":
        data = {"reason": "matrix"}
    if action in ROUTES and obj in REPLIES:
        path, field = ROUTES[action]
        data[field] = str(number)
        return f"/annotations/{world.thread_id}/{path}", data
    kind = "annotations" if obj in ANNOTATIONS else "replies"
    path = ROUTES.get(action, (action,))[0]
    return f"/{kind}/{number}/{path}", data


def changed(world: World, actor: str, obj: str, action: str, before: tuple) -> bool:
    row = world.row(obj)
    if action == "edit":
        return row.body_markdown == EDITED
    if action == "delete":
        return row.deleted_at is not None
    if action == "restore":
        return row.deleted_at is None
    if action == "hide":
        return row.hidden != before[2]
    if action == "pin":
        return row.pinned is True
    if action == "answered":
        return row.answered_at is not None
    if action == "reply":
        return related(world, obj, Reply) == before[5] + 1
    if action == "vote":
        user_id = world.users[actor].id
        return (
            world.db.session.scalar(
                sa.select(Vote.id).where(Vote.annotation_id == row.id, Vote.user_id == user_id)
            )
            is not None
        )
    if action == "flag":
        return related(world, obj, Flag) == before[7] + 1
    raise AssertionError(action)


def message(response) -> str:
    return " ".join(parse(response.get_data(as_text=True)).text().split())


def check_write(action):
    def check(world, client, actor, obj, allowed):
        if action == "restore":  # something to restore: the author deleted it
            delete_annotation(world.db.session, world.row(obj), world.users["author"])
            world.db.session.commit()
        before = snapshot(world, obj)
        url, data = write_request(world, obj, action)
        response = client.post(url, data=data, headers=HTMX)
        body = response.get_data(as_text=True)
        if allowed:
            assert response.status_code == 200, (url, response.status_code, body[:300])
            assert changed(world, actor, obj, action, before), (
                f"{url} answered 200, changed nothing"
            )
            return
        assert snapshot(world, obj) == before, f"{url} was refused but changed {obj}"
        assert TEXT[obj] not in body, f"LEAK: {obj}'s text in the refusal of {url}"
        if actor == "anonymous":
            assert response.status_code == 401, (url, response.status_code, body[:300])
        elif rule_sees(actor, obj):
            assert response.status_code == 403, (url, response.status_code, body[:300])
        else:  # as if it did not exist: same status, same message
            missing_url, missing_data = write_request(world, obj, action, missing=True)
            missing = client.post(missing_url, data=missing_data, headers=HTMX)
            # Answering a reply that is not there, in a thread one sees, is bad input.
            in_thread = action == "reply" and obj in REPLIES and container_visible(actor, obj)
            expected = 422 if in_thread else 404
            assert missing.status_code == expected, (missing_url, missing.status_code)
            assert (response.status_code, message(response)) == (
                missing.status_code,
                message(missing),
            ), f"ORACLE: {url} answers unlike {missing_url}"

    return check


CHECKS = {
    "page": check_page,
    "cards": check_cards,
    "search": check_search,
    "card": check_card,
    "live": check_live,
    "export": check_export,
    "export_list": check_export_list,
    "csv": check_csv,
    "markdown": check_note_export("notes.md"),
    "printable": check_note_export("annotated"),
    **{action: check_write(action) for action in WRITES},
}


def cells():
    for obj in OBJECTS:
        for action in actions_of(obj):
            for actor in ACTORS:
                cell = (actor, obj, action)
                reason = LEAKS.get(cell)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(*cell, id="-".join(cell), marks=marks)


@pytest.mark.parametrize(("actor", "obj", "action"), list(cells()))
def test_access(world, client, actor, obj, action):
    world.sign_in(client, actor)
    CHECKS[action](world, client, actor, obj, EXPECTED[(actor, obj, action)])


def test_the_world_is_what_the_matrix_assumes(world, client):
    """The fixture itself: hidden things are hidden, the rest is not, and B's note carries
    both replies (a broken fixture would make deny cells pass for the wrong reason)."""
    assert world.row("hidden_annotation").hidden and world.row("hidden_reply").hidden
    assert not world.row("class_annotation").hidden and not world.row("reply").hidden
    assert world.row("private_annotation").classroom_id is None
    assert world.row("class_annotation").classroom_id == world.classroom_id
    replies = world.db.session.scalars(
        sa.select(Reply.id).where(Reply.annotation_id == world.thread_id)
    ).all()
    assert sorted(replies) == sorted([world.ids["reply"], world.ids["hidden_reply"]])
    world.sign_in(client, "another_student")
    body = client.get(f"/articles/{SEED_SLUG}?context=class-{world.classroom_id}").get_data(
        as_text=True
    )
    assert THREAD_TEXT in body and TEXT["class_annotation"] in body


# --- an archived class ------------------------------------------------------------------------
#
# The same world with the class archived: every write the table allows in the class is
# refused with 403 and says why (nothing changes); writes on the private note stay allowed;
# what is read is read as before.

ARCHIVED_READS = ("page", "card")


def archived_cells():
    for obj in OBJECTS:
        for action in actions_of(obj):
            if action not in WRITES and action not in ARCHIVED_READS:
                continue
            for actor in ACTORS:
                if action in WRITES and not EXPECTED[(actor, obj, action)]:
                    continue  # refused already, as the table says
                cell = (actor, obj, action)
                yield pytest.param(*cell, id="archived-" + "-".join(cell))


@pytest.mark.parametrize(("actor", "obj", "action"), list(archived_cells()))
def test_access_in_an_archived_class(world, client, actor, obj, action):
    from webapp.models import Classroom
    from webapp.visibility import ARCHIVED

    world.db.session.get(Classroom, world.classroom_id).archived_at = utcnow()
    world.db.session.commit()
    world.sign_in(client, actor)
    allowed = EXPECTED[(actor, obj, action)]
    if action in ARCHIVED_READS or obj == "private_annotation":
        CHECKS[action](world, client, actor, obj, allowed)
        return
    if action == "restore":
        delete_annotation(world.db.session, world.row(obj), world.users["author"])
        world.db.session.commit()
    before = snapshot(world, obj)
    url, data = write_request(world, obj, action)
    response = client.post(url, data=data, headers=HTMX)
    assert response.status_code == 403, (url, response.status_code)
    assert ARCHIVED in response.get_data(as_text=True), url
    assert snapshot(world, obj) == before, f"{url} was refused but changed {obj}"


# === Articles: who reads, annotates and manages which article ====================================
#
# Actors: anonymous; anonymous holding the share link (anon_link); a signed-in stranger; a
# signed-in user holding the share link (link_holder); the owner, who teaches the class; a
# student of the class who annotated the archived article before it was archived
# (annotator); a classmate who never annotated anything.
# Articles: a public one (the seed), the owner's private one, one assigned to the class,
# one with its share link on, and one (assigned, annotated) then archived.
# Actions: listed in the library; the reader page, its cards, its live poll, its JSON-LD
# collection, its version list; saving a highlight on it; its manage page.
# A deny asserts the precise status and that the article's title appears nowhere.

ARTICLE_ACTORS = (
    "anonymous",
    "anon_link",
    "stranger",
    "link_holder",
    "owner",
    "annotator",
    "classmate",
)
ARTICLES = ("public", "private", "assigned", "shared", "archived")
ARTICLE_READS = ("page", "cards", "live", "export_list", "versions")
ARTICLE_ACTIONS = ("library", *ARTICLE_READS, "annotate", "manage")
ARTICLE_TITLES = {
    "private": "Wombat burrows private reading",
    "assigned": "Kakapo nights assigned reading",
    "shared": "Tuatara shared reading",
    "archived": "Dugong archived reading",
}
SEED_TITLE = "Russian Military Needed in Syria Long Term, Assad Says"

ARTICLE_TABLE = """
article   action       anonymous anon_link stranger link_holder owner annotator classmate
public    library      Y         Y         Y        Y           Y     Y         Y
public    page         Y         Y         Y        Y           Y     Y         Y
public    cards        Y         Y         Y        Y           Y     Y         Y
public    live         Y         Y         Y        Y           Y     Y         Y
public    export_list  Y         Y         Y        Y           Y     Y         Y
public    versions     Y         Y         Y        Y           Y     Y         Y
public    annotate     -         -         Y        Y           Y     Y         Y
public    manage       -         -         -        -           -     -         -
private   library      -         -         -        -           Y     -         -
private   page         -         -         -        -           Y     -         -
private   cards        -         -         -        -           Y     -         -
private   live         -         -         -        -           Y     -         -
private   export_list  -         -         -        -           Y     -         -
private   versions     -         -         -        -           Y     -         -
private   annotate     -         -         -        -           Y     -         -
private   manage       -         -         -        -           Y     -         -
assigned  library      -         -         -        -           Y     Y         Y
assigned  page         -         -         -        -           Y     Y         Y
assigned  cards        -         -         -        -           Y     Y         Y
assigned  live         -         -         -        -           Y     Y         Y
assigned  export_list  -         -         -        -           Y     Y         Y
assigned  versions     -         -         -        -           Y     Y         Y
assigned  annotate     -         -         -        -           Y     Y         Y
assigned  manage       -         -         -        -           Y     -         -
shared    library      -         -         -        -           Y     -         -
shared    page         -         Y         -        Y           Y     -         -
shared    cards        -         Y         -        Y           Y     -         -
shared    live         -         Y         -        Y           Y     -         -
shared    export_list  -         Y         -        Y           Y     -         -
shared    versions     -         Y         -        Y           Y     -         -
shared    annotate     -         -         -        Y           Y     -         -
shared    manage       -         -         -        -           Y     -         -
archived  library      -         -         -        -           Y     -         -
archived  page         -         -         -        -           Y     Y         -
archived  cards        -         -         -        -           Y     Y         -
archived  live         -         -         -        -           Y     Y         -
archived  export_list  -         -         -        -           Y     Y         -
archived  versions     -         -         -        -           Y     Y         -
archived  annotate     -         -         -        -           -     -         -
archived  manage       -         -         -        -           Y     -         -
"""


def parse_article_table(table: str) -> dict[tuple[str, str, str], bool]:
    lines = [line.split() for line in table.strip().splitlines()]
    assert tuple(lines[0][2:]) == ARTICLE_ACTORS
    expected = {}
    for article, action, *marks in lines[1:]:
        assert len(marks) == len(ARTICLE_ACTORS), (article, action)
        for actor, mark in zip(ARTICLE_ACTORS, marks, strict=True):
            assert mark in ("Y", "-"), (article, action, mark)
            expected[(actor, article, action)] = mark == "Y"
    return expected


ARTICLE_EXPECTED = parse_article_table(ARTICLE_TABLE)
SIGNED_IN = ("stranger", "link_holder", "owner", "annotator", "classmate")


def article_reader(actor: str, article: str) -> bool:
    """Public: everyone. Private: the owner. Assigned: the owner and the class. Shared: the
    owner and whoever holds the link. Archived: the owner and the authors of notes on it."""
    return {
        "public": True,
        "private": actor == "owner",
        "assigned": actor in ("owner", "annotator", "classmate"),
        "shared": actor in ("owner", "link_holder", "anon_link"),
        "archived": actor in ("owner", "annotator"),
    }[article]


def article_rule(actor: str, article: str, action: str) -> bool:
    if action == "library":  # a share link does not put an article on a shelf
        if article == "shared":
            return actor == "owner"
        if article == "archived":  # the owner's Archived shelf, to restore it
            return actor == "owner"
        return article_reader(actor, article)
    if action in ARTICLE_READS:
        return article_reader(actor, article)
    if action == "annotate":
        return article_reader(actor, article) and actor in SIGNED_IN and article != "archived"
    if action == "manage":
        return actor == "owner" and article != "public"
    raise AssertionError(action)


def test_article_table_follows_the_rules():
    cells = {(a, o, x) for o in ARTICLES for x in ARTICLE_ACTIONS for a in ARTICLE_ACTORS}
    assert set(ARTICLE_EXPECTED) == cells
    wrong = {c: allowed for c, allowed in ARTICLE_EXPECTED.items() if allowed != article_rule(*c)}
    assert not wrong, f"the article table disagrees with the rules at {wrong}"


@dataclass
class Shelf:
    """The articles' world: users, the class, the five articles and the share token."""

    db: object
    users: dict[str, User]
    slugs: dict[str, str]
    token: str

    def sign_in(self, client, actor: str) -> None:
        with client.session_transaction() as session:
            if actor in ("anon_link", "link_holder"):
                session["shares"] = [self.token]
            if actor in SIGNED_IN:
                session["_user_id"] = session_id_for(self.db, self.users[actor])
                session["_fresh"] = True

    def title(self, article: str) -> str:
        return SEED_TITLE if article == "public" else ARTICLE_TITLES[article]


@pytest.fixture
def shelf(db, seed_document) -> Shelf:
    from webapp.services.articles import archive, share_on
    from webapp.services.documents import import_article

    session = db.session
    users = {}
    for actor in SIGNED_IN:
        users[actor] = User(username=f"u-{actor}", password_hash="!not-a-password")
        session.add(users[actor])
    session.flush()
    classroom = create_class(session, users["owner"], "Zoology")
    join_class(session, users["annotator"], classroom.join_code)
    join_class(session, users["classmate"], classroom.join_code)
    documents = {"public": seed_document}
    for article, title in ARTICLE_TITLES.items():
        source = f"# {title}\n\nThe numbat forages for termites by day.\n\nA second paragraph.\n"
        document = import_article(session, source, f"matrix-{article}").document
        document.owner_id = users["owner"].id
        documents[article] = document
    assign(session, classroom, documents["assigned"], None)
    assign(session, classroom, documents["archived"], None)
    token = share_on(documents["shared"])
    version = documents["archived"].current_version
    form = {**select(version.text, "numbat forages"), "audience": f"class-{classroom.id}"}
    create_annotation(session, users["annotator"], version, form)
    archive(documents["archived"])
    session.commit()
    slugs = {article: document.slug for article, document in documents.items()}
    return Shelf(db, users, slugs, token)


def article_cells():
    for article in ARTICLES:
        for action in ARTICLE_ACTIONS:
            for actor in ARTICLE_ACTORS:
                yield pytest.param(actor, article, action, id=f"{actor}-{article}-{action}")


def assert_no_title(shelf: Shelf, article: str, body: str, where: str) -> None:
    if article != "public":
        assert shelf.title(article) not in body, f"LEAK: {article}'s title in {where}"


@pytest.mark.parametrize(("actor", "article", "action"), list(article_cells()))
def test_article_access(shelf, client, actor, article, action):
    shelf.sign_in(client, actor)
    allowed = ARTICLE_EXPECTED[(actor, article, action)]
    slug = shelf.slugs[article]
    reader = article_reader(actor, article)
    if action == "library":
        body = client.get("/").get_data(as_text=True)
        assert (shelf.title(article) in body) == allowed, f"library for {actor}"
        return
    if action == "annotate":
        db = shelf.db
        before = db.session.scalar(sa.select(sa.func.count(Annotation.id)))
        document = db.session.scalar(sa.select(Document).where(Document.slug == slug))
        phrase = "Hmeimim military base" if article == "public" else "numbat forages"
        fields = select(document.current_version.text, phrase)
        response = client.post(f"/articles/{slug}/annotations", data=fields, headers=HTMX)
        db.session.expire_all()
        after = db.session.scalar(sa.select(sa.func.count(Annotation.id)))
        if allowed:
            assert response.status_code == 200 and after == before + 1, response.status_code
            return
        if actor not in SIGNED_IN:
            status = 401
        elif not reader:
            status = 404
        else:
            status = 409  # archived: read-only
        assert response.status_code == status and after == before, response.status_code
        assert_no_title(shelf, article, response.get_data(as_text=True), "annotate")
        return
    if action == "manage":
        response = client.get(f"/articles/{slug}/manage")
        body = response.get_data(as_text=True)
        if allowed:
            assert response.status_code == 200 and shelf.title(article) in body
            return
        if actor not in SIGNED_IN:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == (403 if reader else 404), response.status_code
        if not reader:
            assert_no_title(shelf, article, body, "manage")
        return
    url, headers = {
        "page": (f"/articles/{slug}", {}),
        "cards": (f"/articles/{slug}/cards", HTMX),
        "live": (f"/articles/{slug}/changes?cursor=0", HTMX),
        "export_list": (f"/api/articles/{slug}/annotations", {}),
        "versions": (f"/articles/{slug}/versions", {}),
    }[action]
    response = client.get(url, headers=headers)
    body = response.get_data(as_text=True)
    if not allowed:
        assert response.status_code == 404, (url, response.status_code)
        assert_no_title(shelf, article, body, url)
        return
    if action == "live":
        assert response.status_code in ((204,) if actor not in SIGNED_IN else (200, 204))
    else:
        assert response.status_code == 200, (url, response.status_code)
    if action in ("page", "export_list", "versions"):
        assert shelf.title(article) in body, f"{url}: no title"
