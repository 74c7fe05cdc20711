"""A class's life: promoting members and stepping back (a class keeps an instructor),
leaving with a confirmation (notes stay, attributed), renaming, archiving (read-only on
every write path, listed apart, an "Archived" notice) and restoring."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.class_world import build_class_world
from tests.functional.helpers import page, select
from webapp.models import Annotation, Assignment, ClassGroup, Flag, Membership, Reply, Vote
from webapp.services.class_roles import LAST_INSTRUCTOR
from webapp.visibility import ARCHIVED


@pytest.fixture
def world(db, client, seed_document):
    return build_class_world(db, client)


def text_of(response) -> str:
    return " ".join(page(response).text().split())


# --- roles ------------------------------------------------------------------------------------


def test_an_instructor_promotes_a_student_who_then_teaches(world):
    client = world.sign_in("teacher")
    ann = world.users["ann"]
    response = client.post(f"{world.url}/members/{ann.id}/role", data={"role": "instructor"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#member-{ann.id}")
    assert world.role("ann") == "instructor"
    assert "ann is now an instructor in History 10." in text_of(client.get(world.url))

    client = world.sign_in("ann")  # a co-instructor: the instructors' pages open
    assert client.get(f"{world.url}/flags").status_code == 200
    assert client.get(f"{world.url}/groups").status_code == 200
    root = page(client.get(world.url))
    assert root.by_id("invite") is not None and root.by_id("settings") is not None


def test_the_last_instructor_cannot_step_back_or_leave(world):
    client = world.sign_in("teacher")
    teacher = world.users["teacher"]
    response = client.post(f"{world.url}/members/{teacher.id}/role", data={"role": "student"})
    assert response.status_code == 409
    assert LAST_INSTRUCTOR in text_of(response)
    assert page(response).by_id("members-error").get("role") == "alert"
    assert world.role("teacher") == "instructor"
    response = client.post(f"{world.url}/leave")
    assert response.status_code == 409
    assert LAST_INSTRUCTOR in text_of(response)
    assert world.role("teacher") == "instructor"
    # htmx gets the same message in the flash region
    response = client.post(
        f"{world.url}/members/{teacher.id}/role", data={"role": "student"}, headers=HTMX
    )
    assert response.status_code == 409 and LAST_INSTRUCTOR in response.get_data(as_text=True)


def test_an_instructor_steps_back_once_another_teaches(world):
    client = world.sign_in("teacher")
    ann, teacher = world.users["ann"], world.users["teacher"]
    client.post(f"{world.url}/members/{ann.id}/role", data={"role": "instructor"})
    response = client.post(f"{world.url}/members/{teacher.id}/role", data={"role": "student"})
    assert response.status_code == 302
    assert world.role("teacher") == "student"
    assert "You are now a student in History 10." in text_of(client.get(world.url))
    assert client.get(f"{world.url}/flags").status_code == 403  # a student now
    # and ann, now the only instructor, cannot step back
    client = world.sign_in("ann")
    response = client.post(f"{world.url}/members/{ann.id}/role", data={"role": "student"})
    assert response.status_code == 409


def test_roles_are_for_instructors_of_the_class(world):
    ben = world.users["ben"]
    url = f"{world.url}/members/{ben.id}/role"
    world.sign_in(None)
    assert world.client.post(url, data={"role": "instructor"}).status_code == 401
    response = world.sign_in("outsider").post(url, data={"role": "instructor"})
    assert response.status_code == 404
    response = world.sign_in("ann").post(url, data={"role": "instructor"})
    assert response.status_code == 403
    assert world.role("ben") == "student"
    client = world.sign_in("teacher")
    response = client.post(url, data={"role": "owner"})
    assert response.status_code == 400 and "instructor or student" in text_of(response)
    outsider = world.users["outsider"]
    response = client.post(f"{world.url}/members/{outsider.id}/role", data={"role": "student"})
    assert response.status_code == 400 and "not a member" in text_of(response)
    assert client.post(f"/classes/987654321/members/{ben.id}/role").status_code == 404


def test_promoting_takes_a_student_out_of_their_group(world):
    client = world.sign_in("teacher")
    client.post(f"{world.url}/groups/random", data={"size": "2"})
    ann = world.users["ann"]
    client.post(f"{world.url}/members/{ann.id}/role", data={"role": "instructor"})
    groups = client.get(f"{world.url}/groups").get_data(as_text=True)
    assert f'id="student-{ann.id}"' not in groups


# --- leaving ----------------------------------------------------------------------------------


def test_a_student_leaves_after_confirming_and_their_notes_stay(world):
    client = world.sign_in("ann")
    class_page = page(client.get(world.url))
    link = class_page.find("a", href=f"{world.url}/leave")
    assert link is not None
    confirm = client.get(f"{world.url}/leave")
    assert confirm.status_code == 200
    root = page(confirm)
    form = root.find("form", action=f"{world.url}/leave")
    assert form is not None and form.find("button").text() == "Leave the class"
    assert "stay there, under your name" in text_of(confirm)
    assert world.role("ann") == "student"  # the page changed nothing

    response = client.post(f"{world.url}/leave")
    assert response.status_code == 302 and response.headers["Location"] == "/classes"
    assert world.role("ann") is None
    assert "You left History 10." in text_of(client.get("/classes"))
    assert client.get(world.url).status_code == 404
    assert world.note("ann").deleted_at is None

    # the class still reads ann's note, under her name
    response = world.sign_in("ben").get(f"/articles/{SEED_SLUG}?context=class-{world.classroom_id}")
    card = page(response).by_id(f"annotation-{world.notes['ann']}")
    assert card is not None and card.find("span", class_="author").text() == "ann"


def test_leaving_is_for_members(world):
    world.sign_in(None)
    assert world.client.post(f"{world.url}/leave").status_code == 401
    client = world.sign_in("outsider")
    assert client.get(f"{world.url}/leave").status_code == 404
    assert client.post(f"{world.url}/leave").status_code == 404
    assert client.get("/classes/987654321/leave").status_code == 404


# --- renaming ---------------------------------------------------------------------------------


def test_an_instructor_renames_the_class(world):
    client = world.sign_in("teacher")
    response = client.post(f"{world.url}/rename", data={"name": "  History   11 "})
    assert response.status_code == 302
    assert world.classroom.name == "History 11"
    response = client.post(f"{world.url}/rename", data={"name": "   "})
    assert response.status_code == 400
    field = page(response).by_id("class-rename")
    assert field.get("aria-invalid") == "true"
    assert field.get("aria-describedby") == "rename-error"
    assert page(response).by_id("rename-error").text() == "Give the class a name."
    response = client.post(f"{world.url}/rename", data={"name": "x" * 121})
    assert response.status_code == 400
    assert world.classroom.name == "History 11"
    assert (
        world.sign_in("ann").post(f"{world.url}/rename", data={"name": "Mine"}).status_code == 403
    )
    response = world.sign_in("outsider").post(f"{world.url}/rename", data={"name": "Mine"})
    assert response.status_code == 404
    assert world.classroom.name == "History 11"


# --- archiving --------------------------------------------------------------------------------


def archive(world):
    response = world.sign_in("teacher").post(f"{world.url}/archive")
    assert response.status_code == 302
    assert world.classroom.archived_at is not None


def test_archived_classes_are_listed_apart_with_a_notice(world):
    archive(world)
    client = world.sign_in("ann")
    root = page(client.get("/classes"))
    archived = root.find("section", class_="archived-classes")
    assert archived is not None and "History 10" in archived.text()
    inside = list(archived.iter())
    assert all(ul in inside for ul in root.find_all("ul", class_="class-list"))
    assert "None of your classes is active." in root.text()
    assert "Archived" in root.by_id("archived-title").text()
    notice = page(client.get(world.url)).find("p", class_="notice archived-notice")
    assert notice is not None and "read-only" in notice.text()
    reader = page(client.get(f"/articles/{SEED_SLUG}?context=class-{world.classroom_id}"))
    notice = reader.find("p", class_="notice archived-notice")
    assert notice is not None and "Archived" in notice.text()
    # the notes are still read, without buttons to change them
    card = reader.by_id(f"annotation-{world.notes['ann']}")
    assert card is not None and "Note by ANN" in card.text()
    assert card.find("form") is None and card.find("details") is None
    # and the audience picker offers no archived class
    audience = reader.by_id("audience")
    assert f"class-{world.classroom_id}" not in [
        o.get("value") for o in audience.find_all("option")
    ]


def counts(world) -> tuple:
    session = world.db.session
    session.expire_all()
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Annotation, Reply, Vote, Flag, Membership, Assignment, ClassGroup)
    ) + tuple(
        (a.body_markdown, a.hidden, a.pinned, a.deleted_at)
        for a in session.scalars(sa.select(Annotation).order_by(Annotation.id))
    )


def archived_writes(world) -> list[tuple[str, str, dict]]:
    """(who, url, form) for every write in the class."""
    ann_note = f"/annotations/{world.notes['ann']}"
    ben_note = f"/annotations/{world.notes['ben']}"
    ben_reply = world.replies["ben"]
    text = world.db.session.get(Annotation, world.notes["ann"]).document.current_version.text
    new_note = {**select(text, "Russian forces"), "body": "New", "audience": ""}
    new_note["audience"] = f"class-{world.classroom_id}"
    return [
        ("ann", f"/articles/{SEED_SLUG}/annotations", new_note),
        ("ann", f"{ann_note}/edit", {"body": "Changed"}),
        ("ann", f"{ann_note}/delete", {}),
        ("ann", f"{ben_note}/replies", {"body": "A reply"}),
        ("ann", f"{ben_note}/vote", {}),
        ("ann", f"{ben_note}/flag", {"reason": "rude"}),
        ("ann", f"{ann_note}/flag", {"reply_id": str(ben_reply), "reason": "rude"}),
        ("ben", f"/replies/{ben_reply}/edit", {"body": "Changed"}),
        ("ben", f"/replies/{ben_reply}/delete", {}),
        ("teacher", f"{ann_note}/pin", {"pinned": "1"}),
        ("teacher", f"{ann_note}/hide", {"hidden": "1"}),
        ("teacher", f"/replies/{ben_reply}/hide", {"hidden": "1"}),
        ("teacher", f"{ann_note}/answered", {"answered": "1"}),
        ("teacher", f"{world.url}/assignments", {"document_id": "1"}),
        ("teacher", f"{world.url}/assignments/{world.assignment_id}/delete", {}),
        ("teacher", f"{world.url}/assignments/{world.assignment_id}/mode", {"mode": "groups"}),
        ("teacher", f"{world.url}/rotate", {}),
        ("teacher", f"{world.url}/rename", {"name": "New name"}),
        ("teacher", f"{world.url}/members/{world.users['ann'].id}/role", {"role": "instructor"}),
        ("teacher", f"{world.url}/members/{world.users['ann'].id}/remove", {}),
        ("teacher", f"{world.url}/groups", {"name": "Blue"}),
        ("teacher", f"{world.url}/groups/random", {"size": "2"}),
        ("teacher", f"{world.url}/flags/review", {"annotation_id": "1", "outcome": "kept"}),
        ("teacher", f"{world.url}/archive", {}),
    ]


def test_every_write_in_an_archived_class_is_refused(world):
    # a flag to review, then the class is archived
    world.sign_in("ann").post(f"/annotations/{world.notes['ben']}/flag", data={"reason": "x"})
    archive(world)
    before = counts(world)
    for who, url, form in archived_writes(world):
        client = world.sign_in(who)
        for headers in ({}, HTMX):
            response = client.post(url, data=form, headers=headers)
            assert response.status_code == 403, (who, url, response.status_code)
            assert ARCHIVED in response.get_data(as_text=True), (who, url)
        assert counts(world) == before, (who, url)
    # joining by code or link: no new members
    code = world.classroom.join_code
    client = world.sign_in("outsider")
    response = client.post("/classes/join", data={"code": code})
    assert response.status_code == 403 and "archived" in text_of(response)
    assert "archived" in text_of(client.get(f"/join/{code}"))
    assert counts(world) == before


def test_private_notes_are_written_beside_an_archived_class(world):
    archive(world)
    client = world.sign_in("ann")
    text = world.note("ann").document.current_version.text
    form = {**select(text, "Russian forces"), "body": "Mine", "audience": "private"}
    response = client.post(f"/articles/{SEED_SLUG}/annotations", data=form, headers=HTMX)
    assert response.status_code == 200


def test_archiving_and_restoring_is_for_instructors(world):
    assert world.sign_in("ann").post(f"{world.url}/archive").status_code == 403
    assert world.sign_in("outsider").post(f"{world.url}/archive").status_code == 404
    assert world.classroom.archived_at is None
    response = world.sign_in("teacher").post(f"{world.url}/restore")
    assert response.status_code == 409 and "not archived" in text_of(response)
    archive(world)
    assert world.sign_in("ann").post(f"{world.url}/restore").status_code == 403
    client = world.sign_in("teacher")
    root = page(client.get(world.url))
    assert root.find("form", action=f"{world.url}/restore") is not None
    assert root.find("form", action=f"{world.url}/rename") is None
    assert client.post(f"{world.url}/restore").status_code == 302
    assert world.classroom.archived_at is None
    # writable again
    response = world.sign_in("ann").post(
        f"/annotations/{world.notes['ben']}/replies", data={"body": "Back"}, headers=HTMX
    )
    assert response.status_code == 200


def test_a_bare_highlight_in_an_archived_class_view_is_saved_private(world):
    archive(world)
    client = world.sign_in("ann")
    text = world.note("ann").document.current_version.text
    form = {**select(text, "Russian forces"), "context": f"class-{world.classroom_id}"}
    response = client.post(f"/articles/{SEED_SLUG}/annotations", data=form, headers=HTMX)
    assert response.status_code == 200
    world.db.session.expire_all()
    latest = world.db.session.scalar(sa.select(Annotation).order_by(Annotation.id.desc()))
    assert latest.classroom_id is None and latest.author_id == world.users["ann"].id


def test_the_roles_service_keeps_an_instructor(world, db):
    """The service alone (no HTTP): the checks hold whoever calls it."""
    from webapp.services import class_roles
    from webapp.services.classes import ClassError

    classroom = world.classroom
    teacher, ann = world.users["teacher"], world.users["ann"]
    with pytest.raises(ClassError, match="at least one instructor"):
        class_roles.set_role(db.session, classroom, teacher.id, "student")
    with pytest.raises(ClassError, match="at least one instructor"):
        class_roles.leave(db.session, classroom, teacher)
    with pytest.raises(ClassError, match="instructor or student"):
        class_roles.set_role(db.session, classroom, ann.id, "admin")
    class_roles.set_role(db.session, classroom, ann.id, "instructor")
    class_roles.leave(db.session, classroom, teacher)  # ann teaches now
    db.session.commit()
    assert world.role("teacher") is None and world.role("ann") == "instructor"
    with pytest.raises(ClassError, match="not a member"):
        class_roles.set_role(db.session, classroom, teacher.id, "instructor")
    assert class_roles.instructor_count(db.session, classroom) == 1
