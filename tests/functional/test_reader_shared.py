"""The students of a class share the class's view of an article (webapp/reader/shared.py):
every write one of them (or an instructor) makes shows on the others' pages at once, and
nothing of one student's own (private notes, own-note controls, votes, form tokens) shows
on another's page from what they share."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import HTMX, PASSWORD, SEED_SLUG
from tests.functional.class_world import PHRASES, build_class_world
from tests.functional.helpers import current_version, page, select
from webapp.models import Annotation
from webapp.reader.shared import views_of
from webapp.services.accounts import create_user
from webapp.services.classes import join_class


@pytest.fixture
def world(db, client, seed_document):
    return build_class_world(db, client)


def reader(world, name: str, **params) -> str:
    """The reader page of `name` in the class's view (its HTML), which must be the same
    as the page drawn with no shared view at all."""
    client = world.sign_in(name)
    query = {"context": f"class-{world.classroom_id}", **params}
    response = client.get(f"/articles/{SEED_SLUG}", query_string=query)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    config = client.application.config
    config["READER_SHARED_VIEWS"] = False
    try:
        alone = client.get(f"/articles/{SEED_SLUG}", query_string=query).get_data(as_text=True)
    finally:
        config["READER_SHARED_VIEWS"] = True
    assert without_tokens(html) == without_tokens(alone), name
    return html


def card(html: str, annotation_id: int):
    return page_of(html).by_id(f"annotation-{annotation_id}")


def page_of(html: str):
    class Response:
        def get_data(self, as_text=True):
            return html

    return page(Response())


def warm(world, *names: str) -> None:
    """Readers open the page first: the class's shared view is drawn and kept."""
    for name in names or ("dee", "cal", "ben"):
        reader(world, name)


def without_tokens(html: str) -> str:
    return re.sub(r'"I[\w.-]{60,}"', '"TOKEN"', html)


def test_a_students_page_is_the_same_with_or_without_the_shared_views(world, app, db):
    world.add_note("dee", "Interfax quoted Assad", "Note by DEE")
    writer = "cal"
    world.sign_in(writer).post(f"/annotations/{world.notes['ann']}/vote")
    for name in ("ann", "ben", "cal", "dee", "teacher"):
        app.config["READER_SHARED_VIEWS"] = False
        alone = reader(world, name)
        app.config["READER_SHARED_VIEWS"] = True
        first, again = reader(world, name), reader(world, name)
        assert without_tokens(alone) == without_tokens(first) == without_tokens(again), name


def test_no_other_readers_form_token_or_controls_come_from_the_shared_view(world):
    warm(world, "ann", "ben")
    html = reader(world, "dee")
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1  # dee's own, on every form, cards kept by others included
    ann_note = card(html, world.notes["ann"])
    assert ann_note is not None
    assert "Edit" not in ann_note.text() and "Delete" not in ann_note.text().split()
    # ann, after dee: her own note has her controls
    mine = card(reader(world, "ann"), world.notes["ann"])
    assert "Edit" in mine.text() and "Delete" in mine.text()


def test_a_private_note_never_shows_to_classmates(world, db):
    session = db.session
    version = current_version(db)
    form = {**select(version.text, "Syrian President Bashar"), "audience": "private"}
    from webapp.services.annotations import create_annotation

    private = create_annotation(session, world.users["ann"], version, form)  # bare highlight
    session.commit()
    assert f'id="annotation-{private.id}"' in reader(world, "ann")
    html = reader(world, "dee")
    assert f'id="annotation-{private.id}"' not in html
    assert f"annotation-{private.id}" not in html
    # ann's own mark is hers alone: others draw it nowhere
    assert f'data-jump="{private.id}"' not in html


def test_a_new_note_shows_to_classmates(world, db):
    warm(world)
    writer = "ben"
    version = current_version(db)
    fields = {
        **select(version.text, "Russian forces were needed"),
        "body": "A NEW NOTE by ben",
        "audience": f"class-{world.classroom_id}",
        "intent": "comment",
        "version": str(version.id),
    }
    assert world.sign_in(writer).post(
        f"/articles/{SEED_SLUG}/annotations", data=fields
    ).status_code in (
        200,
        201,
        302,
    )
    assert "A NEW NOTE by ben" in reader(world, "dee")


def test_edits_colours_and_tags_show_to_classmates(world):
    warm(world)
    note = world.notes["ben"]
    writer = "ben"
    response = world.sign_in(writer).post(
        f"/annotations/{note}/edit",
        data={"body": "EDITED by ben", "colour": "green", "tags": "sources"},
    )
    assert response.status_code in (200, 302)
    shown = card(reader(world, "dee"), note)
    assert "EDITED by ben" in shown.text() and "#sources" in shown.text()
    assert "card-green" in shown.classes


def test_deleting_and_restoring_a_note_shows_to_classmates(world):
    warm(world)
    note = world.notes["cal"]
    writer = "cal"
    assert world.sign_in(writer).post(f"/annotations/{note}/delete").status_code in (200, 302)
    assert card(reader(world, "dee"), note) is None
    assert world.sign_in(writer).post(f"/annotations/{note}/restore").status_code in (200, 302)
    assert card(reader(world, "dee"), note) is not None


def test_replies_show_to_classmates(world):
    warm(world)
    writer = "cal"
    world.sign_in(writer).post(
        f"/annotations/{world.notes['ben']}/replies", data={"body": "REPLY by cal"}
    )
    assert "REPLY by cal" in card(reader(world, "dee"), world.notes["ben"]).text()
    reply = world.replies["ben"]
    writer = "ben"
    world.sign_in(writer).post(f"/replies/{reply}/edit", data={"body": "REPLY EDITED by ben"})
    assert "REPLY EDITED by ben" in reader(world, "dee")
    world.sign_in(writer).post(f"/replies/{reply}/delete")
    assert "REPLY EDITED by ben" not in reader(world, "dee")


def vote_button(html: str, annotation_id: int):
    return next(b for b in card(html, annotation_id).find_all("button") if "vote" in b.classes)


def test_votes_count_for_everyone_and_show_as_voted_to_the_voter_only(world):
    warm(world)
    note = world.notes["ann"]
    world.sign_in("ben").post(f"/annotations/{note}/vote")
    for_dee = vote_button(reader(world, "dee"), note)
    assert for_dee.text().split()[-1] == "1" and for_dee.get("aria-pressed") == "false"
    for_ben = vote_button(reader(world, "ben"), note)
    assert for_ben.get("aria-pressed") == "true"
    assert vote_button(reader(world, "cal"), note).get("aria-pressed") == "false"


def test_pins_answers_and_hiding_show_to_classmates(world):
    warm(world)
    note = world.notes["ben"]
    world.sign_in("teacher").post(f"/annotations/{note}/pin", data={"pinned": "1"})
    assert "Pinned" in card(reader(world, "dee"), note).text()
    world.sign_in("teacher").post(
        f"/annotations/{note}/hide", data={"hidden": "1", "reason": "off topic"}
    )
    assert card(reader(world, "dee"), note) is None
    own = card(reader(world, "ben"), note)  # the author still sees it, and why
    assert own is not None and "off topic" in own.text()
    world.sign_in("teacher").post(f"/annotations/{note}/hide", data={"hidden": "0"})
    assert card(reader(world, "dee"), note) is not None
    world.sign_in("teacher").post(f"/replies/{world.replies['ben']}/hide", data={"hidden": "1"})
    assert "Reply by BEN" not in reader(world, "dee")
    assert "Reply by BEN" in reader(world, "ben")


def test_a_question_marked_answered_shows_to_classmates(world, db):
    warm(world)
    writer = "cal"
    note = world.notes["cal"]
    world.sign_in(writer).post(
        f"/annotations/{note}/edit", data={"body": "A QUESTION?", "question": "on"}
    )
    assert "Question" in card(reader(world, "dee"), note).text()
    world.sign_in("teacher").post(f"/annotations/{note}/answered", data={"answered": "1"})
    assert "Answered" in card(reader(world, "dee"), note).text()


PURPOSES = {
    "purpose-yellow": "MAIN CLAIM",
    "purpose-green": "Source",
    "purpose-blue": "Ask",
    "purpose-pink": "Counter",
    "purpose-purple": "Word",
}


def test_class_settings_show_to_its_students(world):
    warm(world)
    world.sign_in("teacher").post(
        f"{world.url}/purposes",
        data=PURPOSES,
    )
    assert "MAIN CLAIM" in card(reader(world, "dee"), world.notes["ben"]).text()
    world.sign_in("teacher").post(f"{world.url}/archive")
    shown = card(reader(world, "dee"), world.notes["ben"])
    assert "Reply" not in shown.text().split() and "Flag" not in shown.text()
    world.sign_in("teacher").post(f"{world.url}/restore")
    assert "Flag" in card(reader(world, "dee"), world.notes["ben"]).text()


def test_roles_and_removal_show_to_classmates(world):
    warm(world)
    ben = world.users["ben"]
    world.sign_in("teacher").post(f"{world.url}/members/{ben.id}/role", data={"role": "instructor"})
    assert "Instructor" in card(reader(world, "dee"), world.notes["ben"]).text()
    world.sign_in("teacher").post(f"{world.url}/members/{ben.id}/role", data={"role": "student"})
    assert "Instructor" not in card(reader(world, "dee"), world.notes["ben"]).text()
    world.sign_in("teacher").post(f"{world.url}/members/{ben.id}/remove")
    writer = "ben"
    response = world.sign_in(writer).get(
        f"/articles/{SEED_SLUG}", query_string={"context": f"class-{world.classroom_id}"}
    )
    assert response.status_code == 404


def test_reading_in_groups_is_not_shared_across_groups(world):
    warm(world)
    world.sign_in("teacher").post(
        f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "groups"}
    )
    html = reader(world, "dee")  # in no group: their own and the instructors' notes
    assert card(html, world.notes["ben"]) is None
    assert card(html, world.notes["teacher"]) is not None
    world.sign_in("teacher").post(
        f"{world.url}/assignments/{world.assignment_id}/mode", data={"mode": "class"}
    )
    assert card(reader(world, "dee"), world.notes["ben"]) is not None


def test_a_deleted_account_shows_as_a_former_member_to_classmates(world, db):
    eve = create_user(db.session, "eve", PASSWORD)
    join_class(db.session, eve, world.classroom.join_code)
    db.session.commit()
    world.users["eve"] = eve
    note = world.add_note("eve", "Interfax quoted Assad", "Note by EVE")
    world.sign_in("eve").post(f"/annotations/{world.notes['ann']}/vote")
    warm(world)
    assert "eve" in card(reader(world, "dee"), note).text()
    assert vote_button(reader(world, "dee"), world.notes["ann"]).text().split()[-1] == "1"
    writer = "eve"
    response = world.sign_in(writer).post(
        "/account/delete", data={"notes": "keep", "confirm": "yes", "password": PASSWORD}
    )
    assert response.status_code in (200, 302, 303)
    html = reader(world, "dee")
    assert "eve" not in card(html, note).find("span", class_="author").text()
    assert vote_button(html, world.notes["ann"]).text().split()[-1] == "0"


def test_a_note_shared_from_private_shows_to_classmates(world, db):
    version = current_version(db)
    from webapp.services.annotations import create_annotation

    form = {**select(version.text, "Syrian President Bashar"), "audience": "private"}
    private = create_annotation(db.session, world.users["ann"], version, form)
    db.session.commit()
    warm(world)
    world.sign_in("ann").post(
        f"/annotations/{private.id}/edit",
        data={"body": "NOW SHARED", "audience": f"class-{world.classroom_id}"},
    )
    assert db.session.get(Annotation, private.id).classroom_id == world.classroom_id
    assert "NOW SHARED" in card(reader(world, "dee"), private.id).text()


def test_the_next_cards_are_the_same_with_or_without_the_shared_views(world, app, db):
    for name in ("dee", "ann", "ben"):
        client = world.sign_in(name)
        url = f"/articles/{SEED_SLUG}/cards"
        query = {"context": f"class-{world.classroom_id}", "offset": "1"}
        pages = []
        for shared in (True, False, True):
            app.config["READER_SHARED_VIEWS"] = shared
            response = client.get(url, query_string=query, headers=HTMX)
            assert response.status_code == 200
            pages.append(without_tokens(response.get_data(as_text=True)))
        app.config["READER_SHARED_VIEWS"] = True
        assert pages[0] == pages[1] == pages[2], name
        assert 'id="annotation-' in pages[0]


def statement_count(db, call) -> int:
    seen = []

    def record(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def test_a_student_reads_the_shared_view_another_drew(world, app, db):
    """A student's page reads less than it would alone once classmates drew the cards they
    are not involved in (dee is in none)."""
    warm(world, "ben", "cal")
    client = world.sign_in("dee")
    url = f"/articles/{SEED_SLUG}?context=class-{world.classroom_id}"
    shared = statement_count(db, lambda: client.get(url))
    app.config["READER_SHARED_VIEWS"] = False
    try:
        alone = statement_count(db, lambda: client.get(url))
    finally:
        app.config["READER_SHARED_VIEWS"] = True
    assert shared < alone


def test_a_students_own_marks_follow_their_edits_on_their_next_page(world):
    """The blocks holding a student's own marks are kept drawn with the class's view:
    their next page shows them the same, and an edit of their note draws them again."""
    note = world.notes["ben"]
    first = reader(world, "ben")
    assert without_tokens(reader(world, "ben")) == without_tokens(first)
    response = world.sign_in("ben").post(
        f"/annotations/{note}/edit", data={"body": "EDITED by ben", "colour": "green"}
    )
    assert response.status_code in (200, 302)
    again = reader(world, "ben")
    green = 'class="hl hl-green '
    assert green in again and green not in first


def blocks_of(html: str) -> dict[str, str]:
    """The article blocks in an answer or a page, by id (a write's answer sends them out
    of band: that attribute is left out), as drawn."""
    found = re.finditer(
        r'<(p|h[1-6]|li|blockquote|pre|figcaption|td|th)( id="([^"]+)"[^>]*)>(.*?)</\1>', html, re.S
    )
    return {
        m.group(3): m.group(0).replace(' hx-swap-oob="outerHTML"', "")
        for m in found
        if 'data-start="' in m.group(2)
    }


def write(world, name: str, phrase: str, body: str = "", occurrence: int = 0) -> str:
    """`name` saves a note on `phrase` (a bare highlight without `body`) in the class's
    view; the answer's HTML."""
    version = current_version(world.db)
    key = f"class-{world.classroom_id}"
    fields = {
        **select(version.text, phrase, occurrence),
        "body": body,
        "intent": "comment" if body else "highlight",
        "audience": key,
        "context": key,
        "version": str(version.id),
    }
    client = world.sign_in(name)
    response = client.post(f"/articles/{SEED_SLUG}/annotations", data=fields, headers=HTMX)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def assert_blocks_as_read_alone(world, app, name: str, answer: str) -> None:
    """The blocks a write's answer redraws are those of the writer's page drawn with no
    shared view: the same marks, the writer's own in their colours."""
    drawn = blocks_of(answer)
    assert drawn
    app.config["READER_SHARED_VIEWS"] = False
    try:
        client = world.sign_in(name)
        query = {"context": f"class-{world.classroom_id}"}
        alone = blocks_of(
            client.get(f"/articles/{SEED_SLUG}", query_string=query).get_data(as_text=True)
        )
    finally:
        app.config["READER_SHARED_VIEWS"] = True
    for block_id, html in drawn.items():
        assert html == alone[block_id], block_id


def test_a_writes_answer_draws_its_blocks_from_the_shared_view_as_read_alone(world, app, db):
    views = views_of(app.extensions)
    # None kept yet: the answer reads the marks over its blocks (not every note)
    answer = write(world, "dee", PHRASES["teacher"], "Before any page")
    assert_blocks_as_read_alone(world, app, "dee", answer)
    assert not views._entries
    warm(world)  # the class's shared view is kept: a write's answer brings it up to date
    ann_phrase = PHRASES["ann"]
    answer = write(world, "dee", ann_phrase, "A NOTE by dee")
    assert_blocks_as_read_alone(world, app, "dee", answer)
    # Others write, edit (a colour), delete and highlight in between: the kept view is
    # behind by several changes, one of them moving a mark it holds.
    write(world, "ann", "Syrian President Bashar", "Another by ann")
    ben = world.sign_in("ben")
    assert ben.post(
        f"/annotations/{world.notes['ben']}/edit", data={"colour": "blue"}
    ).status_code in (200, 302)
    cal = world.sign_in("cal")
    assert cal.post(f"/annotations/{world.notes['cal']}/delete").status_code in (200, 302)
    write(world, "dee", ann_phrase)  # dee's own bare highlight: not the class's
    for phrase in (ann_phrase, PHRASES["ben"], PHRASES["cal"]):
        answer = write(world, "dee", phrase, f"On {phrase}")
        assert_blocks_as_read_alone(world, app, "dee", answer)
        answer = write(world, "ben", phrase, f"Ben on {phrase}")
        assert_blocks_as_read_alone(world, app, "ben", answer)
    # A colour changed alone: the kept view replaces that mark in place
    for colour, name in (("green", "ben"), ("pink", "ann")):
        edited = world.sign_in(name).post(
            f"/annotations/{world.notes[name]}/edit", data={"colour": colour}
        )
        assert edited.status_code in (200, 302)
        answer = write(world, "dee", PHRASES[name], f"After {name}'s {colour}")
        assert_blocks_as_read_alone(world, app, "dee", answer)
    assert any(view.seq for view in views._entries.values())
    # and the pages read through the caught-up view are those read alone
    for name in ("ann", "ben", "dee"):
        reader(world, name)


def test_the_due_banner_and_an_extension_are_the_same_with_or_without_the_shared_views(world, db):
    """The banner of a student's class view comes from the class's facts the shared view
    reads (reader/shared.class_facts): the class's date, a student's own extension."""
    from datetime import timedelta

    from webapp.models import Assignment, utcnow

    assert page_of(reader(world, "dee")).by_id("due-banner") is None  # no date yet
    assignment = db.session.get(Assignment, world.assignment_id)
    assignment.due_at = (utcnow() + timedelta(days=4, hours=3)).replace(second=0, microsecond=0)
    db.session.commit()
    iso = assignment.due_at.isoformat() + "Z"
    later = (utcnow() + timedelta(days=9)).date().isoformat()
    response = world.sign_in("teacher").post(
        f"{world.url}/assignments/{world.assignment_id}/students/{world.users['dee'].id}/extension",
        data={"due": later},
    )
    assert response.status_code == 302
    warm(world, "ann")
    for name, when, extended in (("dee", f"{later}T23:59:00Z", True), ("cal", iso, False)):
        banner = page_of(reader(world, name)).by_id("due-banner")
        assert banner.find("time").get("datetime") == when, name
        assert ("extended for you" in banner.text()) == extended, name


def test_the_parts_of_the_page_kept_for_the_class_follow_its_settings(world):
    """The page's parts drawn once per class view (reader/views.kept: the article's head,
    the sidebar's controls, the toolbar) show the class's name, colours, archive and the
    sidebar's query as they are now, and each student's own form token."""
    warm(world, "ann", "ben", "dee")
    world.sign_in("teacher").post(f"{world.url}/rename", data={"name": "Renamed course"})
    assert "Renamed course" in page_of(reader(world, "dee")).by_id("toolbar-hint").text()
    world.sign_in("teacher").post(
        f"{world.url}/purposes",
        data=PURPOSES,
    )
    for name in ("ann", "dee"):
        html = reader(world, name)
        root = page_of(html)
        assert "Renamed course" in root.by_id("toolbar-hint").text()
        assert "MAIN CLAIM" in root.find("ul", class_="legend").text()
        assert "MAIN CLAIM" in root.by_id("annotate-form").text()
        tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
        assert len(tokens) == 1, name
    # A query of the sidebar: its controls show it, and the next page without it again.
    for params in ({"filter": "questions"}, {"q": "assad", "sort": "newest"}, {}):
        root = page_of(reader(world, "dee", **params))
        chosen = root.by_id("filter-show").find("option", selected=True)
        assert chosen.get("value") == params.get("filter", "everyone")
        assert root.by_id("filter-q").get("value") == params.get("q", "")
    world.sign_in("teacher").post(f"{world.url}/archive")
    root = page_of(reader(world, "dee"))
    assert "Renamed course is read-only" in root.find("p", class_="notice archived-notice").text()


def test_a_students_own_cards_are_kept_for_them_alone_and_follow_changes(world, app):
    """The cards a student is involved in (their notes, those they voted on or replied
    to) are kept for that student with the class's view: drawn again after any change of
    the note, never shown to another student."""
    views = views_of(app.extensions)
    warm(world, "ann", "ann")  # ann's second page: her own card as she drew it first
    assert any(user == world.users["ann"].id for user, _ in own_cards(views))
    note, others = world.notes["ann"], world.notes["ben"]
    world.sign_in("ann").post(f"/annotations/{others}/vote")
    for _ in range(2):
        assert vote_button(reader(world, "ann"), others).get("aria-pressed") == "true"
        assert vote_button(reader(world, "dee"), others).get("aria-pressed") == "false"
    world.sign_in("cal").post(f"/annotations/{note}/replies", data={"body": "REPLY to ann"})
    for _ in range(2):
        mine = card(reader(world, "ann"), note)
        assert "REPLY to ann" in mine.text() and "Edit" in mine.text()
        theirs = card(reader(world, "dee"), note)
        assert "REPLY to ann" in theirs.text() and "Edit" not in theirs.text()
    world.sign_in("ann").post(f"/annotations/{others}/vote")  # taken back
    assert vote_button(reader(world, "ann"), others).get("aria-pressed") == "false"


def own_cards(views) -> list[tuple[int, int]]:
    return [key for view in views._entries.values() for key in view.own_cards]


def test_a_change_log_cut_back_under_a_kept_view_is_read_again(world, db):
    """Changes removed under a kept view (a restore of an older backup, rows deleted by
    hand) leave the log ending far behind the view's seq: the view is read again instead
    of serving notes that are gone."""
    from webapp.models import Change

    warm(world)
    write(world, "ben", "Russian forces were needed", "A NOTE THAT WILL BE CUT")
    note = db.session.scalars(
        sa.select(Annotation).where(Annotation.body_markdown == "A NOTE THAT WILL BE CUT")
    ).one()
    # Its change far ahead in the log, as after many writes: the kept view follows it.
    db.session.execute(
        sa.update(Change).where(Change.annotation_id == note.id).values(seq=Change.seq + 1000)
    )
    db.session.commit()
    assert "A NOTE THAT WILL BE CUT" in reader(world, "dee")
    # Then the note and its change go without a change of their own.
    db.session.execute(sa.delete(Change).where(Change.annotation_id == note.id))
    db.session.execute(sa.delete(Annotation).where(Annotation.id == note.id))
    db.session.commit()
    assert "A NOTE THAT WILL BE CUT" not in reader(world, "dee")
    assert "A NOTE THAT WILL BE CUT" not in reader(world, "cal")
