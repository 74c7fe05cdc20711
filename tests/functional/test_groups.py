"""Groups: an instructor splits a class into groups by hand or at random; an article read
"in groups" shows a student only their group's notes and the instructors', on every read
path (page, cards, search, one card, live changes, the JSON-LD API, the exports)."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.class_world import build_class_world
from tests.functional.helpers import page
from webapp.models import ClassGroup, GroupMember
from webapp.services import groups as service


@pytest.fixture
def world(db, client, seed_document):
    return build_class_world(db, client)


def make_groups(world) -> dict[str, int]:
    """Group A: ann and ben; group B: cal; dee in none. The article is read in groups."""
    client = world.sign_in("teacher")
    ids = {}
    for name in ("A", "B"):
        assert client.post(f"{world.url}/groups", data={"name": name}).status_code == 302
        ids[name] = world.db.session.scalar(sa.select(ClassGroup.id).where(ClassGroup.name == name))
    for student, group in (("ann", "A"), ("ben", "A"), ("cal", "B")):
        response = client.post(
            f"{world.url}/groups/place",
            data={"user_id": world.users[student].id, "group_id": ids[group]},
        )
        assert response.status_code == 302
    response = client.post(
        f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "groups"}
    )
    assert response.status_code == 302
    return ids


# Who reads whose notes once the article is read in groups.
READS = {
    "teacher": {"teacher", "ann", "ben", "cal"},
    "ann": {"teacher", "ann", "ben"},
    "ben": {"teacher", "ann", "ben"},
    "cal": {"teacher", "cal"},
    "dee": {"teacher"},
}


def texts(body: str) -> set[str]:
    return {name for name in ("teacher", "ann", "ben", "cal") if f"Note by {name.upper()}" in body}


def read_paths(world, who: str) -> dict[str, str]:
    """Every read path's answer for `who`, in the class's context."""
    client = world.sign_in(who)
    context = f"class-{world.classroom_id}"
    article = f"/articles/{SEED_SLUG}"
    answers = {
        "page": client.get(f"{article}?context={context}"),
        "default page": client.get(article),
        "cards": client.get(f"{article}/cards?context={context}", headers=HTMX),
        "search": client.get(f"{article}/cards?context={context}&q=note+by", headers=HTMX),
        "live": client.get(f"{article}/changes?cursor=0&context={context}", headers=HTMX),
        "api": client.get(f"/api{article}/annotations"),
        "markdown": client.get(f"{article}/notes.md?context={context}"),
        "printable": client.get(f"{article}/annotated?context={context}"),
    }
    bodies = {}
    for path, response in answers.items():
        assert response.status_code == 200, (who, path, response.status_code)
        bodies[path] = response.get_data(as_text=True)
    return bodies


@pytest.mark.parametrize("who", sorted(READS))
def test_a_student_reads_only_their_group_and_the_instructors(world, who):
    make_groups(world)
    for path, body in read_paths(world, who).items():
        assert texts(body) == READS[who], (who, path)
    client = world.sign_in(who)
    for author, note_id in world.notes.items():
        card = client.get(f"/annotations/{note_id}", headers=HTMX)
        api = client.get(f"/api/annotations/{note_id}")
        expected = 200 if author in READS[who] else 404
        assert (card.status_code, api.status_code) == (expected, expected), (who, author)
    # ben's reply on ann's note follows the note
    reply = client.get(f"/api/replies/{world.replies['ben']}")
    assert reply.status_code == (200 if "ann" in READS[who] else 404)


def test_writes_follow_what_one_reads(world):
    make_groups(world)
    client = world.sign_in("cal")
    ann_note = f"/annotations/{world.notes['ann']}"
    for url, form in (
        (f"{ann_note}/replies", {"body": "Hi"}),
        (f"{ann_note}/vote", {}),
        (f"{ann_note}/flag", {"reason": "x"}),
    ):
        assert client.post(url, data=form, headers=HTMX).status_code == 404, url
    teacher_note = f"/annotations/{world.notes['teacher']}"
    assert client.post(f"{teacher_note}/vote", headers=HTMX).status_code == 200


def test_the_whole_class_reads_again_when_the_mode_is_set_back(world):
    make_groups(world)
    client = world.sign_in("teacher")
    class_page = page(client.get(world.url))
    assert "Read in groups" in class_page.by_id(f"assignment-{world.assignment_id}").text()
    response = client.post(
        f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "class"}
    )
    assert response.status_code == 302
    for who in ("cal", "dee"):
        assert texts(read_paths(world, who)["page"]) == {"teacher", "ann", "ben", "cal"}


def test_another_class_is_not_narrowed_by_these_groups(world, db):
    """ann and cal are in different groups here; in a second class reading the same
    article as a whole class, they read each other."""
    from webapp.services.classes import assign, create_class, join_class

    make_groups(world)
    other = create_class(db.session, world.users["teacher"], "Club")
    for name in ("ann", "cal"):
        join_class(db.session, world.users[name], other.join_code)
    assign(db.session, other, world.note("ann").document, None)
    db.session.commit()
    world.classroom_id, first = other.id, world.classroom_id
    world.add_note("ann", "Russian forces", "Note by ANN")
    client = world.sign_in("cal")
    body = client.get(f"/articles/{SEED_SLUG}?context=class-{other.id}").get_data(as_text=True)
    assert "Note by ANN" in body
    body = client.get(f"/articles/{SEED_SLUG}?context=class-{first}").get_data(as_text=True)
    assert "Note by ANN" not in body


def test_groups_by_hand(world):
    ids = make_groups(world)
    client = world.sign_in("teacher")
    root = page(client.get(f"{world.url}/groups"))
    assert "ann" in root.by_id(f"group-{ids['A']}").text()
    assert "dee: no group" in " ".join(
        root.by_id(f"student-{world.users['dee'].id}").text().split()
    )
    select = root.by_id(f"place-{world.users['dee'].id}")
    assert root.find("label", **{"for": select.id}) is not None
    # move cal to A, then out of any group
    cal = world.users["cal"].id
    client.post(f"{world.url}/groups/place", data={"user_id": cal, "group_id": ids["A"]})
    members = world.db.session.scalars(
        sa.select(GroupMember.group_id).where(GroupMember.user_id == cal)
    ).all()
    assert members == [ids["A"]]
    client.post(f"{world.url}/groups/place", data={"user_id": cal, "group_id": ""})
    world.db.session.expire_all()
    assert (
        world.db.session.scalar(sa.select(GroupMember.id).where(GroupMember.user_id == cal)) is None
    )
    # rename, refuse an empty name with the message tied to the field, delete
    response = client.post(f"{world.url}/groups/{ids['B']}/rename", data={"name": "Blue"})
    assert response.status_code == 302
    response = client.post(f"{world.url}/groups/{ids['B']}/rename", data={"name": " "})
    assert response.status_code == 400
    field = page(response).by_id(f"group-name-{ids['B']}")
    assert field.get("aria-invalid") == "true"
    error = page(response).by_id(field.get("aria-describedby"))
    assert error.text() == "Give the group a name."
    response = client.post(f"{world.url}/groups", data={"name": ""})
    assert response.status_code == 400
    assert page(response).by_id("group-create-name").get("aria-describedby") == "group-create-error"
    assert client.post(f"{world.url}/groups/{ids['B']}/delete").status_code == 302
    world.db.session.expire_all()
    assert world.db.session.get(ClassGroup, ids["B"]) is None


def test_placing_refuses_what_is_not_a_student_or_a_group_here(world, db):
    ids = make_groups(world)
    client = world.sign_in("teacher")
    url = f"{world.url}/groups/place"
    cases = [
        ({"user_id": world.users["teacher"].id, "group_id": ids["A"]}, 400, "Only students"),
        ({"user_id": world.users["outsider"].id, "group_id": ids["A"]}, 400, "not a member"),
        ({"user_id": "", "group_id": ids["A"]}, 400, "Choose a student"),
        ({"user_id": world.users["dee"].id, "group_id": "987654321"}, 404, "does not exist"),
        ({"user_id": world.users["dee"].id, "group_id": "abc"}, 404, "does not exist"),
    ]
    for form, status, words in cases:
        response = client.post(url, data=form)
        assert response.status_code == status, form
        assert words in response.get_data(as_text=True), form
    from webapp.services.classes import create_class

    other = create_class(db.session, world.users["teacher"], "Club")
    db.session.commit()
    response = client.post(f"/classes/{other.id}/groups/{ids['A']}/delete")
    assert response.status_code == 404
    response = client.post(
        f"/classes/{other.id}/assignments/{world.assignment_id}/mode", data={"mode": "class"}
    )
    assert response.status_code == 404
    response = client.post(
        f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "pairs"}
    )
    assert response.status_code == 400


def test_random_groups_place_every_student_once(world):
    client = world.sign_in("teacher")
    response = client.post(f"{world.url}/groups/random", data={"size": "3"})
    assert response.status_code == 302
    world.db.session.expire_all()
    sizes = sorted(
        len(group.members)
        for group in world.db.session.scalars(
            sa.select(ClassGroup).where(ClassGroup.classroom_id == world.classroom_id)
        )
    )
    assert sizes == [2, 2]  # four students, at most three a group
    placed = world.db.session.scalars(sa.select(GroupMember.user_id)).all()
    students = {world.users[n].id for n in ("ann", "ben", "cal", "dee")}
    assert sorted(placed) == sorted(students)
    for size, words in (("1", "between 2 and 1000"), ("abc", "whole number"), ("", "whole number")):
        response = client.post(f"{world.url}/groups/random", data={"size": size})
        assert response.status_code == 400
        assert words in response.get_data(as_text=True)
        field = page(response).by_id("group-size")
        assert "group-size-error" in field.get("aria-describedby")
    assert sorted(world.db.session.scalars(sa.select(GroupMember.user_id)).all()) == sorted(
        students
    )


def test_random_split_sizes(db, client, seed_document):
    """Unit: sizes differ by one at most, none above the size asked."""
    world = build_class_world(db, client)
    classroom = world.classroom
    made = service.split_at_random(db.session, classroom, 2, random.Random(4))
    assert [len(g.members) for g in made] == [2, 2]
    made = service.split_at_random(db.session, classroom, 1000, random.Random(4))
    assert [len(g.members) for g in made] == [4]
    with pytest.raises(service.ClassError):
        service.split_at_random(db.session, classroom, 1)


def test_groups_are_for_instructors(world):
    for who, status in (("outsider", 404), ("ann", 403)):
        client = world.sign_in(who)
        assert client.get(f"{world.url}/groups").status_code == status
        assert client.post(f"{world.url}/groups", data={"name": "X"}).status_code == status
        assert client.post(f"{world.url}/groups/random", data={"size": "2"}).status_code == status
        response = client.post(
            f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "groups"}
        )
        assert response.status_code == status
    world.sign_in(None)
    assert world.client.post(f"{world.url}/groups", data={"name": "X"}).status_code == 401
    assert world.db.session.scalar(sa.select(sa.func.count(ClassGroup.id))) == 0


def test_leaving_or_being_removed_takes_a_student_out_of_their_group(world):
    ids = make_groups(world)
    client = world.sign_in("teacher")
    ben = world.users["ben"]
    assert client.post(f"{world.url}/members/{ben.id}/remove").status_code == 302
    assert world.sign_in("ann").post(f"{world.url}/leave").status_code == 302
    world.db.session.expire_all()
    assert world.db.session.scalars(sa.select(GroupMember.user_id)).all() == [world.users["cal"].id]
    root = page(world.sign_in("teacher").get(f"{world.url}/groups"))
    assert "ben" not in root.by_id(f"group-{ids['A']}").text()
    assert root.by_id(f"student-{ben.id}") is None
