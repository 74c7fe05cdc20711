"""Deadlines (time zones, extensions, late work), rubric scores with overrides and the grade
book, one student's work, where the class is confused, and an assignment's notes as CSV.

Who may see what: the class's instructors; its students get 403, anyone else 404, and
visitors are sent to log in.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import page, select
from webapp.models import (
    AnnotationTag,
    Assignment,
    Extension,
    Rubric,
    ScoreOverride,
    utcnow,
)
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply, set_answered, toggle_vote
from webapp.services.documents import import_article

FORMULA_ARTICLE = """# =HYPERLINK("http://x") Reading

By [Someone](#)

July 28, 2018

One short paragraph. It has two sentences.

Original url:

<https://example.com/formula>
"""
DUE = datetime(2026, 1, 10, 23, 59)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, day, hour)


def body(response) -> str:
    return response.get_data(as_text=True)


def rows_of(response) -> list[list[str]]:
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


class Course:
    """A class (teacher; students ana, ben) reading the seed article, due DUE; another
    class with its own teacher and student."""

    def __init__(self, db, auth, seed_document):
        self.db = db
        session = db.session
        self.teacher, self.ana, self.ben = (auth.create(n) for n in ("teacher", "ana", "ben"))
        self.other_teacher, self.outsider = (auth.create(n) for n in ("otherteacher", "outsider"))
        self.classroom = create_class(session, self.teacher, "Slow Reading")
        for student in (self.ana, self.ben):
            join_class(session, student, self.classroom.join_code)
        self.other = create_class(session, self.other_teacher, "Elsewhere")
        join_class(session, self.outsider, self.other.join_code)
        self.document = seed_document
        self.version = seed_document.current_version
        self.assignment = assign(session, self.classroom, seed_document, DUE)
        self.other_assignment = assign(session, self.other, seed_document, None)
        db.session.commit()
        self.cid, self.aid = self.classroom.id, self.assignment.id

    def note(self, author, phrase, when, body="", question=False, classroom=None, **extra):
        form = {**select(self.version.text, phrase), "body": body, **extra}
        form["audience"] = f"class-{(classroom or self.classroom).id}"
        if question:
            form["question"] = "on"
        annotation = create_annotation(self.db.session, author, self.version, form)
        annotation.created_at = when
        self.db.session.flush()
        return annotation

    def reply(self, author, annotation, text, when):
        reply = add_reply(self.db.session, author, annotation, text, None)
        reply.created_at = when
        self.db.session.flush()
        return reply

    def url(self, tail: str = "") -> str:
        return f"/classes/{self.cid}/assignments/{self.aid}{tail}"


@pytest.fixture
def course(db, auth, seed_document) -> Course:
    return Course(db, auth, seed_document)


LONG = "This passage matters because the base guarantees a foothold for decades to come."


@pytest.fixture
def discussed(course) -> Course:
    c = course
    c.a1 = c.note(c.ana, "Hmeimim military base", at(2), LONG, question=True)
    c.a2 = c.note(c.ana, "White Helmets", at(11), "Late and " + LONG)  # after DUE
    c.b1 = c.note(c.ben, "Hmeimim military base", at(3), "=cmd|' /C calc'!A0 short")
    c.b2 = c.note(c.ben, "The rapid return of refugees to Syria", at(1), "Why?", question=True)
    c.r1 = c.reply(c.ben, c.a1, "Because of the port.", at(4))
    c.r2 = c.reply(c.ana, c.b1, "Late reply.", at(12))
    toggle_vote(c.db.session, c.ben, c.a1)
    toggle_vote(c.db.session, c.teacher, c.a1)
    toggle_vote(c.db.session, c.ana, c.a1)  # a self-vote: refused, never counted
    c.db.session.commit()
    return c


# --- who may see what -----------------------------------------------------------------------


def get_urls(c: Course) -> list[str]:
    return [
        c.url("/scores"),
        c.url(f"/students/{c.ana.id}"),
        c.url("/discussion"),
        c.url("/notes.csv"),
        f"/classes/{c.cid}/gradebook.csv",
    ]


def post_urls(c: Course) -> list[tuple[str, dict]]:
    return [
        (c.url("/rubric"), {"comments_needed": "1"}),
        (c.url(f"/students/{c.ana.id}/score"), {"points": "5", "reason": "x"}),
        (c.url(f"/students/{c.ana.id}/extension"), {"due": "2026-02-01"}),
        (f"/classes/{c.cid}/time-zone", {"time_zone": "Europe/Paris"}),
    ]


def test_only_the_class_instructors_open_the_reports(client, auth, course):
    c = course
    for url in get_urls(c):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url, form in post_urls(c):
        assert client.post(url, data=form).status_code == 401, url  # writes are not redirected
    for who, status in (("ana", 403), ("outsider", 404), ("otherteacher", 404)):
        auth.login(who)
        for url in get_urls(c):
            for headers in ({}, HTMX):
                assert client.get(url, headers=headers).status_code == status, (who, url)
        for url, form in post_urls(c):
            assert client.post(url, data=form).status_code == status, (who, url)
    c.db.session.expire_all()
    assert c.db.session.scalar(sa.select(sa.func.count(Rubric.assignment_id))) == 0
    assert c.db.session.scalar(sa.select(sa.func.count(ScoreOverride.id))) == 0
    assert c.db.session.scalar(sa.select(sa.func.count(Extension.id))) == 0
    assert c.classroom.time_zone == "UTC"

    auth.login("teacher")
    for url in get_urls(c):
        assert client.get(url).status_code == 200, url
    # Another class's assignment, a teacher as the student, someone outside: not found.
    other = f"/classes/{c.cid}/assignments/{c.other_assignment.id}"
    for url in (
        f"{other}/scores",
        f"{other}/discussion",
        f"{other}/notes.csv",
        c.url(f"/students/{c.teacher.id}"),
        c.url(f"/students/{c.outsider.id}"),
        c.url("/students/2147483647"),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(c.url(f"/students/{c.outsider.id}/score"), data={}).status_code == 404


def test_pages_and_their_htmx_fragments(client, auth, course):
    auth.login("teacher")
    for url in get_urls(course)[:3]:
        full = client.get(url)
        fragment = client.get(url, headers=HTMX)
        assert full.status_code == fragment.status_code == 200
        assert "<html" in body(full) and "<html" not in body(fragment)
        assert "HX-Request" in full.headers.get("Vary", "")
        assert page(fragment).find("h1") is not None


# --- deadlines ------------------------------------------------------------------------------


def test_the_class_time_zone_and_a_due_time_typed_in_it(client, auth, course):
    c = course
    auth.login("teacher")
    root = page(client.get(f"/classes/{c.cid}"))
    select_zone = root.find("select", name="time_zone")
    assert root.find("label", for_="class-time-zone") is not None
    options = [o.get("value") for o in select_zone.find_all("option")]
    assert options[0] == "UTC" and "Europe/Paris" in options and "Asia/Kolkata" in options
    assert root.find("input", name="due_time").get("type") == "time"

    response = client.post(f"/classes/{c.cid}/time-zone", data={"time_zone": "Mars/Base"})
    assert response.status_code == 400
    assert "Choose a time zone from the list" in page(response).by_id("zone-error").text()
    response = client.post(f"/classes/{c.cid}/time-zone", data={"time_zone": "Europe/Paris\x00"})
    assert response.status_code == 302  # the NUL is dropped before the view sees it
    c.db.session.expire_all()
    assert c.classroom.time_zone == "Europe/Paris"

    form = {"document_id": str(c.document.id), "due": "2030-12-01", "due_time": "18:00"}
    assert client.post(f"/classes/{c.cid}/assignments", data=form).status_code == 302
    c.db.session.expire_all()
    assert c.db.session.get(Assignment, c.aid).due_at == datetime(2030, 12, 1, 17, 0)
    for who in ("teacher", "ana"):
        auth.login(who)
        item = page(client.get(f"/classes/{c.cid}")).by_id(f"assignment-{c.aid}")
        time = item.find("time")
        assert time.get("datetime") == "2030-12-01T17:00:00Z" and "data-due" in time.attrs
        assert time.text() == "Sun 1 Dec 2030, 18:00 CET"

    auth.login("teacher")
    form["due_time"] = "25:61"
    response = client.post(f"/classes/{c.cid}/assignments", data=form)
    assert response.status_code == 400
    assert "A due time looks like 23:59" in page(response).by_id("assign-error").text()


def test_students_see_what_is_due_in_the_library_the_class_page_and_the_reader(
    client, auth, course
):
    c = course
    c.assignment.due_at = utcnow() + timedelta(days=2, hours=3)
    c.db.session.commit()
    iso = c.assignment.due_at.replace(microsecond=0).isoformat() + "Z"
    auth.login("ana")
    shelf = page(client.get("/")).by_id("shelf-assigned")
    line = shelf.find("p", class_="meta due-line")
    assert line.text().startswith("Slow Reading: due ") and "2 days left" in line.text()
    assert line.find("time").get("datetime") == iso

    banner = page(client.get(f"/articles/{SEED_SLUG}?context=class-{c.cid}")).by_id("due-banner")
    assert banner.find("time").get("datetime") == iso
    assert banner.text().split()[0] == "Due" and "— 2 days left" in " ".join(banner.text().split())
    assert banner.find("time").text().endswith(" UTC")
    # No banner in one's private notes, nor on an article the class does not read.
    assert page(client.get(f"/articles/{SEED_SLUG}?context=private")).by_id("due-banner") is None

    # An extension: the student sees their own deadline everywhere.
    auth.login("teacher")
    later = (utcnow() + timedelta(days=9)).date().isoformat()
    response = client.post(c.url(f"/students/{c.ana.id}/extension"), data={"due": later})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/students/{c.ana.id}#extension")
    auth.login("ana")
    banner = page(client.get(f"/articles/{SEED_SLUG}?context=class-{c.cid}")).by_id("due-banner")
    assert banner.text().split()[:4] == ["Due", "(extended", "for", "you)"]
    assert banner.find("time").get("datetime") == f"{later}T23:59:00Z"
    item = page(client.get(f"/classes/{c.cid}")).by_id(f"assignment-{c.aid}")
    assert "extended for you" in item.text()
    auth.login("ben")
    banner = page(client.get(f"/articles/{SEED_SLUG}?context=class-{c.cid}")).by_id("due-banner")
    assert banner.find("time").get("datetime") == iso


def test_extensions_are_granted_changed_and_taken_back(client, auth, course):
    c = course
    auth.login("teacher")
    url = c.url(f"/students/{c.ana.id}/extension")
    response = client.post(url, data={"due": "2026-01-15", "due_time": "12:00"})
    assert response.status_code == 302
    extension = c.db.session.scalar(sa.select(Extension))
    assert (extension.user_id, extension.due_at) == (c.ana.id, datetime(2026, 1, 15, 12))
    root = page(client.get(c.url(f"/students/{c.ana.id}")))
    assert root.find("input", name="due").get("value") == "2026-01-15"
    assert root.find("label", for_="extension-due") is not None

    for bad, message in (("soon", "A due date looks like"), ("2026-01-15T99:00", "due time")):
        response = client.post(url, data={"due": bad})
        assert response.status_code == 400
        assert message in page(response).by_id("extension-error").text()
    assert client.post(url, data={"due": ""}).status_code == 302
    c.db.session.expire_all()
    assert c.db.session.scalar(sa.select(sa.func.count(Extension.id))) == 0


def test_late_work_is_marked_in_participation_and_on_the_cards_for_instructors(
    client, auth, discussed
):
    c = discussed
    auth.login("teacher")
    root = page(client.get(f"/classes/{c.cid}/participation?assignment={c.aid}"))
    late = {
        row.find("th").text().strip(): row.find_all("td")[-1].text()
        for row in root.by_id("participation-table").find("tbody").find_all("tr")
    }
    assert late == {"ana": "2", "ben": "0"}  # a2 and r2 came after the deadline
    header = [th.text() for th in root.by_id("participation-table").find("thead").find_all("th")]
    assert header[-1] == "Late"
    csv_rows = rows_of(client.get(f"/classes/{c.cid}/participation.csv?assignment={c.aid}"))
    assert csv_rows[0][-1] == "late" and [r[-1] for r in csv_rows[1:]] == ["2", "0"]

    reader = page(client.get(f"/articles/{SEED_SLUG}?context=class-{c.cid}"))
    badges = {e.id for e in reader.find_all() if e.find("span", class_="badge badge-late")}
    assert f"annotation-{c.a2.id}" in badges and f"reply-{c.r2.id}" in badges
    assert f"annotation-{c.a1.id}" not in badges and f"reply-{c.r1.id}" not in badges

    # With an extension past it, ana's work is on time.
    c.db.session.add(Extension(assignment_id=c.aid, user_id=c.ana.id, due_at=at(20)))
    c.db.session.commit()
    root = page(client.get(f"/classes/{c.cid}/participation?assignment={c.aid}"))
    assert root.by_id(f"participant-{c.ana.id}").find_all("td")[-1].text() == "0"

    # Students never see the marks.
    c.db.session.query(Extension).delete()
    c.db.session.commit()
    auth.login("ben")
    reader = page(client.get(f"/articles/{SEED_SLUG}?context=class-{c.cid}"))
    assert reader.find("span", class_="badge badge-late") is None


# --- scores ---------------------------------------------------------------------------------


def scores_by_student(root) -> dict[str, str]:
    table = root.by_id("scores-table")
    return {
        row.find("th").text().strip(): row.find_all("td")[0].find("strong").text()
        for row in table.find("tbody").find_all("tr")
    }


def test_scores_follow_the_rubric_and_list_their_evidence(client, auth, discussed):
    c = discussed
    auth.login("teacher")
    root = page(client.get(c.url("/scores")))
    # The default rubric: 3 comments of 15 words (6), 2 replies (2), 1 question (1),
    # 1 upvote (1), at most 10; late work does not count.
    lines = root.find("ul", class_="rubric-lines").text()
    assert "3 comments of at least 15 words: 6 points" in lines
    assert scores_by_student(root) == {"ana": "2", "ben": "1"}
    table = root.by_id("scores-table")
    assert table.find("caption") is not None
    assert [th.get("scope") for th in table.find("thead").find_all("th")] == ["col"] * 7
    for label in ("Comments needed", "Words per comment", "Most points in all"):
        assert label in root.by_id("rubric").text(), label
    assert all(
        root.find("label", for_=f"rubric-{name}") is not None
        for name in ("comments_needed", "comment_words", "cap", "upvote_points")
    )

    form = {
        "comments_needed": "1",
        "comment_words": "5",
        "comment_points": "5",
        "replies_needed": "1",
        "reply_points": "2",
        "questions_needed": "1",
        "question_points": "1",
        "upvotes_needed": "1",
        "upvote_points": "3",
        "cap": "10",
        "count_late": "on",
    }
    response = client.post(c.url("/rubric"), data=form)
    assert response.status_code == 302 and response.headers["Location"] == c.url("/scores")
    root = page(client.get(c.url("/scores")))
    # ana: comments a1, a2 (late counts now): 5; reply r2: 2; question a1: 1; upvote
    # from ben (the teacher's counts too, hers does not): 3 -> 11, capped at 10.
    # ben: b1 has 6 words: 5; reply r1: 2; question b2: 1; no upvotes -> 8.
    assert scores_by_student(root) == {"ana": "10", "ben": "8"}

    bad = {**form, "cap": "-3"}
    response = client.post(c.url("/rubric"), data=bad)
    assert response.status_code == 400
    root = page(response)
    assert "Most points in all: give a whole number" in root.by_id("rubric-error").text()
    assert root.find("input", name="cap").get("value") == "-3"  # kept as typed
    # Asking for no upvotes while they are worth 3 points would give 3 points to everyone.
    response = client.post(c.url("/rubric"), data={**form, "upvotes_needed": "0"})
    assert response.status_code == 400
    assert "Upvotes needed: 0 would give every student its 3 points for nothing" in (
        page(response).by_id("rubric-error").text()
    )
    c.db.session.expire_all()
    assert c.db.session.get(Rubric, c.aid).upvotes_needed == 1  # the saved rubric stands
    assert client.post(c.url("/rubric"), data={**form, "cap": "1\x00"}).status_code == 302
    c.db.session.expire_all()
    assert c.db.session.get(Rubric, c.aid).cap == 1


def test_one_students_work_in_one_list_each_linked_to_its_place(client, auth, discussed):
    c = discussed
    auth.login("teacher")
    root = page(client.get(f"/classes/{c.cid}/participation?assignment={c.aid}"))
    link = root.by_id(f"participant-{c.ana.id}").find("a")
    assert link.get("href") == c.url(f"/students/{c.ana.id}")

    root = page(client.get(link.get("href")))
    listed = root.find("ol", class_="work-list").find_all("li")
    items = [li for li in listed if "work-item" in li.classes]
    assert [i.id for i in items] == [f"note-{c.a1.id}", f"note-{c.a2.id}", f"reply-{c.r2.id}"]
    reader = f"/articles/{SEED_SLUG}?context=class-{c.cid}"
    hrefs = [i.find("a").get("href") for i in items]
    assert hrefs == [
        f"{reader}#annotation-{c.a1.id}",
        f"{reader}#annotation-{c.a2.id}",
        f"{reader}#reply-{c.r2.id}",
    ]
    assert [("late" in i.classes) for i in items] == [False, True, True]
    assert "Hmeimim military base" in items[0].find("blockquote").text()
    assert items[2].find("blockquote").text() == "Hmeimim military base"  # the note it answers
    evidence = [i.find("p", class_="evidence hint").text() for i in items]
    assert evidence[0] == (
        "Counted for questions, upvotes: 13 words: fewer than 15; a question; "
        "2 upvotes from others."
    )
    assert evidence[1] == "Not counted: after the deadline: not counted."
    assert "Score: 2 of 10" in root.by_id("score-title").text()

    # ben's list has only ben's work.
    root = page(client.get(c.url(f"/students/{c.ben.id}")))
    ids = [li.id for li in root.find_all("li") if "work-item" in li.classes]
    assert ids == [f"note-{c.b2.id}", f"note-{c.b1.id}", f"reply-{c.r1.id}"]


def test_an_instructor_overrides_a_score_with_a_reason(client, auth, discussed):
    c = discussed
    auth.login("teacher")
    url = c.url(f"/students/{c.ana.id}/score")
    response = client.post(url, data={"points": "9"})
    assert response.status_code == 400
    assert "Say why the score is changed" in page(response).by_id("override-error").text()
    for bad in ("nine", "-1", "1001", "4.5", "١"):
        response = client.post(url, data={"points": bad, "reason": "x"})
        assert response.status_code == 400, bad
        assert "whole number" in page(response).by_id("override-error").text()
    response = client.post(url, data={"points": "9", "reason": "Great\x00 work in class"})
    assert response.status_code == 302
    root = page(client.get(c.url("/scores")))
    assert scores_by_student(root)["ana"] == "9"
    row = root.by_id(f"score-{c.ana.id}")
    assert "(computed 2)" in row.text() and "Great work in class" in row.text()
    root = page(client.get(c.url(f"/students/{c.ana.id}")))
    assert "from the computed 2" in root.by_id("score").text()
    assert client.post(url, data={"points": "", "reason": ""}).status_code == 302
    assert scores_by_student(page(client.get(c.url("/scores"))))["ana"] == "2"


def test_the_grade_book_csv(client, auth, discussed, db):
    c = discussed
    second = import_article(db.session, FORMULA_ARTICLE, "formula.md").document
    assign(db.session, c.classroom, second, None)
    db.session.commit()
    auth.login("teacher")
    client.post(c.url(f"/students/{c.ben.id}/score"), data={"points": "7", "reason": "oral"})
    response = client.get(f"/classes/{c.cid}/gradebook.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="gradebook-slow-reading.csv"' in response.headers["Content-Disposition"]
    rows = rows_of(response)
    title = c.version.title
    assert rows[0] == [
        "student",
        f"{title} (of 10)",
        '\'=HYPERLINK("http://x") Reading (of 10)',  # neutralised: text, not a formula
        "total",
    ]
    assert rows[1:] == [["ana", "2", "0", "2"], ["ben", "7", "0", "7"]]
    assert b"\r\nana,2,0,2\r\n" in response.data  # numbers as numbers

    # Another article of the same title: each column says which article it is.
    third = import_article(db.session, FORMULA_ARTICLE, "formula-again.md").document
    assign(db.session, c.classroom, third, None)
    db.session.commit()
    header = rows_of(client.get(f"/classes/{c.cid}/gradebook.csv"))[0]
    assert header[2:4] == [
        f'\'=HYPERLINK("http://x") Reading [{second.slug}] (of 10)',
        f'\'=HYPERLINK("http://x") Reading [{third.slug}] (of 10)',
    ]
    assert second.slug != third.slug and header[1] == f"{title} (of 10)"


# --- where the class is confused ------------------------------------------------------------


def test_the_heat_map_ranks_passages_and_lists_open_questions(client, auth, discussed):
    c = discussed
    set_answered(c.db.session, c.b2, c.teacher, True)
    c.db.session.commit()
    auth.login("teacher")
    root = page(client.get(c.url("/discussion")))
    reader = f"/articles/{SEED_SLUG}?context=class-{c.cid}"
    heat = root.by_id("heat-map")
    shaded = {
        a.text().split(" (")[0][:40]: (a.classes, a.find("span", class_="visually-hidden").text())
        for a in heat.find_all("a")
    }
    # The sentence with "Hmeimim military base" (two notes on it, one an open question).
    sentence = next(k for k in shaded if k.startswith("He added that Syria's agreement"))
    classes, summary = shaded[sentence]
    assert "shade-4" in classes and "shade-open" in classes
    assert summary == " (2 notes, 2 replies, 1 question, 1 unanswered)"
    # Every sentence is there, shaded or not; one without notes is no link.
    assert heat.find("span", class_="shade shade-0") is not None

    ranked = root.by_id("most-discussed").find("ol").find_all("li")
    first = ranked[0]
    assert first.find("a").text().startswith("He added that Syria's agreement")
    assert first.find("a").get("href") == f"{reader}#annotation-{c.a1.id}"
    assert "2 notes, 2 replies" in first.text()

    questions = root.by_id("unanswered").find("ol").find_all("li")
    assert [q.find("a").get("href") for q in questions] == [f"{reader}#annotation-{c.a1.id}"]
    assert "ana" in questions[0].text()


def test_the_heat_map_counts_with_aggregate_queries(client, auth, course, app):
    c = course
    auth.login("teacher")

    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(c.db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(c.url("/discussion")).status_code == 200
        finally:
            sa.event.remove(c.db.engine, "before_cursor_execute", listener)
        return len(seen)

    c.note(c.ana, "Hmeimim military base", at(2), "one")
    c.db.session.commit()
    few = statements()
    for index in range(40):
        note = c.note(c.ben if index % 2 else c.ana, "White Helmets", at(3), f"n{index}")
        c.reply(c.ana, note, "r", at(4))
    c.db.session.commit()
    assert statements() == few


# --- the notes of an assignment as CSV ------------------------------------------------------


def test_every_note_and_reply_as_csv(client, auth, discussed):
    c = discussed
    c.db.session.add_all([AnnotationTag(annotation_id=c.b1.id, name=n) for n in ("port", "=sum")])
    c.db.session.commit()
    auth.login("teacher")
    response = client.get(c.url("/notes.csv"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = rows_of(response)
    assert rows[0] == [
        "kind",
        "id",
        "note",
        "quote",
        "comment",
        "author",
        "time (UTC)",
        "tags",
        "votes",
        "question",
        "answered",
        "hidden",
        "late",
        "link",
    ]
    by_id = {(r[0], r[1]): r for r in rows[1:]}
    a1 = by_id[("note", str(c.a1.id))]
    assert a1[3:7] == ["Hmeimim military base", LONG, "ana", "2026-01-02T12:00:00"]
    assert a1[8:13] == ["2", "yes", "no", "no", "no"]  # ben's and the teacher's votes
    assert a1[13].endswith(f"/articles/{SEED_SLUG}?context=class-{c.cid}#annotation-{c.a1.id}")
    b1 = by_id[("note", str(c.b1.id))]
    assert b1[4] == "'=cmd|' /C calc'!A0 short"  # neutralised
    assert b1[7] == "'=sum port"
    assert by_id[("note", str(c.a2.id))][12] == "yes"
    r2 = by_id[("reply", str(c.r2.id))]
    assert r2[2] == str(c.b1.id) and r2[4] == "Late reply." and r2[12] == "yes"
    assert r2[13].endswith(f"#reply-{c.r2.id}")
    # Each note comes before its replies; only this class's notes.
    kinds = [(r[0], r[2]) for r in rows[1:]]
    assert kinds.index(("note", str(c.a1.id))) < kinds.index(("reply", str(c.a1.id)))
    assert len(rows) == 1 + 4 + 2


def test_a_deadline_reminder_comes_before_the_students_own_deadline(course):
    from webapp.services.notifications import due_soon_missing

    c = course
    c.db.session.add(Extension(assignment_id=c.aid, user_id=c.ana.id, due_at=DUE + timedelta(3)))
    c.db.session.commit()
    # A day before the class's deadline: ben is reminded, ana (with 3 more days) is not.
    missing = due_soon_missing(c.db.session, DUE - timedelta(hours=2))
    assert missing == [(c.ben.id, c.aid)]
    missing = due_soon_missing(c.db.session, DUE + timedelta(days=2, hours=22))
    assert missing == [(c.ana.id, c.aid)]
