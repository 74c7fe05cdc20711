"""What each highlight colour means: the defaults, a class's own labels set by its
instructors on the class page (students and outsiders may not), bad labels refused with a
clear 400, and the labels shown in the reader's toolbar, legend and cards."""

from __future__ import annotations

import pytest

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import create, page, select
from tests.functional.test_classes import classroom_of, create_class
from webapp.models import Classroom
from webapp.services.annotations import COLOURS
from webapp.services.classes import assign

CUSTOM = {
    "purpose-yellow": "Main claim",
    "purpose-green": "Source",
    "purpose-blue": "Ask in class",
    "purpose-pink": "Counterpoint",
    "purpose-purple": "New word",
}


@pytest.fixture
def classroom(client, db, auth) -> Classroom:
    """A class taught by "teacher"; the client ends up logged out."""
    auth.login("teacher")
    classroom_id = create_class(client)
    auth.logout()
    return classroom_of(db, classroom_id)


def post_purposes(client, classroom_id: int, data: dict, **kwargs):
    return client.post(f"/classes/{classroom_id}/purposes", data=data, **kwargs)


# --- the class page's form -----------------------------------------------------------------


def test_instructor_names_the_purposes_and_students_see_them(client, db, auth, classroom):
    auth.login("teacher")
    root = page(client.get(f"/classes/{classroom.id}"))
    form = root.find("form", **{"class": "stack-form purposes-form"})
    assert form is not None
    assert form.find("input", name="purpose-blue").get("value") == "Question"

    response = post_purposes(client, classroom.id, CUSTOM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#purposes")
    stored = classroom_of(db, classroom.id).colour_purposes
    assert stored == {c: CUSTOM[f"purpose-{c}"] for c in COLOURS}

    # Back to one default: only what differs is kept.
    post_purposes(client, classroom.id, {**CUSTOM, "purpose-yellow": ""})
    assert "yellow" not in classroom_of(db, classroom.id).colour_purposes
    post_purposes(client, classroom.id, {"reset": "1"})
    assert classroom_of(db, classroom.id).colour_purposes is None
    post_purposes(client, classroom.id, CUSTOM)
    auth.logout()

    auth.login("student")
    client.post("/classes/join", data={"code": classroom.join_code})
    root = page(client.get(f"/classes/{classroom.id}"))
    assert root.find("form", **{"class": "stack-form purposes-form"}) is None
    legend = root.find("ul", **{"class": "legend"})
    assert "Ask in class" in legend.text() and "Blue" in legend.text()


def test_students_and_outsiders_may_not_change_the_purposes(client, db, auth, classroom):
    auth.login("student")
    client.post("/classes/join", data={"code": classroom.join_code})
    assert post_purposes(client, classroom.id, CUSTOM).status_code == 403
    auth.logout()
    auth.login("outsider")
    assert post_purposes(client, classroom.id, CUSTOM).status_code == 404
    auth.logout()
    response = post_purposes(client, classroom.id, CUSTOM)
    assert response.status_code in (302, 401)
    assert "/login" in response.headers.get("Location", "/login")
    assert classroom_of(db, classroom.id).colour_purposes is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("purpose-yellow", "A" * 25, "the limit is 24"),
        ("purpose-blue", "main CLAIM", "give each colour its own purpose"),
    ],
)
def test_bad_labels_are_a_clear_400(client, db, auth, classroom, field, value, message):
    auth.login("teacher")
    response = post_purposes(client, classroom.id, {**CUSTOM, field: value})
    assert response.status_code == 400
    root = page(response)
    assert message in root.by_id("purposes-error").text()
    # What was typed is shown again, to be fixed.
    assert root.find("input", name=field).get("value") == value
    assert classroom_of(db, classroom.id).colour_purposes is None
    # htmx asks get the same answer in the page's block.
    assert (
        post_purposes(client, classroom.id, {**CUSTOM, field: value}, headers=HTMX).status_code
        == 400
    )


def test_markup_in_a_label_is_text(client, db, auth, classroom):
    auth.login("teacher")
    response = post_purposes(client, classroom.id, {**CUSTOM, "purpose-pink": "<b>No</b> way"})
    assert response.status_code == 302
    html = client.get(f"/classes/{classroom.id}").get_data(as_text=True)
    assert "<b>No</b>" not in html
    assert "&lt;b&gt;No&lt;/b&gt; way" in html


def test_the_reader_shows_the_class_labels(client, db, auth, classroom, seed_document):
    auth.login("teacher")
    assign(db.session, classroom_of(db, classroom.id), seed_document, None)
    db.session.commit()
    post_purposes(client, classroom.id, CUSTOM)
    context = f"class-{classroom.id}"
    version = seed_document.current_version
    response = create(
        client,
        {
            **select(version.text, "Hmeimim"),
            "colour": "blue",
            "body": "Why?",
            "context": context,
            "audience": context,
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    root = page(client.get(f"/articles/{SEED_SLUG}?context={context}"))
    toolbar = root.by_id("annotate-form")
    names = [i.get("aria-label") for i in toolbar.find_all("input", name="colour")]
    assert names == [
        "Yellow: Main claim",
        "Green: Source",
        "Blue: Ask in class",
        "Pink: Counterpoint",
        "Purple: New word",
    ]
    legend = root.find("ul", **{"class": "legend"})
    assert "New word" in legend.text()
    card = root.find("article", **{"class": "card card-blue"})
    assert "Ask in class" in card.find("span", **{"class": "purpose hl-blue"}).text()

    # One's private notes keep the defaults.
    root = page(client.get(f"/articles/{SEED_SLUG}?context=private"))
    names = [
        i.get("aria-label") for i in root.by_id("annotate-form").find_all("input", name="colour")
    ]
    assert names[2] == "Blue: Question"
