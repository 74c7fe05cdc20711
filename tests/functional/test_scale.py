"""A large class on one page: what the reader, the sidebar, a write, the live poll and the
export cost in SQL does not grow with the number of notes; every statement they run is
found through an index (no full scan of a notes-sized table); the notes at a spot come
as a partial, through the visibility rule; marks are compact; answers are compressed."""

from __future__ import annotations

import gzip
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import page, parse, select, spot_ids
from webapp.models import Annotation, Change
from webapp.reader.shared import views_of
from webapp.services.annotations import CARDS_PER_PAGE, SPOT_NOTES_PER_PAGE, create_annotation
from webapp.services.classes import create_class, join_class
from webapp.services.discussion import add_reply, set_hidden, toggle_vote

# Tables whose rows grow with the notes: a full scan of one is what must not happen.
NOTES_SIZED = ("annotations", "changes", "replies", "votes", "annotation_tags", "flags")


@contextmanager
def statements(db):
    """The SQL statements run inside the block, as (statement, parameters)."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries(seen) -> list[tuple[str, object]]:
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.fixture
def room(auth, db, seed_document):
    teacher = auth.create("teacher")
    student = auth.create("student")
    classroom = create_class(db.session, teacher, "Big course")
    join_class(db.session, student, classroom.join_code)
    others = []
    for n in range(4):
        other = auth.create(f"classmate{n}")
        join_class(db.session, other, classroom.join_code)
        others.append(other)
    db.session.commit()
    return {"teacher": teacher, "student": student, "class": classroom, "others": others}


def add_notes(db, room, document, count: int) -> list[int]:
    """`count` class notes by classmates on overlapping passages, with tags, votes and a
    reply on every fifth, and a private note of a classmate now and then."""
    version = document.current_version
    text = version.text
    words = [m.span() for m in re.finditer(r"\w+", text)]
    ids = []
    for n in range(count):
        author = room["others"][n % len(room["others"])]
        first = words[(n * 7) % (len(words) - 5)]
        last = words[(n * 7) % (len(words) - 5) + 1 + n % 4]
        start, end = first[0], last[1]
        private = n % 9 == 8
        form = {
            "start": str(start),
            "end": str(end),
            "exact": text[start:end],
            "body": f"Note {n}",
            "tags": "big" if n % 3 == 0 else "",
            "audience": "private" if private else f"class-{room['class'].id}",
        }
        note = create_annotation(db.session, author, version, form)
        ids.append(note.id)
        if not private and n % 5 == 0:
            voter = room["others"][(n + 1) % len(room["others"])]
            toggle_vote(db.session, voter, note)
            add_reply(db.session, voter, note, "A reply", None)
    db.session.commit()
    return ids


def context(room) -> str:
    return f"class-{room['class'].id}"


def requests_of(client, db, room, document):
    """Each request of the issue, as (name, callable returning the response)."""
    key = context(room)
    slug = document.slug
    at = db.session.scalar(
        sa.select(Annotation.start).where(Annotation.classroom_id.is_not(None)).limit(1)
    )

    def write():
        version = document.current_version
        fields = select(version.text, "Interfax")
        data = {**fields, "body": "More", "context": key, "audience": key, "version": version.id}
        return client.post(f"/articles/{slug}/annotations", data=data, headers=HTMX)

    def poll_changes():
        cursor = db.session.scalar(
            sa.select(sa.func.max(Change.seq)).where(Change.document_id == document.id)
        )
        return client.get(
            f"/articles/{slug}/changes",
            query_string={"cursor": cursor - 3, "context": key},
            headers=HTMX,
        )

    return {
        "reader": lambda: client.get(f"/articles/{slug}", query_string={"context": key}),
        "sidebar": lambda: client.get(
            f"/articles/{slug}/cards", query_string={"context": key, "offset": 5}, headers=HTMX
        ),
        "sidebar by votes": lambda: client.get(
            f"/articles/{slug}/cards", query_string={"context": key, "sort": "votes"}, headers=HTMX
        ),
        "write": write,
        "poll, changes": poll_changes,
        "export": lambda: client.get(f"/articles/{slug}/notes.md", query_string={"context": key}),
        "spot": lambda: client.get(
            f"/articles/{slug}/spot", query_string={"context": key, "at": at}, headers=HTMX
        ),
    }


def counts(client, db, room, document) -> dict[str, int]:
    """Statements per request, each read twice: with no shared view of the class kept
    (webapp/reader/shared.py: the first student to read) and then with it."""
    found = {}
    views = views_of(client.application.extensions)
    for name, call in requests_of(client, db, room, document).items():
        for state in ("cold", "warm"):
            if state == "cold":
                views.clear()
            with statements(db) as seen:
                response = call()
            assert response.status_code == 200, (name, response.status_code)
            found[f"{name}, {state}"] = len(seen)
            if name == "write":
                break  # a write is made once
    return found


def test_statement_counts_do_not_grow_with_the_notes(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 10)
    auth.login("student")
    few = counts(client, db, room, seed_document)
    add_notes(db, room, seed_document, 190)
    many = counts(client, db, room, seed_document)
    assert many == few


def test_the_idle_poll_is_one_statement_and_loads_nothing(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 5)
    auth.login("student")
    cursor = db.session.scalar(sa.select(sa.func.max(Change.seq)))
    key = context(room)
    with statements(db) as seen:
        response = client.get(
            f"/articles/{SEED_SLUG}/changes",
            query_string={"cursor": cursor, "context": key},
            headers=HTMX,
        )
    assert response.status_code == 204
    assert len(queries(seen)) == 1
    ((statement, _),) = queries(seen)
    assert "login_sessions" in statement and "changes" in statement
    assert "FROM users" not in statement and "classrooms" not in statement
    # Someone not in the class, or who may not read the article, still gets a 404.
    auth.login("outsider")
    response = client.get(
        f"/articles/{SEED_SLUG}/changes",
        query_string={"cursor": cursor, "context": key},
        headers=HTMX,
    )
    assert response.status_code == 404


def test_the_idle_poll_checks_the_login_session(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 3)
    auth.login("student")
    with client.session_transaction() as session:
        user_id, _, token = session["_user_id"].partition(":")
        session["_user_id"] = f"{user_id}:forged{token}"
    # Changes exist after cursor 0, but the session is not live: the answer is the
    # anonymous one (no class view for them), never the class's changes.
    key = context(room)
    response = client.get(
        f"/articles/{SEED_SLUG}/changes", query_string={"cursor": 0, "context": key}, headers=HTMX
    )
    assert response.status_code == 404
    assert "annotation-" not in response.get_data(as_text=True)
    response = client.get(
        f"/articles/{SEED_SLUG}/changes",
        query_string={"cursor": 0, "context": "private"},
        headers=HTMX,
    )
    assert response.status_code == 204


def test_every_statement_uses_an_index(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 30)
    auth.login("student")
    calls = requests_of(client, db, room, seed_document)
    cursor = db.session.scalar(sa.select(sa.func.max(Change.seq)))
    key = context(room)
    calls["poll, idle"] = lambda: client.get(
        f"/articles/{SEED_SLUG}/changes",
        query_string={"cursor": cursor + 100, "context": key},
        headers=HTMX,
    )
    calls["reader, my notes"] = lambda: client.get(
        f"/articles/{SEED_SLUG}", query_string={"context": "private"}
    )
    scans = []
    with db.engine.connect() as connection:
        for name, call in calls.items():
            with statements(db) as seen:
                assert call().status_code in (200, 204), name
            for statement, parameters in queries(seen):
                plan = connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                for row in plan:
                    detail = row[-1]
                    match = re.match(r"SCAN (\w+)", detail)
                    if match and match.group(1) in NOTES_SIZED:
                        scans.append((name, detail, statement[:300]))
    assert scans == []


# -- the notes at a spot ------------------------------------------------------------------------


def test_a_spot_lists_every_note_covering_it_through_visibility(
    client, db, auth, room, seed_document
):
    ids = add_notes(db, room, seed_document, 40)
    notes = [db.session.get(Annotation, i) for i in ids]
    at = notes[0].start
    auth.login("student")
    listed = spot_ids(client, SEED_SLUG, at, context(room))
    expected = [
        a.id
        for a in sorted(notes, key=lambda a: (a.start, a.end, a.id))
        if a.start <= at < a.end and a.classroom_id is not None
    ]
    assert listed == expected and listed
    # A classmate's private note there is never listed, nor one hidden by the teacher.
    hidden = db.session.get(Annotation, expected[0])
    set_hidden(db.session, hidden, hidden, room["teacher"], True, "off topic")
    db.session.commit()
    assert hidden.id not in spot_ids(client, SEED_SLUG, at, context(room))
    auth.login("teacher")
    assert hidden.id in spot_ids(client, SEED_SLUG, at, context(room))


def test_a_spot_outside_the_class_is_a_404_and_bad_offsets_a_400(client, db, auth, room):
    auth.login("stranger")
    response = client.get(
        f"/articles/{SEED_SLUG}/spot",
        query_string={"context": context(room), "at": 3},
        headers=HTMX,
    )
    assert response.status_code == 404
    for at in ("x", "-1", "99999999", ""):
        response = client.get(f"/articles/{SEED_SLUG}/spot", query_string={"at": at}, headers=HTMX)
        assert response.status_code == 400, at


def test_a_spot_without_htmx_is_the_article_with_the_notes(client, db, auth, room, seed_document):
    ids = add_notes(db, room, seed_document, 3)
    at = db.session.get(Annotation, ids[0]).start
    auth.login("student")
    response = client.get(
        f"/articles/{SEED_SLUG}/spot", query_string={"context": context(room), "at": at}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-spot-note="{ids[0]}"' in page


def notes_on_one_passage(db, room, document, count: int) -> tuple[int, list[int]]:
    """`count` class notes by classmates all covering one offset: (that offset, their ids
    in the order a spot lists them)."""
    version = document.current_version
    fields = select(version.text, "Interfax")
    start, end = int(fields["start"]), int(fields["end"])
    notes = []
    for n in range(count):
        form = {
            "start": str(start),
            "end": str(end + n % 3),
            "exact": version.text[start : end + n % 3],
            "body": f"Spot note {n}",
            "audience": f"class-{room['class'].id}",
        }
        author = room["others"][n % len(room["others"])]
        notes.append(create_annotation(db.session, author, version, form))
    db.session.commit()
    ordered = sorted(notes, key=lambda a: (a.start, a.end, a.id))
    return start, [a.id for a in ordered]


def test_a_spot_lists_a_page_of_notes_and_links_to_the_next(client, db, auth, room, seed_document):
    at, expected = notes_on_one_passage(db, room, seed_document, SPOT_NOTES_PER_PAGE + 5)
    auth.login("student")
    key = context(room)
    response = client.get(
        f"/articles/{SEED_SLUG}/spot", query_string={"context": key, "at": at}, headers=HTMX
    )
    root = page(response)
    listed = [int(li.get("data-spot-note")) for li in root.find_all("li", data_spot_note=True)]
    assert listed == expected[:SPOT_NOTES_PER_PAGE]
    assert root.by_id("spot-title").text() == f"{len(expected)} notes on this passage"
    (more,) = root.find_all("li", data_spot_more=True)
    link = more.find("a")
    assert link.text().startswith("More notes at this spot")
    assert "(5 more)" in link.text()
    # The next page, as the link brings it: its notes and no further link, nothing else.
    response = client.get(link.get("data-next"), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rest = [int(i) for i in re.findall(r'data-spot-note="(\d+)"', html)]
    assert rest == expected[SPOT_NOTES_PER_PAGE:]
    assert "spot-more" not in html and "spot-title" not in html
    # Without JavaScript the link opens the article with that page of the spot.
    response = client.get(link.get("href"))
    assert response.status_code == 200
    root = page(response)
    shown = [int(li.get("data-spot-note")) for li in root.find_all("li", data_spot_note=True)]
    assert shown == expected[SPOT_NOTES_PER_PAGE:]
    assert root.find("p", class_="hint spot-range").text() == (
        f"Notes {SPOT_NOTES_PER_PAGE + 1} to {len(expected)} of them."
    )
    # The partial's own address without htmx leads there too.
    response = client.get(link.get("data-next"))
    assert response.status_code == 302
    assert f"from={SPOT_NOTES_PER_PAGE}" in response.headers["Location"]
    for bad in ("x", "-1", "99999999999"):
        response = client.get(
            f"/articles/{SEED_SLUG}/spot",
            query_string={"context": key, "at": at, "from": bad},
            headers=HTMX,
        )
        assert response.status_code == 400, bad


# -- the page ---------------------------------------------------------------------------------


def test_marks_are_compact_and_others_are_a_heat_map(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 60)
    auth.login("student")
    version = seed_document.current_version
    create(client_post=client, version=version, key=context(room))
    page = client.get(f"/articles/{SEED_SLUG}", query_string={"context": context(room)})
    html = page.get_data(as_text=True)
    marks = re.findall(r"<mark [^>]*>", html)
    assert marks and not any("data-annotations" in m for m in marks)
    assert all(re.fullmatch(r'<mark data-at="\d+" class="[\w -]+">', m) for m in marks)
    others = [m for m in marks if "hl-others" in m]
    assert others and all(re.search(r"\bheat-[1-5]\b", m) for m in others)
    assert len({re.search(r"heat-\d", m).group(0) for m in others}) > 1
    own = [m for m in marks if " own" in m]
    assert own and all("hl-green" in m for m in own)
    root = parse(html)
    toggle = root.by_id("toggle-highlights")
    assert toggle is not None and toggle.get("aria-pressed") == "false"


def create(client_post, version, key):
    fields = select(version.text, "Interfax")
    response = client_post.post(
        f"/articles/{SEED_SLUG}/annotations",
        data={**fields, "colour": "green", "context": key, "version": version.id},
        headers=HTMX,
    )
    assert response.status_code == 200


def test_cards_page_on_with_a_real_link(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 60)
    auth.login("student")
    html = client.get(f"/articles/{SEED_SLUG}", query_string={"context": context(room)}).get_data(
        as_text=True
    )
    more = parse(html).find(class_="cards-more")
    link = more.find("a")
    href = link.get("href")
    assert f"offset={CARDS_PER_PAGE}" in href and href.startswith(f"/articles/{SEED_SLUG}?")
    second = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert 'class="card' in second


def test_pages_are_gzipped_when_the_client_accepts_it(client, db, auth, room, seed_document):
    add_notes(db, room, seed_document, 20)
    auth.login("student")
    url = f"/articles/{SEED_SLUG}?context={context(room)}"
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert len(zipped.data) < len(plain.data) / 3
    unzipped = gzip.decompress(zipped.data).decode()
    assert re.sub(r'name="csrf_token" value="[^"]*"', "", unzipped) == re.sub(
        r'name="csrf_token" value="[^"]*"', "", plain.get_data(as_text=True)
    )
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_the_library_pages_its_shelves_with_real_links(client, db):
    from webapp.services.documents import import_article

    for n in range(55):
        import_article(db.session, f"# Article {n:02}\n\nBody of article {n}.\n", f"n{n}.md")
    db.session.commit()
    with statements(db) as seen:
        first = client.get("/")
    assert first.status_code == 200
    # The page and the shelf's size in one query (no query per article), after the
    # anonymous page cache's look at the page revision (webapp/page_cache.py).
    shown = [s for s, _ in queries(seen) if "page_revision" not in s]
    assert len(shown) == 1
    root = parse(first.get_data(as_text=True))
    shelf = root.by_id("shelf-public")
    assert len(shelf.find_all("li")) == 50
    assert "(56)" in shelf.text()
    following = shelf.find("a", rel="next").get("href")
    second = client.get(following)
    assert len(parse(second.get_data(as_text=True)).by_id("shelf-public").find_all("li")) == 6
    # A page past the end has no row to count with: the shelf's size is still told.
    beyond = parse(client.get("/?public_page=5").get_data(as_text=True)).by_id("shelf-public")
    assert "(56)" in beyond.text() and "No articles on this page" in beyond.text()
    assert client.get("/?public_page=x").status_code == 400


def test_a_students_page_from_the_shared_view_runs_four_queries(
    client, db, auth, room, seed_document
):
    """The login session (with the deadline check and the unread count), the article (with
    its live cursor, the class's instructors and its assignment), the reader's classes,
    and the student's own rows (with their votes and replies among the first page's
    notes): nothing else once the class's shared view is kept (webapp/reader/shared.py)."""
    add_notes(db, room, seed_document, 30)
    auth.login("student")
    read = requests_of(client, db, room, seed_document)["reader"]
    assert read().status_code == 200  # the shared view drawn
    with statements(db) as seen:
        assert read().status_code == 200
    found = [" ".join(statement.split())[:60] for statement, _ in queries(seen)]
    assert len(found) == 4, found


def test_a_notes_create_reads_four_times_before_its_write_and_nothing_after(
    client, db, auth, room, seed_document
):
    """The login session; the article (with its live cursor and, in a class, the writer's
    membership, the class's instructors and assignment); what the answer's blocks are drawn
    from (one's private marks over them, or the class's kept view brought to the cursor with
    the student's own rows); the check under the write lock. Then the inserts, and nothing
    read after the commit when the note is the article's one change since the cursor."""
    add_notes(db, room, seed_document, 30)
    auth.login("student")
    key = context(room)
    assert client.get(f"/articles/{SEED_SLUG}", query_string={"context": key}).status_code == 200
    version = seed_document.current_version
    fields = {**select(version.text, "Assad"), "body": "Mine", "version": version.id}
    private = {**fields, "context": "private", "audience": "private"}
    for write in (
        requests_of(client, db, room, seed_document)["write"],
        lambda: client.post(f"/articles/{SEED_SLUG}/annotations", data=private, headers=HTMX),
    ):
        with statements(db) as seen:
            assert write().status_code == 200
        assert len(queries(seen)) == 4, [s[:60] for s, _ in queries(seen)]
        last = " ".join(seen[-1][0].split())
        assert last.startswith("INSERT INTO changes"), last  # the commit's: no read after it
