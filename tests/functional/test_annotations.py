"""Creating, showing, editing, deleting and restoring annotations: full pages and htmx partials,
marks and cards on the page, comments, and who may see or change what."""

from __future__ import annotations

import json

import pytest

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import (
    annotation_count,
    block_of,
    card_ids,
    cards_in,
    create,
    current_version,
    fetch_annotation,
    insert_card,
    latest_annotation,
    marks_for,
    oob_cards,
    page,
    parse,
    select,
    span,
    spot_ids,
    vary,
)
from webapp.models import Annotation, Classroom, Membership, Role, utcnow
from webapp.services.classes import assign

PHRASE = "Russian forces were needed"


@pytest.fixture
def text(db) -> str:
    return current_version(db).text


def reader_page(client):
    response = client.get(f"/articles/{SEED_SLUG}")
    assert response.status_code == 200
    return page(response)


def new_annotation(client, db, fields, **extra) -> Annotation:
    response = create(client, fields, **extra)
    assert response.status_code == 200, response.get_data(as_text=True)
    return latest_annotation(db)


def at_card(annotation: Annotation, context: str = "private") -> str:
    """Where a plain (no-JavaScript) write sends the reader: the article, at the card."""
    return f"/articles/{SEED_SLUG}?context={context}#annotation-{annotation.id}"


# --- create -----------------------------------------------------------------------------------


def test_create_htmx_returns_the_block_and_the_card_out_of_band(client, auth, db, text):
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, select(text, PHRASE), colour="green")
    assert response.status_code == 200
    assert annotation_count(db) == before + 1
    annotation = latest_annotation(db)
    assert (annotation.start, annotation.end, annotation.exact) == (
        text.index(PHRASE),
        text.index(PHRASE) + len(PHRASE),
        PHRASE,
    )
    assert annotation.colour == "green" and annotation.author.username == "alice"

    html = response.get_data(as_text=True)
    assert "<html" not in html
    root = parse(html)
    blocks = [e for e in root.top_level() if (e.id or "").startswith("block-")]
    assert [b.id for b in blocks] == ["block-1"]
    assert blocks[0].get("hx-swap-oob") == "outerHTML"
    marks = marks_for(root, annotation.id)
    assert [m.text() for m in marks] == [PHRASE]
    assert "hl-green" in marks[0].classes

    # The card itself comes out of band; the sidebar script puts it in order.
    [card] = oob_cards(root)
    new_id = f"annotation-{annotation.id}"
    assert card.tag == "article" and card.id == new_id
    assert card.get("hx-swap-oob") == "outerHTML"
    assert insert_card([], card) == [new_id]
    assert card.find("blockquote").text() == PHRASE
    assert [e.id for e in root.top_level()] == ["block-1", new_id, "flash"]
    # The flash region is cleared of an earlier error.
    assert root.by_id("flash").get("hx-swap-oob") == "innerHTML"

    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger == {"annotation-saved": {"id": annotation.id, "comment": False}}
    assert "hx-request" in vary(response)


def test_create_without_htmx_redirects_to_the_card(client, auth, db, text):
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, select(text, PHRASE), htmx=False)
    assert response.status_code == 302
    annotation = latest_annotation(db)
    assert annotation_count(db) == before + 1
    assert response.headers["Location"] == at_card(annotation)
    assert "HX-Trigger" not in response.headers
    assert "hx-request" in vary(response)


def test_after_create_the_page_shows_the_mark_and_the_card(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(
        client, db, select(text, PHRASE), intent="comment", body="Why *long term*?"
    )
    root = reader_page(client)
    marks = marks_for(root, annotation.id)
    assert len(marks) == 1
    assert marks[0].get("data-at") == str(annotation.start)
    assert marks[0].text() == PHRASE
    assert block_of(marks[0]).id == "block-1"
    card = root.by_id(f"annotation-{annotation.id}")
    assert card.parent.id == "cards"
    assert card.find("blockquote").text() == PHRASE
    comment = card.find("div", class_="comment")
    assert comment.find("em").text() == "long term"
    assert comment.text().strip() == "Why long term?"


def test_highlight_with_comment_reports_comment_in_the_trigger(client, auth, db, text):
    auth.login("alice")
    response = create(client, select(text, PHRASE), intent="comment", body="A note")
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["annotation-saved"]["comment"] is True


def test_cards_are_in_document_order(client, auth, db, text):
    """Each new card, swapped in out of band and put in order by the sidebar script (from
    its data-start/-end), lands where document order wants it, and the page lists the cards
    in document order."""
    auth.login("alice")
    phrases = ["Hmeimim military base", "Bashar al-Assad said", "liquidated", "Middle East"]
    created = []
    for phrase in phrases:
        before = cards_in(reader_page(client))
        response = create(client, select(text, phrase))
        assert response.status_code == 200
        annotation = latest_annotation(db)
        created.append(annotation)
        [card] = oob_cards(parse(response.get_data(as_text=True)))
        new_id = f"annotation-{annotation.id}"
        assert card.id == new_id
        assert (card.get("data-start"), card.get("data-end")) == (
            str(annotation.start),
            str(annotation.end),
        )
        expected = [f"annotation-{a.id}" for a in sorted(created, key=lambda a: a.start)]
        assert insert_card(before, card) == expected
        assert card_ids(reader_page(client)) == expected
    # Same start: the shorter one first.
    longer = new_annotation(client, db, select(text, "Middle East, until"))
    ids = card_ids(reader_page(client))
    middle = created[3]
    assert ids.index(f"annotation-{middle.id}") + 1 == ids.index(f"annotation-{longer.id}")


def test_selection_across_two_paragraphs_is_one_annotation(client, auth, db, text):
    auth.login("alice")
    fields = span(text, "citing an interview", '"Russian armed forces')
    assert "\n\n" in fields["exact"]
    before = annotation_count(db)
    response = create(client, fields)
    assert response.status_code == 200
    assert annotation_count(db) == before + 1
    annotation = latest_annotation(db)
    root = parse(response.get_data(as_text=True))
    changed = [e.id for e in root.top_level() if (e.id or "").startswith("block-")]
    assert changed == ["block-1", "block-2"]
    for element in root.top_level():
        if element.id in changed:
            assert element.get("hx-swap-oob") == "outerHTML"

    page_root = reader_page(client)
    marks = marks_for(page_root, annotation.id)
    assert {block_of(m).id for m in marks} == {"block-1", "block-2"}
    assert "".join(m.text() for m in marks) == fields["exact"].replace("\n\n", "")
    card = page_root.by_id(f"annotation-{annotation.id}")
    assert card.find("blockquote").text() == fields["exact"]


def test_overlapping_highlights_share_marks_without_nesting(client, auth, db, text):
    auth.login("alice")
    first = new_annotation(client, db, select(text, "Russian forces were needed"))
    second = new_annotation(client, db, select(text, "forces were needed in the country"))
    inner = new_annotation(client, db, select(text, "were"))  # inside both

    root = reader_page(client)
    block = root.by_id("block-1")
    marks = block.find_all("mark")
    for mark in marks:
        assert not any(a.tag == "mark" for a in mark.ancestors()), "nested <mark>"
    # A mark says where it starts; the notes there come from the spot partial.
    pieces = [
        (m.text(), [str(i) for i in spot_ids(client, SEED_SLUG, int(m.get("data-at")))])
        for m in marks
    ]
    a, b, c = str(first.id), str(second.id), str(inner.id)
    assert pieces == [
        ("Russian ", [a]),
        ("forces ", [a, b]),
        ("were", [a, b, c]),
        (" needed", [a, b]),
        (" in the country", [b]),
    ]
    depths = {m.text(): next(c for c in m.classes if c.startswith("depth-")) for m in marks}
    assert depths == {
        "Russian ": "depth-1",
        "forces ": "depth-2",
        "were": "depth-3",
        " needed": "depth-2",
        " in the country": "depth-1",
    }


def test_marks_never_cross_element_boundaries(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, span(text, "article:", "Growing Risks"))
    root = reader_page(client)
    marks = marks_for(root, annotation.id)
    assert [m.text() for m in marks] == ["article:", " ", "The Growing Risks"]
    inside = [[a.tag for a in m.ancestors()][:3] for m in marks]
    assert inside[0][:2] == ["span", "strong"]
    assert inside[2][:2] == ["span", "a"]


# --- comments ---------------------------------------------------------------------------------


def test_comment_markdown_is_rendered_and_cleaned(client, auth, db, text):
    auth.login("alice")
    body = (
        "**Bold** and _em_\n\n"
        "<script>alert('x')</script> <img src=x onerror=alert(1)>\n\n"
        "[a link](https://example.com/page) and [bad](javascript:alert(1))"
    )
    annotation = new_annotation(client, db, select(text, PHRASE), intent="comment", body=body)
    assert annotation.body_markdown == body
    for html in (
        annotation.body_html,
        reader_page(client).by_id(f"annotation-{annotation.id}").find(None, class_="comment"),
    ):
        root = html if not isinstance(html, str) else parse(html)
        assert root.find("strong").text() == "Bold"
        assert root.find("em").text() == "em"
        assert root.find("script") is None and root.find("img") is None
        links = root.find_all("a")
        assert [link.get("href") for link in links] == ["https://example.com/page"]
        assert links[0].get("rel") == "nofollow noopener ugc"
        assert "javascript:" not in " ".join(str(v) for e in root.iter() for v in e.attrs.values())
    assert "<script>" not in annotation.body_html
    assert "&lt;script&gt;" in annotation.body_html


# --- show -------------------------------------------------------------------------------------


def test_show_htmx_returns_the_card_and_plain_get_redirects(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE), intent="comment", body="Hm")
    partial = client.get(f"/annotations/{annotation.id}", headers=HTMX)
    assert partial.status_code == 200
    root = parse(partial.get_data(as_text=True))
    # The card (the main swap) and the flash region, cleared out of band.
    [card, flash] = root.top_level()
    assert card.id == f"annotation-{annotation.id}" and card.get("hx-swap-oob") is None
    assert card.find("blockquote").text() == PHRASE
    assert flash.id == "flash" and flash.get("hx-swap-oob") == "innerHTML"
    assert "hx-request" in vary(partial)

    full = client.get(f"/annotations/{annotation.id}")
    assert full.status_code == 302
    assert full.headers["Location"] == at_card(annotation)


def test_show_unknown_annotation_is_404(client, auth):
    auth.login("alice")
    response = client.get("/annotations/987654")
    assert response.status_code == 404
    assert "does not exist or is not visible to you" in response.get_data(as_text=True)


# --- edit -------------------------------------------------------------------------------------


def test_edit_form_htmx_and_full_page(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(
        client, db, select(text, PHRASE), intent="comment", body="First *thought*"
    )
    partial = client.get(f"/annotations/{annotation.id}/edit", headers=HTMX)
    assert partial.status_code == 200
    html = partial.get_data(as_text=True)
    assert "<html" not in html
    card = parse(html).by_id(f"annotation-{annotation.id}")
    form = card.find("form", class_="card-edit")
    assert form.get("hx-post") == f"/annotations/{annotation.id}/edit"
    assert form.find("textarea", name="body").text() == "First *thought*"
    checked = [
        i.get("value") for i in form.find_all("input", name="colour") if "checked" in i.attrs
    ]
    assert checked == ["yellow"]

    full = client.get(f"/annotations/{annotation.id}/edit")
    assert full.status_code == 200
    root = page(full)
    assert root.find("html") is not None
    assert root.find("main").find("form", class_="card-edit") is not None


def test_edit_htmx_updates_the_comment(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE), intent="comment", body="Old")
    response = client.post(
        f"/annotations/{annotation.id}/edit",
        data={"body": "New **bold** note", "colour": "yellow"},
        headers=HTMX,
    )
    assert response.status_code == 200
    root = parse(response.get_data(as_text=True))
    card = root.by_id(f"annotation-{annotation.id}")
    assert card.find(None, class_="comment").find("strong").text() == "bold"
    assert card.find("span", class_="edited") is not None
    # The colour did not change: no block is re-rendered.
    assert not [e for e in root.top_level() if (e.id or "").startswith("block-")]
    stored = fetch_annotation(db, annotation.id)
    assert stored.body_markdown == "New **bold** note"
    assert "<strong>bold</strong>" in stored.body_html
    assert "New" in reader_page(client).by_id(f"annotation-{annotation.id}").text()


def test_edit_colour_re_renders_the_block(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE))
    response = client.post(
        f"/annotations/{annotation.id}/edit", data={"colour": "pink"}, headers=HTMX
    )
    assert response.status_code == 200
    root = parse(response.get_data(as_text=True))
    block = root.by_id("block-1")
    assert block is not None and block.get("hx-swap-oob") == "outerHTML"
    assert "hl-pink" in marks_for(block, annotation.id)[0].classes
    assert fetch_annotation(db, annotation.id).colour == "pink"
    assert "card-pink" in root.by_id(f"annotation-{annotation.id}").classes


def test_edit_can_remove_the_comment(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE), intent="comment", body="Gone")
    response = client.post(f"/annotations/{annotation.id}/edit", data={"body": "  "}, headers=HTMX)
    assert response.status_code == 200
    stored = fetch_annotation(db, annotation.id)
    assert stored.body_markdown == "" and stored.body_html == ""
    assert fetch_annotation(db, annotation.id).deleted_at is None


def test_edit_without_htmx_redirects(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE))
    response = client.post(f"/annotations/{annotation.id}/edit", data={"body": "Plain form"})
    assert response.status_code == 302
    assert response.headers["Location"] == at_card(annotation)
    assert fetch_annotation(db, annotation.id).body_markdown == "Plain form"


# --- delete and restore -----------------------------------------------------------------------


def test_delete_htmx_removes_the_card_and_the_mark(client, auth, db, text):
    auth.login("alice")
    keep = new_annotation(client, db, select(text, "Russian forces"))
    gone = new_annotation(client, db, select(text, "forces were needed"))
    response = client.post(f"/annotations/{gone.id}/delete", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The main target (the card) is replaced by nothing: the response starts with no element.
    assert html.startswith("\n")
    root = parse(html)
    assert root.by_id(f"annotation-{gone.id}") is None
    block = root.by_id("block-1")
    assert block.get("hx-swap-oob") == "outerHTML"
    assert marks_for(block, gone.id) == []
    assert [m.text() for m in marks_for(block, keep.id)] == ["Russian forces"]
    undo = root.by_id("flash").find("button")
    assert undo.get("hx-post") == f"/annotations/{gone.id}/restore"

    assert fetch_annotation(db, gone.id).deleted_at is not None
    page_root = reader_page(client)
    assert marks_for(page_root, gone.id) == []
    assert page_root.by_id(f"annotation-{gone.id}") is None
    assert page_root.by_id(f"annotation-{keep.id}") is not None
    assert client.get(f"/annotations/{gone.id}", headers=HTMX).status_code == 404
    # Deleting twice: the note is gone.
    assert client.post(f"/annotations/{gone.id}/delete", headers=HTMX).status_code == 404


def test_delete_without_htmx_redirects_with_a_message(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE))
    response = client.post(f"/annotations/{annotation.id}/delete")
    assert response.status_code == 302
    # Back to where the card was (its anchor is gone; the page scrolls nowhere).
    assert response.headers["Location"] == at_card(annotation)
    root = reader_page(client)
    assert "The note was deleted." in root.by_id("flash").text()
    assert marks_for(root, annotation.id) == []


def test_restore_htmx_brings_back_the_mark_and_the_card(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE), intent="comment", body="Back")
    later = new_annotation(client, db, select(text, "Hmeimim"))
    client.post(f"/annotations/{annotation.id}/delete", headers=HTMX)
    [later_card] = cards_in(reader_page(client))
    assert later_card.id == f"annotation-{later.id}"
    response = client.post(f"/annotations/{annotation.id}/restore", headers=HTMX)
    assert response.status_code == 200
    root = parse(response.get_data(as_text=True))
    block = root.by_id("block-1")
    assert block.get("hx-swap-oob") == "outerHTML"
    assert [m.text() for m in marks_for(block, annotation.id)] == [PHRASE]
    [card] = oob_cards(root)
    new_id = f"annotation-{annotation.id}"
    assert card.id == new_id and card.get("hx-swap-oob") == "outerHTML"
    assert insert_card([later_card], card) == [new_id, f"annotation-{later.id}"]
    assert fetch_annotation(db, annotation.id).deleted_at is None
    card = reader_page(client).by_id(f"annotation-{annotation.id}")
    assert "Back" in card.text()


def test_restore_without_htmx_redirects(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE))
    client.post(f"/annotations/{annotation.id}/delete")
    response = client.post(f"/annotations/{annotation.id}/restore")
    assert response.status_code == 302
    assert response.headers["Location"] == at_card(annotation)
    assert fetch_annotation(db, annotation.id).deleted_at is None
    assert marks_for(reader_page(client), annotation.id)


# --- ownership and visibility -----------------------------------------------------------------


@pytest.fixture
def alices_note(client, auth, db, text) -> Annotation:
    """A private note of alice's, then bob logged in."""
    auth.login("alice")
    annotation = new_annotation(
        client, db, select(text, PHRASE), intent="comment", body="alice private thought"
    )
    auth.logout()
    return annotation


def test_anonymous_reader_sees_no_private_notes(client, alices_note):
    html = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    root = parse(html)
    assert root.find_all("mark") == []
    assert root.by_id(f"annotation-{alices_note.id}") is None
    assert "alice private thought" not in html
    assert client.get(f"/annotations/{alices_note.id}", headers=HTMX).status_code == 404


def test_another_user_sees_no_private_notes(client, auth, alices_note):
    auth.login("bob")
    html = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    root = parse(html)
    assert root.find_all("mark") == []
    assert root.by_id(f"annotation-{alices_note.id}") is None
    assert "alice private thought" not in html


@pytest.mark.parametrize(
    "method, suffix, data, status",
    [
        ("get", "", None, 404),  # not even visible
        ("get", "/edit", None, 404),  # so every write answers as for a missing note
        ("post", "/edit", {"body": "bob was here", "colour": "pink"}, 404),
        ("post", "/delete", None, 404),
        ("post", "/restore", None, 404),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_another_users_private_note_is_neither_visible_nor_changeable(
    client, auth, db, alices_note, method, suffix, data, status, htmx
):
    auth.login("bob")
    response = getattr(client, method)(
        f"/annotations/{alices_note.id}{suffix}", data=data, headers=HTMX if htmx else {}
    )
    assert response.status_code == status
    html = response.get_data(as_text=True)
    missing = getattr(client, method)(
        f"/annotations/987654{suffix}", data=data, headers=HTMX if htmx else {}
    )
    assert (missing.status_code, missing.get_data(as_text=True)) == (status, html)
    # Nothing of the note leaks: neither its comment nor its quote.
    assert "alice private thought" not in html
    assert PHRASE not in html
    if htmx:
        assert response.headers["HX-Retarget"] == "#flash"
    stored = fetch_annotation(db, alices_note.id)
    assert (stored.body_markdown, stored.colour) == ("alice private thought", "yellow")
    assert stored.deleted_at is None


def test_another_user_cannot_restore_a_deleted_private_note(client, auth, db, text):
    auth.login("alice")
    annotation = new_annotation(client, db, select(text, PHRASE))
    client.post(f"/annotations/{annotation.id}/delete", headers=HTMX)
    auth.logout()
    auth.login("bob")
    response = client.post(f"/annotations/{annotation.id}/restore", headers=HTMX)
    assert response.status_code == 404
    assert fetch_annotation(db, annotation.id).deleted_at is not None
    assert marks_for(reader_page(client), annotation.id) == []


@pytest.fixture
def class_note(auth, db, seed_document) -> Annotation:
    """A class annotation of alice's that bob, a classmate, can see but not change."""
    alice, bob = auth.create("alice"), auth.create("bob")
    auth.create("carol")  # not in the class
    classroom = Classroom(name="Reading group", join_code="JOIN1234")
    db.session.add(classroom)
    db.session.flush()
    for user in (alice, bob):
        db.session.add(
            Membership(classroom_id=classroom.id, user_id=user.id, role=Role.STUDENT.value)
        )
    version = seed_document.current_version
    start = version.text.index(PHRASE)
    now = utcnow()
    annotation = Annotation(
        document_id=seed_document.id,
        version_id=version.id,
        author_id=alice.id,
        classroom_id=classroom.id,
        start=start,
        end=start + len(PHRASE),
        exact=PHRASE,
        prefix=version.text[start - 32 : start],
        suffix=version.text[start + len(PHRASE) : start + len(PHRASE) + 32],
        body_markdown="class note",
        body_html="<p>class note</p>",
        created_at=now,
        updated_at=now,
    )
    db.session.add(annotation)
    db.session.commit()
    return annotation


@pytest.mark.parametrize("how", ["context", "assigned"])
def test_classmate_sees_a_class_note_without_edit_controls(
    client, auth, db, seed_document, class_note, how
):
    """In the class's context (asked for, or the default once the article is assigned to
    the class) a classmate sees the note, and may reply, vote and flag but not change it."""
    auth.login("bob")
    if how == "assigned":
        assign(db.session, class_note.classroom, seed_document, None)
        db.session.commit()
        root = reader_page(client)
    else:
        assert marks_for(reader_page(client), class_note.id) == []  # "My notes" by default
        response = client.get(f"/articles/{SEED_SLUG}?context=class-{class_note.classroom_id}")
        assert response.status_code == 200
        root = page(response)
    assert [m.text() for m in marks_for(root, class_note.id)] == [PHRASE]
    card = root.by_id(f"annotation-{class_note.id}")
    assert "class note" in card.text()
    targets = [e.get("href") or e.get("action") or "" for e in card.iter()]
    targets += [e.get("hx-get") or e.get("hx-post") or "" for e in card.iter()]
    for suffix in ("/edit", "/delete", "/restore", "/pin", "/hide"):
        assert not [t for t in targets if t.endswith(suffix)], suffix
    assert any(t.endswith(f"/annotations/{class_note.id}/vote") for t in targets)


@pytest.mark.parametrize(
    "method, suffix, data",
    [
        ("get", "/edit", None),
        ("post", "/edit", {"body": "bob was here", "colour": "pink"}),
        ("post", "/delete", None),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_classmate_cannot_edit_or_delete_a_class_note(
    client, auth, db, class_note, method, suffix, data, htmx
):
    auth.login("bob")
    response = getattr(client, method)(
        f"/annotations/{class_note.id}{suffix}", data=data, headers=HTMX if htmx else {}
    )
    assert response.status_code == 403
    assert "Only the author of an annotation can change or delete it." in response.get_data(
        as_text=True
    )
    if htmx:
        assert response.headers["HX-Retarget"] == "#flash"
    stored = fetch_annotation(db, class_note.id)
    assert (stored.body_markdown, stored.colour, stored.deleted_at) == (
        "class note",
        "yellow",
        None,
    )


def test_outsider_does_not_see_a_class_note(client, auth, db, class_note):
    auth.login("carol")
    root = reader_page(client)
    assert marks_for(root, class_note.id) == []
    in_class = client.get(f"/articles/{SEED_SLUG}?context=class-{class_note.classroom_id}")
    assert in_class.status_code == 404
    assert "class note" not in in_class.get_data(as_text=True)
    assert root.by_id(f"annotation-{class_note.id}") is None
    assert client.get(f"/annotations/{class_note.id}", headers=HTMX).status_code == 404
    assert client.post(f"/annotations/{class_note.id}/delete", headers=HTMX).status_code in (
        403,
        404,
    )
    assert fetch_annotation(db, class_note.id).deleted_at is None


def test_author_can_edit_their_class_note(client, auth, db, class_note):
    auth.login("alice")
    response = client.post(
        f"/annotations/{class_note.id}/edit", data={"body": "revised"}, headers=HTMX
    )
    assert response.status_code == 200
    assert fetch_annotation(db, class_note.id).body_markdown == "revised"
