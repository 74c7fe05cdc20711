"""The access matrix: who may see and do what, through every read path and every write.

Actors: anonymous; a signed-in non-member; the author (student A, who wrote the objects);
another student (B) of the same class; the instructor of another class; the class's
instructor. Objects, all A's: a private annotation, a class annotation, a class annotation
the instructor hid, a reply on B's class annotation, and the same kind of reply hidden.
Actions: see it on the page, in the cards partial, by searching the sidebar, in its card
(GET /annotations/<id>), in a live update, in the JSON-LD export (one annotation, and the
article's collection), be counted in the participation CSV; edit, delete, hide (unhide,
for the hidden ones), pin.

The expected allow/deny table is written out below (EXPECTED, one line per object and
action); test_table_follows_the_rules derives it again from the rules in DESIGN.md so that a
typo in either is caught. Every cell builds the whole world afresh (with the services, not
through HTTP) and checks both ways: a deny asserts the precise status and that the object's
text and id appear nowhere in the response; an allow asserts success and that the text
appears (reads) or that the database changed (writes).

Notes on what "appears" means here:
- The quote is article text (it is on the page anyway), so each object carries a comment
  with a unique word; its id shows as a card (annotation-N / reply-N), a mark's
  data-annotations, a jump link, a URL.
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
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import marks_for, parse, select
from webapp.models import Annotation, Reply, User, utcnow
from webapp.services.accounts import start_session
from webapp.services.annotations import create_annotation, update_annotation
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply, set_hidden, update_reply
from webapp.services.live import latest_change

ACTORS = (
    "anonymous",
    "non_member",
    "author",
    "another_student",
    "other_instructor",
    "instructor",
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
WRITES = ("edit", "delete", "hide", "pin")

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
    """Pinning is for annotations; a reply has no pin."""
    actions = READS + WRITES
    return actions if obj in ANNOTATIONS else tuple(a for a in actions if a != "pin")


# --- the expected table ---------------------------------------------------------------------

# Y = allowed, - = denied. Columns in ACTORS order.
TABLE = """
object              action       anonymous non_member author another_student other_instr instructor
private_annotation  page         -         -          Y      -               -           -
private_annotation  markdown     -         -          Y      -               -           -
private_annotation  printable    -         -          Y      -               -           -
private_annotation  cards        -         -          Y      -               -           -
private_annotation  search       -         -          Y      -               -           -
private_annotation  card         -         -          Y      -               -           -
private_annotation  live         -         -          Y      -               -           -
private_annotation  export       -         -          Y      -               -           -
private_annotation  export_list  -         -          Y      -               -           -
private_annotation  csv          -         -          -      -               -           -
private_annotation  edit         -         -          Y      -               -           -
private_annotation  delete       -         -          Y      -               -           -
private_annotation  hide         -         -          -      -               -           -
private_annotation  pin          -         -          -      -               -           -
class_annotation    page         -         -          Y      Y               -           Y
class_annotation    markdown     -         -          Y      Y               -           Y
class_annotation    printable    -         -          Y      Y               -           Y
class_annotation    cards        -         -          Y      Y               -           Y
class_annotation    search       -         -          Y      Y               -           Y
class_annotation    card         -         -          Y      Y               -           Y
class_annotation    live         -         -          Y      Y               -           Y
class_annotation    export       -         -          Y      Y               -           Y
class_annotation    export_list  -         -          Y      Y               -           Y
class_annotation    csv          -         -          -      -               -           Y
class_annotation    edit         -         -          Y      -               -           -
class_annotation    delete       -         -          Y      -               -           -
class_annotation    hide         -         -          -      -               -           Y
class_annotation    pin          -         -          -      -               -           Y
hidden_annotation   page         -         -          Y      -               -           Y
hidden_annotation   markdown     -         -          Y      -               -           Y
hidden_annotation   printable    -         -          Y      -               -           Y
hidden_annotation   cards        -         -          Y      -               -           Y
hidden_annotation   search       -         -          Y      -               -           Y
hidden_annotation   card         -         -          Y      -               -           Y
hidden_annotation   live         -         -          Y      -               -           Y
hidden_annotation   export       -         -          Y      -               -           Y
hidden_annotation   export_list  -         -          Y      -               -           Y
hidden_annotation   csv          -         -          -      -               -           Y
hidden_annotation   edit         -         -          Y      -               -           -
hidden_annotation   delete       -         -          Y      -               -           -
hidden_annotation   hide         -         -          -      -               -           Y
hidden_annotation   pin          -         -          -      -               -           Y
reply               page         -         -          Y      Y               -           Y
reply               markdown     -         -          Y      Y               -           Y
reply               printable    -         -          Y      Y               -           Y
reply               cards        -         -          Y      Y               -           Y
reply               search       -         -          -      -               -           -
reply               card         -         -          Y      Y               -           Y
reply               live         -         -          Y      Y               -           Y
reply               export       -         -          Y      Y               -           Y
reply               export_list  -         -          Y      Y               -           Y
reply               csv          -         -          -      -               -           Y
reply               edit         -         -          Y      -               -           -
reply               delete       -         -          Y      -               -           -
reply               hide         -         -          -      -               -           Y
hidden_reply        page         -         -          Y      -               -           Y
hidden_reply        markdown     -         -          Y      -               -           Y
hidden_reply        printable    -         -          Y      -               -           Y
hidden_reply        cards        -         -          Y      -               -           Y
hidden_reply        search       -         -          -      -               -           -
hidden_reply        card         -         -          Y      -               -           Y
hidden_reply        live         -         -          Y      -               -           Y
hidden_reply        export       -         -          Y      -               -           Y
hidden_reply        export_list  -         -          Y      -               -           Y
hidden_reply        csv          -         -          -      -               -           Y
hidden_reply        edit         -         -          Y      -               -           -
hidden_reply        delete       -         -          Y      -               -           -
hidden_reply        hide         -         -          -      -               -           Y
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

MEMBERS = ("author", "another_student", "instructor")


def rule_sees(actor: str, obj: str) -> bool:
    """Private: the author. Class: the class's members. Hidden: its instructor and the
    author. Replies follow their annotation (B's class annotation, seen by the members)."""
    if actor == "author":
        return True
    if obj == "private_annotation":
        return False
    if obj in ("hidden_annotation", "hidden_reply"):
        return actor == "instructor"
    return actor in MEMBERS


def rule(actor: str, obj: str, action: str) -> bool:
    if action in ("page", "cards", "card", "live", "markdown", "printable"):
        return rule_sees(actor, obj)
    if action in ("export", "export_list"):
        return rule_sees(actor, obj) and (obj in ANNOTATIONS or EXPORTS_REPLIES)
    if action == "search":
        return rule_sees(actor, obj) and (obj in ANNOTATIONS or SEARCHES_REPLIES)
    if action == "csv":  # counts for the class's instructor, of class work only
        return actor == "instructor" and obj != "private_annotation"
    if action in ("edit", "delete"):
        return actor == "author"
    if action in ("hide", "pin"):
        return actor == "instructor" and obj != "private_annotation"
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
        start_session(self.db.session, user, timedelta(days=1))  # a login, without hashing
        self.db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
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
        return actor in MEMBERS
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
    ):
        users[actor] = User(username=name, password_hash="!not-a-password")
        session.add(users[actor])
    session.flush()
    classroom = create_class(session, users["instructor"], "History 10")
    other = create_class(session, users["other_instructor"], "Other class")
    join_class(session, users["author"], classroom.join_code)
    join_class(session, users["another_student"], classroom.join_code)
    assign(session, classroom, seed_document, None)
    assign(session, other, seed_document, None)
    version = seed_document.current_version
    in_class = f"class-{classroom.id}"

    def note(author: User, phrase: str, body: str, audience: str) -> Annotation:
        form = {**select(version.text, phrase), "body": body, "audience": audience}
        return create_annotation(session, author, version, form)

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
    status = {"instructor": 200, "author": 403, "another_student": 403}.get(actor, 404)
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


def snapshot(world: World, obj: str) -> tuple:
    row = world.row(obj)
    return (
        row.body_markdown,
        row.deleted_at,
        row.hidden,
        getattr(row, "pinned", None),
    )


def write_url(world: World, obj: str, action: str) -> str:
    kind = "annotations" if obj in ANNOTATIONS else "replies"
    return f"/{kind}/{world.ids[obj]}/{action}"


def write_data(world: World, obj: str, action: str) -> dict[str, str]:
    if action == "edit":
        return {"body": EDITED}
    if action == "hide":  # toggles: a hidden object is unhidden
        return {"hidden": "0" if world.row(obj).hidden else "1", "reason": "matrix"}
    if action == "pin":
        return {"pinned": "1"}
    return {}


def changed(world: World, obj: str, action: str, before: tuple) -> bool:
    row = world.row(obj)
    if action == "edit":
        return row.body_markdown == EDITED
    if action == "delete":
        return row.deleted_at is not None
    if action == "hide":
        return row.hidden != before[2]
    if action == "pin":
        return row.pinned is True
    raise AssertionError(action)


def deny_status(actor: str, obj: str, action: str) -> int:
    """401 for anonymous; 403 for a non-author's edit or delete (refused whether or not
    they can see it); for hide and pin, 404 when they cannot see it, else 403."""
    if actor == "anonymous":
        return 401
    if action in ("edit", "delete"):
        return 403
    return 403 if rule_sees(actor, obj) else 404


def check_write(action):
    def check(world, client, actor, obj, allowed):
        before = snapshot(world, obj)
        url = write_url(world, obj, action)
        response = client.post(url, data=write_data(world, obj, action), headers=HTMX)
        body = response.get_data(as_text=True)
        if allowed:
            assert response.status_code == 200, (url, response.status_code, body[:300])
            assert changed(world, obj, action, before), f"{url} answered 200, changed nothing"
            return
        assert response.status_code == deny_status(actor, obj, action), (
            url,
            response.status_code,
            body[:300],
        )
        assert snapshot(world, obj) == before, f"{url} was refused but changed {obj}"
        assert TEXT[obj] not in body, f"LEAK: {obj}'s text in the refusal of {url}"

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
