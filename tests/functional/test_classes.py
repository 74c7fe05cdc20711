"""Classes: creating, joining with a code or a link, rotating the code, members and roles,
assigning articles; who may see and do what; and the classes service underneath."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import page
from webapp.models import Assignment, Classroom, Membership, Role
from webapp.services import classes as service


def create_class(client, name: str = "Reading Syria") -> int:
    response = client.post("/classes", data={"name": name})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/classes/")
    return int(location.removeprefix("/classes/"))


def classroom_of(db, classroom_id: int) -> Classroom:
    db.session.expire_all()
    return db.session.get(Classroom, classroom_id)


def role_of(db, classroom_id: int, user_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Membership.role).where(
            Membership.classroom_id == classroom_id, Membership.user_id == user_id
        )
    )


def flash_text(client) -> str:
    """The flashed messages shown by the next page."""
    root = page(client.get("/classes"))
    return root.by_id("flash").text()


@pytest.fixture
def classroom(client, db, auth) -> Classroom:
    """A class taught by "teacher"; the client ends up logged out."""
    auth.login("teacher")
    classroom_id = create_class(client)
    auth.logout()
    return classroom_of(db, classroom_id)


@pytest.fixture
def student_in(client, db, auth, classroom):
    """Log in as "student", a member of `classroom`."""
    user = auth.login("student")
    response = client.post("/classes/join", data={"code": classroom.join_code})
    assert response.status_code == 302
    return user


# --- creating -----------------------------------------------------------------------------


def test_classes_need_login(client, classroom):
    response = client.get("/classes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.post("/classes", data={"name": "X"}).status_code == 401
    assert client.get(f"/classes/{classroom.id}").status_code == 302


def test_create_makes_the_creator_instructor(client, db, auth):
    teacher = auth.login("teacher")
    classroom_id = create_class(client, "  Reading   Syria ")
    classroom = classroom_of(db, classroom_id)
    assert classroom.name == "Reading Syria"
    assert role_of(db, classroom_id, teacher.id) == Role.INSTRUCTOR.value
    assert len(classroom.join_code) == service.CODE_LENGTH

    response = client.get(f"/classes/{classroom_id}")
    assert response.status_code == 200
    root = page(response)
    assert "Created Reading Syria" in root.by_id("flash").text()
    assert root.find("h1").text() == "Reading Syria"
    assert classroom.join_code in root.find("code", class_="join-code").text()
    join_url = root.by_id("join-url").get("value")
    assert join_url == f"http://localhost/join/{classroom.join_code}"
    assert root.find("a", href=f"/classes/{classroom_id}/participation") is not None
    members = root.find("ul", class_="member-list")
    assert "teacher" in members.text() and "Instructor" in members.text()
    # No button to remove oneself.
    assert root.find("form", action=f"/classes/{classroom_id}/members/{teacher.id}/remove") is None


def test_my_classes_lists_role_members_and_articles(client, db, auth, classroom, student_in):
    auth.login("teacher")
    client.post(
        f"/classes/{classroom.id}/assignments",
        data={"document_id": str(db_document_id(db)), "due": "2026-12-01"},
    )
    root = page(client.get("/classes"))
    item = root.find("ul", class_="class-list").find("li")
    text = " ".join(item.text().split())
    assert "Reading Syria" in text
    assert "Instructor" in text
    assert "2 members" in text
    assert "1 assigned article" in text
    assert item.find("a", href=f"/articles/{SEED_SLUG}?context=class-{classroom.id}") is not None

    auth.login("student")
    text = " ".join(page(client.get("/classes")).find("ul", class_="class-list").text().split())
    assert "Student" in text and "Reading Syria" in text


def test_the_classes_page_has_both_forms_and_a_nav_link(client, auth):
    auth.login("reader")
    root = page(client.get("/classes"))
    assert root.find("form", action="/classes") is not None
    assert root.find("form", action="/classes/join").find("input", name="code") is not None
    assert root.find("header").find("a", href="/classes") is not None
    assert "not in any class yet" in root.find("main").text()


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_create_refuses_a_bad_name(client, db, auth, name):
    auth.login("teacher")
    response = client.post("/classes", data={"name": name})
    assert response.status_code == 400
    error = page(response).by_id("create-error")
    assert error is not None and ("name" in error.text())
    assert db.session.scalar(sa.select(sa.func.count(Classroom.id))) == 0


# --- joining with a code -------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [str, str.lower, lambda c: f"  {c[:4]} {c[4:]} ", lambda c: f"{c[:4]}-{c[4:]}"]
)
def test_join_with_the_code(client, db, auth, classroom, shape):
    student = auth.login("student")
    response = client.post("/classes/join", data={"code": shape(classroom.join_code)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/classes/{classroom.id}"
    assert role_of(db, classroom.id, student.id) == Role.STUDENT.value
    root = page(client.get(f"/classes/{classroom.id}"))
    assert "You joined Reading Syria" in root.by_id("flash").text()
    # Students do not see the code, the link, the rotate button or the assign form.
    assert root.by_id("invite") is None
    assert classroom.join_code not in root.find("main").text()
    assert root.find("form", class_="stack-form assign-form") is None
    assert root.find("a", href=f"/classes/{classroom.id}/participation") is None


def test_joining_twice_is_harmless(client, db, auth, classroom, student_in):
    response = client.post("/classes/join", data={"code": classroom.join_code})
    assert response.status_code == 302
    assert "already a member" in flash_text(client)
    count = db.session.scalar(
        sa.select(sa.func.count(Membership.id)).where(
            Membership.classroom_id == classroom.id, Membership.user_id == student_in.id
        )
    )
    assert count == 1


def test_the_instructor_joining_their_own_class_stays_instructor(client, db, auth, classroom):
    teacher = auth.login("teacher")
    client.post("/classes/join", data={"code": classroom.join_code})
    assert role_of(db, classroom.id, teacher.id) == Role.INSTRUCTOR.value


@pytest.mark.parametrize(
    "code, message",
    [
        ("NOPE2345", "No class has the join code NOPE2345"),
        ("", "Enter the join code"),
        ("  -- ", "Enter the join code"),
    ],
)
def test_a_bad_code_is_a_clear_400(client, db, auth, classroom, code, message):
    student = auth.login("student")
    response = client.post("/classes/join", data={"code": code})
    assert response.status_code == 400
    root = page(response)
    error = root.by_id("join-error")
    assert error is not None and message in error.text()
    assert error.get("role") == "alert"
    # The page is the classes page again, with the code kept in the field.
    assert root.find("form", action="/classes/join") is not None
    assert role_of(db, classroom.id, student.id) is None


def test_a_long_code_is_refused_without_echoing_all_of_it(client, auth, classroom):
    auth.login("student")
    response = client.post("/classes/join", data={"code": "Z" * 5000})
    assert response.status_code == 400
    assert "Z" * 17 not in page(response).by_id("join-error").text()


def test_a_rotated_code_stops_working_and_the_new_one_works(client, db, auth, classroom):
    old = classroom.join_code
    auth.login("teacher")
    response = client.post(f"/classes/{classroom.id}/rotate")
    assert response.status_code == 302
    new = classroom_of(db, classroom.id).join_code
    assert new != old
    root = page(client.get(f"/classes/{classroom.id}"))
    assert f"The new join code is {new}" in root.by_id("flash").text()
    assert root.by_id("join-url").get("value").endswith(f"/join/{new}")

    student = auth.login("student")
    response = client.post("/classes/join", data={"code": old})
    assert response.status_code == 400
    assert "codes can be changed" in page(response).by_id("join-error").text()
    assert role_of(db, classroom.id, student.id) is None

    response = client.get(f"/join/{old}")
    assert response.status_code == 404
    assert "code was changed" in page(response).find("main").text()

    assert client.post("/classes/join", data={"code": new.lower()}).status_code == 302
    assert role_of(db, classroom.id, student.id) == Role.STUDENT.value


# --- joining with the link -----------------------------------------------------------------


def test_the_join_link_sends_a_logged_out_visitor_to_log_in(client, classroom):
    response = client.get(f"/join/{classroom.join_code}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    next_target = parse_qs(urlsplit(location).query)["next"][0]
    assert next_target.startswith(f"/join/{classroom.join_code}")


def test_the_join_link_asks_to_confirm_then_joins_on_post(client, db, auth, classroom):
    student = auth.login("student")
    response = client.get(f"/join/{classroom.join_code.lower()}")
    assert response.status_code == 200
    root = page(response)
    assert " ".join(root.find("h1").text().split()) == "Join Reading Syria?"
    assert role_of(db, classroom.id, student.id) is None, "a GET must not join"
    form = root.find("form", action="/classes/join")
    assert form.get("method") == "post"
    assert form.find("input", name="csrf_token") is not None
    code = form.find("input", name="code").get("value")
    assert code == classroom.join_code

    response = client.post("/classes/join", data={"code": code})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/classes/{classroom.id}"
    assert role_of(db, classroom.id, student.id) == Role.STUDENT.value

    again = page(client.get(f"/join/{classroom.join_code}"))
    assert "already a member" in again.find("main").text()
    assert again.find("form", action="/classes/join") is None


def test_the_join_link_after_login_comes_back_to_the_confirm_page(client, db, auth, classroom):
    auth.create("student")
    location = client.get(f"/join/{classroom.join_code}").headers["Location"]
    login_page = page(client.get(location))
    next_value = login_page.find("input", name="next").get("value")
    response = client.post(
        "/login",
        data={"username": "student", "password": "correct horse battery", "next": next_value},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/join/{classroom.join_code}")


@pytest.mark.parametrize("code", ["NOPE2345", "-", "x" * 300])
def test_an_invalid_join_link_is_a_clear_404(client, auth, classroom, code):
    auth.login("student")
    response = client.get(f"/join/{code}")
    assert response.status_code == 404
    assert "This join link does not work" in page(response).find("main").text()


def test_an_invalid_join_link_in_htmx_is_a_flash_fragment(client, auth, classroom):
    auth.login("student")
    response = client.get("/join/NOPE2345", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flash"
    assert "This join link does not work" in response.get_data(as_text=True)


# --- who may see the class and act on it --------------------------------------------------


def test_a_non_member_gets_404_on_the_class_page(client, auth, classroom):
    auth.login("stranger")
    response = client.get(f"/classes/{classroom.id}")
    assert response.status_code == 404
    assert "you are not a member" in page(response).find("main").text()
    assert client.get("/classes/999999").status_code == 404
    assert client.get("/classes/" + "9" * 30).status_code == 404


def test_a_non_member_gets_404_on_instructor_actions(client, db, auth, classroom):
    auth.login("stranger")
    old = classroom.join_code
    assert client.post(f"/classes/{classroom.id}/rotate").status_code == 404
    assert client.post(f"/classes/{classroom.id}/assignments", data={}).status_code == 404
    assert classroom_of(db, classroom.id).join_code == old


def test_a_student_gets_403_on_instructor_actions(client, db, auth, classroom, student_in):
    teacher_id = db.session.scalar(
        sa.select(Membership.user_id).where(
            Membership.classroom_id == classroom.id, Membership.role == Role.INSTRUCTOR.value
        )
    )
    old = classroom.join_code
    document_id = db_document_id(db)

    response = client.post(f"/classes/{classroom.id}/rotate")
    assert response.status_code == 403
    assert "Only the instructors" in page(response).find("main").text()
    assert classroom_of(db, classroom.id).join_code == old

    response = client.post(f"/classes/{classroom.id}/members/{teacher_id}/remove")
    assert response.status_code == 403
    assert role_of(db, classroom.id, teacher_id) == Role.INSTRUCTOR.value

    response = client.post(
        f"/classes/{classroom.id}/assignments", data={"document_id": str(document_id)}
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0

    assignment = service.assign(db.session, classroom_of(db, classroom.id), document(db), None)
    db.session.commit()
    response = client.post(f"/classes/{classroom.id}/assignments/{assignment.id}/delete")
    assert response.status_code == 403
    assert db.session.get(Assignment, assignment.id) is not None

    # The student sees the class, its members, and no remove buttons.
    root = page(client.get(f"/classes/{classroom.id}"))
    assert root.find("form", class_="inline", action=f"/classes/{classroom.id}/rotate") is None
    assert not [f for f in root.find_all("form") if "/remove" in (f.get("action") or "")]
    assert "teacher" in root.find("ul", class_="member-list").text()


def test_instructor_removes_a_student_who_then_gets_404(client, db, auth, classroom, student_in):
    auth.login("teacher")
    root = page(client.get(f"/classes/{classroom.id}"))
    action = f"/classes/{classroom.id}/members/{student_in.id}/remove"
    assert root.find("form", action=action) is not None
    response = client.post(action)
    assert response.status_code == 302
    assert "Removed student from Reading Syria" in flash_text(client)
    assert role_of(db, classroom.id, student_in.id) is None

    auth.login("student")
    assert client.get(f"/classes/{classroom.id}").status_code == 404
    assert page(client.get("/classes")).find("ul", class_="class-list") is None


def test_an_instructor_cannot_remove_themselves(client, db, auth, classroom):
    teacher = auth.login("teacher")
    response = client.post(f"/classes/{classroom.id}/members/{teacher.id}/remove")
    assert response.status_code == 400
    assert "cannot remove yourself" in page(response).find("main").text()
    assert role_of(db, classroom.id, teacher.id) == Role.INSTRUCTOR.value


def test_removing_someone_who_is_not_a_member_is_a_400(client, auth, classroom):
    auth.login("teacher")
    stranger = auth.create("stranger")
    response = client.post(f"/classes/{classroom.id}/members/{stranger.id}/remove")
    assert response.status_code == 400
    assert "not a member of this class" in page(response).find("main").text()


# --- assigned articles ---------------------------------------------------------------------


def document(db):
    from webapp.models import Document

    return db.session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))


def db_document_id(db) -> int:
    return document(db).id


def test_assign_with_a_due_date(client, db, auth, classroom, student_in):
    auth.login("teacher")
    root = page(client.get(f"/classes/{classroom.id}"))
    select = root.find("select", name="document_id")
    assert str(db_document_id(db)) in [o.get("value") for o in select.find_all("option")]
    assert root.find("input", name="due").get("type") == "date"

    response = client.post(
        f"/classes/{classroom.id}/assignments",
        data={"document_id": str(db_document_id(db)), "due": "2026-12-01"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/classes/{classroom.id}#assignments"
    assignment = db.session.scalar(sa.select(Assignment))
    assert assignment.due_at == datetime(2026, 12, 1, 23, 59)

    for who in ("teacher", "student"):
        auth.login(who)
        root = page(client.get(f"/classes/{classroom.id}"))
        item = root.find("ul", class_="assignment-list").find("li")
        link = item.find("a", href=f"/articles/{SEED_SLUG}?context=class-{classroom.id}")
        assert link is not None and "Assad" in link.text()
        due = item.find("time")
        # The UTC instant, for the browser to write in its own zone; the class's zone (UTC)
        # in the text until then.
        assert due.get("datetime") == "2026-12-01T23:59:00Z"
        assert "Tue 1 Dec" in due.text() and due.text().endswith("23:59 UTC")

    # The link opens the reader in the class's context.
    assert client.get(f"/articles/{SEED_SLUG}?context=class-{classroom.id}").status_code == 200


def test_assign_without_a_due_date_and_change_it_later(client, db, auth, classroom):
    auth.login("teacher")
    url = f"/classes/{classroom.id}/assignments"
    assert client.post(url, data={"document_id": str(db_document_id(db))}).status_code == 302
    root = page(client.get(f"/classes/{classroom.id}"))
    assert "no due date" in root.find("ul", class_="assignment-list").text()

    data = {"document_id": str(db_document_id(db)), "due": "2027-01-15T09:30"}
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assignments = db.session.scalars(sa.select(Assignment)).all()
    assert [a.due_at for a in assignments] == [datetime(2027, 1, 15, 9, 30)]
    root = page(client.get(f"/classes/{classroom.id}"))
    listed = root.find("ul", class_="assignment-list").text()
    assert "Fri 15 Jan" in listed and "09:30 UTC" in listed


@pytest.mark.parametrize("due", ["2026-13-45", "next friday", "2026-02-30", "2026-12-01T"])
def test_a_bad_due_date_is_a_clear_400(client, db, auth, classroom, due):
    auth.login("teacher")
    response = client.post(
        f"/classes/{classroom.id}/assignments",
        data={"document_id": str(db_document_id(db)), "due": due},
    )
    assert response.status_code == 400
    root = page(response)
    assert "A due date looks like 2026-12-01" in root.by_id("assign-error").text()
    # The form keeps what was chosen.
    select = root.find("select", name="document_id")
    assert select.find("option", selected=True).get("value") == str(db_document_id(db))
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


@pytest.mark.parametrize("document_id", ["", "abc", "999999", "9" * 40])
def test_assigning_no_article_is_a_clear_400(client, db, auth, classroom, document_id):
    auth.login("teacher")
    response = client.post(
        f"/classes/{classroom.id}/assignments", data={"document_id": document_id}
    )
    assert response.status_code == 400
    assert "Choose an article" in page(response).by_id("assign-error").text()


def test_unassign(client, db, auth, classroom):
    auth.login("teacher")
    client.post(
        f"/classes/{classroom.id}/assignments", data={"document_id": str(db_document_id(db))}
    )
    assignment = db.session.scalar(sa.select(Assignment))
    action = f"/classes/{classroom.id}/assignments/{assignment.id}/delete"
    root = page(client.get(f"/classes/{classroom.id}"))
    assert root.find("form", action=action) is not None

    response = client.post(action)
    assert response.status_code == 302
    assert "no longer assigned" in flash_text(client)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    root = page(client.get(f"/classes/{classroom.id}"))
    assert root.find("ul", class_="assignment-list") is None
    assert "No articles assigned yet" in root.find("main").text()

    # Again, or another class's assignment: not found.
    assert client.post(action).status_code == 404


def test_an_assignment_of_another_class_cannot_be_removed_through_mine(client, db, auth):
    auth.login("teacher")
    mine = create_class(client, "Mine")
    auth.login("other")
    theirs = create_class(client, "Theirs")
    client.post(f"/classes/{theirs}/assignments", data={"document_id": str(db_document_id(db))})
    assignment = db.session.scalar(sa.select(Assignment))
    auth.login("teacher")
    response = client.post(f"/classes/{mine}/assignments/{assignment.id}/delete")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id) is not None


# --- the service ---------------------------------------------------------------------------


def test_service_codes_are_unambiguous_and_normalised():
    code = service.new_join_code()
    assert len(code) == service.CODE_LENGTH
    assert not set(code) & set("01OIL")
    assert service.normalize_code(" ab-cd 23\t") == "ABCD23"
    assert service.normalize_code("") == ""


def test_service_parse_due():
    assert service.parse_due("") is None
    assert service.parse_due(None) is None
    assert service.parse_due("2026-12-01") == datetime(2026, 12, 1, 23, 59)
    assert service.parse_due("2026-12-01T08:00") == datetime(2026, 12, 1, 8, 0)
    assert service.parse_due("2026-12-01T08:00+02:00") == datetime(2026, 12, 1, 6, 0)
    with pytest.raises(service.ClassError, match="A due date looks like"):
        service.parse_due("tomorrow")


def test_service_create_join_remove_and_summaries(db, auth):
    teacher = auth.create("teacher")
    student = auth.create("student")
    classroom = service.create_class(db.session, teacher, "Seminar")
    membership, new = service.join_class(db.session, student, classroom.join_code.lower())
    assert new and membership.role == Role.STUDENT.value
    assert service.join_class(db.session, student, classroom.join_code)[1] is False
    assert [m.user.username for m in service.members(db.session, classroom)] == [
        "teacher",
        "student",
    ]
    summaries = service.summaries_of(db.session, student)
    assert [(s.classroom.name, s.member_count, s.membership.role) for s in summaries] == [
        ("Seminar", 2, "student")
    ]
    with pytest.raises(service.ClassError, match="cannot remove yourself"):
        service.remove_member(db.session, classroom, teacher.id, teacher)
    removed = service.remove_member(db.session, classroom, student.id, teacher)
    assert removed.user_id == student.id
    assert service.summaries_of(db.session, student) == []
    with pytest.raises(service.ClassError, match="not a member"):
        service.remove_member(db.session, classroom, student.id, teacher)
    db.session.rollback()
