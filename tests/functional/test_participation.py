"""Participation per assignment and student: the measures, who may see them, the page, the
CSV download, and the `demo` command that fills a class to look at.

Rules checked here (they are the service's): rows for every student of the class, none for
instructors (kept apart) or for anyone outside it; deleted annotations and replies do not
count, hidden ones do; a reply under a deleted annotation still counts; a vote for one's
own annotation does not count, nor a vote for a deleted one.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, PASSWORD
from tests.functional.helpers import marks_for, page, select, vary
from webapp.models import Annotation, Classroom, Reply, User, Vote, utcnow
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply, toggle_vote
from webapp.services.documents import import_article
from webapp.services.participation import participation

SECOND_ARTICLE = """# A Second Article

By [Someone](#)

July 28, 2018

The second article has one paragraph about reading slowly and carefully in class.

Original url:

<https://example.com/second>
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute)


class World:
    """A class reading the seed article (and a second one), another class, and people."""

    def __init__(self, db, auth, seed_document):
        session = db.session
        self.db = db
        make = auth.create
        self.teacher, self.ana, self.ben, self.chloe = (
            make(n) for n in ("teacher", "ana", "ben", "chloe")
        )
        self.other_teacher, self.outsider, self.stranger = (
            make(n) for n in ("otherteacher", "outsider", "stranger")
        )
        self.classroom = create_class(session, self.teacher, '=HYPERLINK("x") History, 10')
        self.other = create_class(session, self.other_teacher, "Other class")
        for student in (self.ana, self.ben, self.chloe):
            join_class(session, student, self.classroom.join_code)
        join_class(session, self.outsider, self.other.join_code)
        self.document = seed_document
        self.version = seed_document.current_version
        self.second = import_article(session, SECOND_ARTICLE, "second.md").document
        self.assignment = assign(session, self.classroom, self.document, at(20, 23, 59))
        self.second_assignment = assign(session, self.classroom, self.second, None)
        assign(session, self.other, self.document, None)
        db.session.commit()

    def note(self, author, phrase, when, body="", classroom=None, question=False, **extra):
        form = {**select(self.version.text, phrase), "body": body, **extra}
        classroom = self.classroom if classroom is None else classroom
        if classroom is not False:
            form["audience"] = f"class-{classroom.id}"
        if question:
            form["question"] = "on"
        annotation = create_annotation(self.db.session, author, self.version, form)
        annotation.created_at = when
        self.db.session.flush()
        return annotation

    def reply(self, author, annotation, body, when, parent=None):
        reply = add_reply(
            self.db.session, author, annotation, body, str(parent.id) if parent else None
        )
        reply.created_at = when
        self.db.session.flush()
        return reply

    def vote(self, user, annotation):
        toggle_vote(self.db.session, user, annotation)


@pytest.fixture
def world(db, auth, seed_document) -> World:
    return World(db, auth, seed_document)


@pytest.fixture
def discussed(world) -> World:
    """The discussion whose every measure the tests check."""
    w = world
    session = w.db.session
    w.a1 = w.note(w.ana, "Hmeimim military base", at(1, 10), "Why forty years?", question=True)
    # A bare highlight is private even when made for the class, and one posted to the
    # class before that rule (as this one is made to be) is no shared note: neither counts.
    w.a2 = w.note(w.ana, "White Helmets", at(3, 12))
    assert w.a2.classroom_id is None
    w.a2.classroom_id = w.classroom.id
    w.a3 = w.note(w.ana, "Syria Civil Defense", at(1, 1), "gone words here", question=True)
    w.b1 = w.note(
        w.ben, "The rapid return of refugees to Syria", at(2, 9), "Return to what? قرأ الطلاب"
    )
    w.b1.hidden = True  # hidden by an instructor: still counted
    w.note(w.ana, "balance in our region", at(6, 9), "private words", classroom=False)
    w.note(w.outsider, "lay down their arms", at(1, 8), "another class", classroom=w.other)
    w.t1 = w.note(w.teacher, "Western-sponsored propaganda tools", at(1, 7), "Discuss this.")

    w.r1 = w.reply(w.ben, w.a1, "Because the lease says so.", at(4, 8))
    w.reply(w.ana, w.a1, "Fair point 👍", at(5, 7, 30), parent=w.r1)
    gone = w.reply(w.ben, w.a1, "deleted reply words", at(9, 9))
    gone.deleted_at = utcnow()
    w.reply(w.ben, w.a3, "Still here.", at(3, 1))  # under a deleted annotation: counts
    w.reply(w.chloe, w.t1, "Hmm", at(2, 2))
    w.reply(w.teacher, w.b1, "Good question for Thursday.", at(7, 7))

    w.vote(w.ben, w.a1)
    w.vote(w.chloe, w.a1)
    w.vote(w.ana, w.a1)  # one's own: not counted
    w.vote(w.teacher, w.b1)
    w.vote(w.ben, w.a3)  # on an annotation deleted below: not counted
    w.vote(w.ana, w.t1)
    w.a3.deleted_at = utcnow()

    # A class annotation on the class's other article: only in that assignment's report.
    second_text = w.second.current_version.text
    form = {**select(second_text, "reading slowly"), "body": "Slow is good"}
    form["audience"] = f"class-{w.classroom.id}"
    other = create_annotation(session, w.ana, w.second.current_version, form)
    other.created_at = at(8, 8)
    session.commit()
    return w


def rows_by_name(report):
    return {row.username: row for row in report.students}


def test_every_measure_per_student(discussed):
    w = discussed
    report = participation(w.db.session, w.classroom, w.assignment)
    rows = rows_by_name(report)
    assert list(rows) == ["ana", "ben", "chloe"]

    ana = rows["ana"]
    assert (ana.annotations, ana.replies, ana.words, ana.questions, ana.upvotes) == (1, 1, 5, 1, 2)
    assert (ana.first_activity, ana.last_activity) == (at(1, 10), at(5, 7, 30))

    ben = rows["ben"]
    assert (ben.annotations, ben.replies, ben.words, ben.questions, ben.upvotes) == (1, 2, 12, 0, 1)
    assert (ben.first_activity, ben.last_activity) == (at(2, 9), at(4, 8))

    chloe = rows["chloe"]
    assert (chloe.annotations, chloe.replies, chloe.words, chloe.questions) == (0, 1, 1, 0)
    assert chloe.upvotes == 0
    assert chloe.first_activity == chloe.last_activity == at(2, 2)


def test_instructors_are_kept_apart_and_outsiders_left_out(discussed):
    w = discussed
    report = participation(w.db.session, w.classroom, w.assignment)
    names = [row.username for row in report.students]
    assert "teacher" not in names and "outsider" not in names and "stranger" not in names
    [teacher] = report.instructors
    assert teacher.username == "teacher" and teacher.is_instructor
    assert (teacher.annotations, teacher.replies, teacher.words, teacher.upvotes) == (1, 1, 6, 1)


def test_students_without_activity_get_a_row_of_zeros(world):
    report = participation(world.db.session, world.classroom, world.assignment)
    assert [row.username for row in report.students] == ["ana", "ben", "chloe"]
    for row in report.students:
        assert (row.annotations, row.replies, row.words, row.questions, row.upvotes) == (
            0,
            0,
            0,
            0,
            0,
        )
        assert row.first_activity is None and row.last_activity is None and not row.active


def test_each_assignment_counts_its_own_article(discussed):
    w = discussed
    rows = rows_by_name(participation(w.db.session, w.classroom, w.second_assignment))
    assert (rows["ana"].annotations, rows["ana"].words) == (1, 3)
    assert rows["ana"].first_activity == at(8, 8)
    assert rows["ben"].annotations == rows["ben"].replies == 0


def test_the_other_class_sees_only_its_own(discussed):
    w = discussed
    other_assignment = w.other.assignments[0]
    report = participation(w.db.session, w.other, other_assignment)
    [outsider] = report.students
    assert (outsider.username, outsider.annotations, outsider.words) == ("outsider", 1, 2)


def test_deleting_and_undeleting_changes_the_counts(discussed):
    w = discussed
    w.a1.deleted_at = utcnow()
    w.db.session.commit()
    ana = rows_by_name(participation(w.db.session, w.classroom, w.assignment))["ana"]
    # a1 and its votes go; ana's reply in its thread stays (a2, a bare highlight, never
    # counted, nor is it activity).
    assert (ana.annotations, ana.questions, ana.upvotes, ana.replies) == (0, 0, 0, 1)
    assert ana.words == 2 and ana.first_activity == at(5, 7, 30)


def test_a_vote_counts_once_and_a_taken_back_vote_not_at_all(discussed):
    w = discussed
    w.vote(w.ben, w.a1)  # toggles ben's vote off
    w.db.session.commit()
    assert rows_by_name(participation(w.db.session, w.classroom, w.assignment))["ana"].upvotes == 1
    assert w.db.session.scalar(sa.select(sa.func.count(Vote.id))) == 5


def test_one_query_per_measure_whatever_the_number_of_students(db, discussed, auth):
    w = discussed

    def queries() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        assert w.classroom.id and w.assignment.classroom_id  # loaded before counting
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            participation(db.session, w.classroom, w.assignment)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries()
    for index in range(12):
        student = auth.create(f"extra{index}")
        join_class(db.session, student, w.classroom.join_code)
        w.note(student, "White Helmets", at(2, index), f"note {index}")
        w.reply(student, w.a1, "me too", at(3, index))
    db.session.commit()
    assert queries() == few <= 5  # members, notes, replies, upvotes, extensions (late)


# --- access --------------------------------------------------------------------------------


def urls(w: World) -> list[str]:
    base = f"/classes/{w.classroom.id}/participation"
    return [base, f"{base}?assignment={w.assignment.id}", f"{base}.csv"]


def test_anonymous_is_sent_to_log_in(client, world):
    for url in urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next=")
    assert client.get(urls(world)[0], headers=HTMX).status_code == 401


@pytest.mark.parametrize(
    "who, status",
    [("stranger", 404), ("otherteacher", 404), ("outsider", 404), ("ana", 403), ("teacher", 200)],
)
def test_only_the_class_instructors_see_it(client, auth, world, who, status):
    auth.login(who)
    for url in urls(world):
        response = client.get(url)
        assert response.status_code == status, (who, url)
        if status != 200:
            assert "participation-table" not in response.get_data(as_text=True)


def test_unknown_class_or_assignment_is_a_404(client, auth, world):
    auth.login("teacher")
    base = f"/classes/{world.classroom.id}/participation"
    other_assignment = world.other.assignments[0]
    assert client.get("/classes/999999/participation").status_code == 404
    assert client.get("/classes/99999999999999999999999/participation").status_code == 404
    for query in (f"?assignment={other_assignment.id}", "?assignment=abc", "?assignment=99999"):
        assert client.get(base + query).status_code == 404, query
        assert client.get(f"{base}.csv{query}").status_code == 404, query


def test_a_class_without_assignments(client, auth, db):
    teacher = auth.login("teacher")
    empty = create_class(db.session, teacher, "Nothing yet")
    db.session.commit()
    response = client.get(f"/classes/{empty.id}/participation")
    assert response.status_code == 200
    assert "No article is assigned" in response.get_data(as_text=True)
    assert page(response).by_id("participation-table") is None
    assert client.get(f"/classes/{empty.id}/participation.csv").status_code == 404


# --- the page ------------------------------------------------------------------------------


def table_rows(root) -> dict[str, list[str]]:
    table = root.by_id("participation-table")
    assert table is not None
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        cells = [" ".join(c.text().split()) for c in tr.find_all() if c.tag in ("th", "td")]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_page_lists_assignments_and_the_first_one_s_table(client, auth, discussed):
    w = discussed
    auth.login("teacher")
    response = client.get(f"/classes/{w.classroom.id}/participation")
    assert response.status_code == 200
    root = page(response)
    options = root.by_id("assignment-picker").find_all("option")
    assert [o.get("value") for o in options] == [
        str(w.assignment.id),
        str(w.second_assignment.id),
    ]
    # The due time in the class's zone (UTC here).
    assert "selected" in options[0].attrs and "(due Tue 20 Jan" in options[0].text()
    assert options[0].text().endswith(", 23:59 UTC)")
    rows = table_rows(root)
    assert rows == {
        "ana": ["1", "1", "5", "1", "2", "2026-01-01 10:00", "2026-01-05 07:30", "0"],
        "ben": ["1", "2", "12", "0", "1", "2026-01-02 09:00", "2026-01-04 08:00", "0"],
        "chloe": ["0", "1", "1", "0", "0", "2026-01-02 02:00", "2026-01-02 02:00", "0"],
    }
    table = root.by_id("participation-table")
    assert table.find("time").get("datetime") == "2026-01-01T10:00:00Z"
    totals = [c.text() for c in table.find("tfoot").find_all() if c.tag in ("th", "td")]
    assert totals[:6] == ["All students", "2", "4", "18", "1", "3"]
    csv_link = root.find("a", download=True)
    assert csv_link.get("href") == (
        f"/classes/{w.classroom.id}/participation.csv?assignment={w.assignment.id}"
    )
    # The CSP forbids inline scripts and styles: the page has none.
    html = response.get_data(as_text=True)
    assert "style=" not in html and "<script>" not in html and " onclick" not in html


def test_choosing_another_assignment_full_page_and_fragment(client, auth, discussed):
    w = discussed
    auth.login("teacher")
    url = f"/classes/{w.classroom.id}/participation?assignment={w.second_assignment.id}"
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    root = page(full)
    selected = [o for o in root.find_all("option") if "selected" in o.attrs]
    assert [o.get("value") for o in selected] == [str(w.second_assignment.id)]
    assert table_rows(root)["ana"][:3] == ["1", "0", "3"]

    fragment = client.get(url, headers=HTMX)
    assert fragment.status_code == 200
    assert "hx-request" in vary(fragment)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "assignment-picker" not in html
    [top] = page(fragment).top_level()
    assert top.id == "participation-report"
    assert table_rows(top)["ana"][:3] == ["1", "0", "3"]


def test_the_form_works_without_javascript(client, auth, discussed):
    w = discussed
    auth.login("teacher")
    form = page(client.get(f"/classes/{w.classroom.id}/participation")).find("form", method="get")
    assert form.get("action") == f"/classes/{w.classroom.id}/participation"
    assert form.get("hx-get") == form.get("action")
    assert form.find("select").get("name") == "assignment"
    assert form.find("button", type="submit") is not None


# --- the CSV -------------------------------------------------------------------------------


def test_the_csv_download(client, auth, discussed):
    w = discussed
    auth.login("teacher")
    response = client.get(f"/classes/{w.classroom.id}/participation.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert name == (
        "participation-hyperlink-x-history-10-"
        "russian-military-needed-in-syria-long-term-assad-says.csv"
    )
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == [
        "class",
        "article",
        "student",
        "annotations",
        "replies",
        "words",
        "questions",
        "upvotes received",
        "first activity (UTC)",
        "last activity (UTC)",
        "late",
    ]
    title = w.version.title
    # The class name starts with "=": neutralised, so a spreadsheet shows it as text.
    klass = '\'=HYPERLINK("x") History, 10'
    assert rows[1:] == [
        [
            klass,
            title,
            "ana",
            "1",
            "1",
            "5",
            "1",
            "2",
            "2026-01-01T10:00:00",
            "2026-01-05T07:30:00",
            "0",
        ],
        [
            klass,
            title,
            "ben",
            "1",
            "2",
            "12",
            "0",
            "1",
            "2026-01-02T09:00:00",
            "2026-01-04T08:00:00",
            "0",
        ],
        [
            klass,
            title,
            "chloe",
            "0",
            "1",
            "1",
            "0",
            "0",
            "2026-01-02T02:00:00",
            "2026-01-02T02:00:00",
            "0",
        ],
    ]
    # Numbers are bare (a spreadsheet reads them as numbers); the quoted class name is
    # one cell despite its comma and quotes.
    assert b",ana,1,1,5,1,2,2026-01-01T10:00:00,2026-01-05T07:30:00,0\r\n" in data
    assert data.count(b"\r\n") == 4


def test_the_csv_of_another_assignment_and_a_non_latin_name(client, auth, db, discussed):
    w = discussed
    w.classroom.name = "القراءة البطيئة"
    db.session.commit()
    auth.login("teacher")
    response = client.get(
        f"/classes/{w.classroom.id}/participation.csv?assignment={w.second_assignment.id}"
    )
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    assert 'filename="participation-a-second-article.csv"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        "participation-القراءة-البطيئة-a-second-article.csv"
    )
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    ana = next(row for row in rows if row[2] == "ana")
    assert ana[:6] == ["القراءة البطيئة", "A Second Article", "ana", "1", "0", "3"]


# --- the demo ------------------------------------------------------------------------------


def printed(output: str, label: str) -> str:
    match = re.search(rf"^\s*{label}\s+(\S.*?)\s*$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1)


def test_demo_runs_twice_and_its_logins_work(runner, client, db, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)  # the address `make run` uses by default
    monkeypatch.delenv("PORT", raising=False)
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "exists already" in second.output

    assert "http://127.0.0.1:5000/login" in first.output
    password = printed(first.output, "password").split()[0]
    instructor = printed(first.output, "instructor")
    students = printed(first.output, "students").split(", ")
    assert (instructor, students) == ("demo-teacher", ["demo-ana", "demo-ben", "demo-chloe"])
    reader = re.search(
        r"http://127\.0\.0\.1:5000(/articles/\S+\?context=class-(\d+))", first.output
    )
    assert reader, first.output
    path, classroom_id = reader.group(1), int(reader.group(2))
    code = re.search(r"join code (\w+)", first.output).group(1)
    for output in (first.output, second.output):  # the same logins both times
        assert path in output and f"join code {code}" in output and password in output

    db.session.expire_all()
    classroom = db.session.get(Classroom, classroom_id)
    assert classroom.name == "Demo class" and classroom.join_code == code
    assert db.session.scalar(sa.select(sa.func.count(Classroom.id))) == 1
    [assignment] = classroom.assignments
    assert assignment.due_at is not None and assignment.due_at > utcnow()
    annotations = db.session.scalars(
        sa.select(Annotation).where(Annotation.classroom_id == classroom_id)
    ).all()
    # Not twice; the demo's bare highlight is its author's own, not the class's.
    assert len(annotations) == 4
    assert all(a.document_id == assignment.document_id for a in annotations)
    version = assignment.document.current_version
    for annotation in annotations:
        assert version.text[annotation.start : annotation.end] == annotation.exact
    assert {"Hmeimim military base", "White Helmets"} <= {a.exact for a in annotations}
    assert sum(a.is_question for a in annotations) == 1
    replies = db.session.scalars(
        sa.select(Reply).where(Reply.annotation_id.in_([a.id for a in annotations]))
    ).all()
    assert len(replies) >= 3 and any(r.parent_id is not None for r in replies)
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) >= 2

    # Every printed login works with the printed password.
    for username in [instructor, *students]:
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, username
        client.post("/logout")

    client.post("/login", data={"username": "demo-ana", "password": password})
    response = client.get(path)
    assert response.status_code == 200
    root = page(response)
    for annotation in annotations:
        assert marks_for(root, annotation.id), f"no mark for {annotation.exact!r}"

    client.post("/logout")
    client.post("/login", data={"username": instructor, "password": password})
    report = client.get(f"/classes/{classroom_id}/participation")
    assert report.status_code == 200
    rows = table_rows(page(report))
    assert set(rows) == set(students)
    assert all(int(cells[0]) + int(cells[1]) > 0 for cells in rows.values())


def test_demo_keeps_a_changed_password(runner, db):
    assert runner.invoke(args=["demo"]).exit_code == 0
    db.session.expire_all()
    ana = db.session.scalar(sa.select(User).where(User.username == "demo-ana"))
    ana.set_password(PASSWORD)
    db.session.commit()
    assert runner.invoke(args=["demo"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, ana.id).check_password(PASSWORD)
