"""Exports of notes on an article: Markdown (quote, comment, tags, where, link, replies),
the printable annotated article (highlights with note numbers, the notes after the text),
and the W3C JSON-LD export's tags, replies, questions and class, checked against the W3C
schemas. Who sees what in them is in the access matrix; here, what they hold."""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import re

import sqlalchemy as sa
from markdown_it import MarkdownIt

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import page, parse
from tests.functional.test_api import (
    ANNOTATION_MUSTS,
    COLLECTION_MUSTS,
    MOTIVATION,
    PAGE_MUSTS,
    must_failures,
    validates,
)
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    FIRST,
    SECOND,
    THIRD,
    as_,
    body_of,
    class_note,
    note,
    post,
    reply,
    room,
    text,
)
from webapp.models import Reply

ARTICLE = f"/articles/{SEED_SLUG}"
AUDIENCE = "annotations/3.3.3-annotationAudienceImplemented.json"


def markdown(client, **query) -> str:
    response = client.get(f"{ARTICLE}/notes.md", query_string=query)
    assert response.status_code == 200, body_of(response)
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return body_of(response)


def last_reply(db) -> Reply:
    db.session.expire_all()
    return db.session.scalar(sa.select(Reply).order_by(Reply.id.desc()).limit(1))


def test_markdown_holds_my_notes_in_order_with_their_replies(as_, db, room, text):
    ann = as_("ann")
    later = note(ann, db, text, THIRD, "private", body="Private *thought* on the region.")
    first = note(
        ann,
        db,
        text,
        FIRST,
        room.key,
        body="Why **long term**?",
        tags="bases policy",
        question="on",
    )
    note(as_("ben"), db, text, SECOND, room.key, body="Ben's note, not ann's")
    reply(as_("ben"), first, "Because of the base.")
    reply(as_("teacher"), first, "See [the treaty](https://example.org/t).", parent=last_reply(db))

    doc = markdown(ann)
    assert doc.startswith("# Notes on “Russian Military Needed in Syria")
    assert f"Article: <http://localhost{ARTICLE}>" in doc
    assert "My notes: 2 notes, exported by ann" in doc
    assert "Ben's note" not in doc
    one, two = doc.split("## Note ")[1:]
    assert one.startswith("1\n") and two.startswith("2\n")  # document order
    assert f"> {FIRST}" in one and "Why **long term**?" in one
    assert "Tags: #bases #policy" in one and "Question, not answered yet" in one
    assert f"By ann · {room.classroom.name} ·" in one
    assert f"(http://localhost{ARTICLE}?context={room.key}#annotation-{first.id})" in one
    assert "### Replies to note 1" in one
    assert "> **ben** ·" in one and "> Because of the base." in one
    assert ">> **teacher** ·" in one.replace("> > ", ">> ")  # a reply to a reply nests deeper
    assert "See [the treaty](https://example.org/t)." in one
    assert "Private *thought* on the region." in two and "By ann · Only me ·" in two
    assert f"?context=private#annotation-{later.id}" in two
    # It is Markdown: the quote renders as the article's words, the comments as comments.
    html = MarkdownIt().render(doc)
    assert "<strong>long term</strong>" in html and '<a href="https://example.org/t">' in html


def test_markdown_of_a_class_context_holds_its_notes_by_everyone(as_, db, room, class_note):
    note(as_("ben"), db, text_of(db), SECOND, room.key, body="Ben's class note")
    note(as_("ben"), db, text_of(db), THIRD, "private", body="Ben's private note")
    doc = markdown(as_("ann"), context=room.key)
    assert f"Notes in {room.classroom.name}: 2 notes" in doc
    assert "Why *long term*?" in doc and "Ben's class note" in doc
    assert "Ben's private note" not in doc


def text_of(db) -> str:
    from tests.functional.helpers import current_version

    return current_version(db).text


def test_exports_of_a_context_one_may_not_read_are_404_and_need_a_login(as_, room, client):
    for path in ("notes.md", "annotated"):
        assert as_("carl").get(f"{ARTICLE}/{path}?context={room.key}").status_code == 404
        assert as_("carl").get(f"{ARTICLE}/{path}?context=nonsense").status_code == 404
        assert as_("carl").get(f"/articles/no-such-article/{path}").status_code == 404
        response = client.get(f"{ARTICLE}/{path}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_printable_article_numbers_the_notes_at_their_passages(as_, db, room, text):
    ann = as_("ann")
    second = note(ann, db, text, SECOND, "private", body="Second in the text")
    first = note(ann, db, text, FIRST, room.key, body="First *in* the text", tags="bases")
    reply(as_("ben"), first, "Ben answers.")
    response = ann.get(f"{ARTICLE}/annotated")
    assert response.status_code == 200
    root = page(response)
    body = root.find("article", class_="annotated-body article-body")
    marks = body.find_all("mark")
    assert {m.text() for m in marks} == {FIRST, SECOND}
    refs = [sup.text() for sup in body.find_all("sup")]
    assert refs == ["1", "2"]
    # Each number sits right after its passage, and links to its note.
    html = body_of(response)
    assert re.search(
        rf"{re.escape(FIRST)}</mark>(</\w+>)*<sup class=\"note-ref\"><a href=\"#note-1\"", html
    )
    notes = root.find("ol", class_="annotated-note-list").top_level()
    assert [n.id for n in notes] == ["note-1", "note-2"]
    assert "First in the text" in notes[0].text() and "#bases" in notes[0].text()
    assert "Ben answers." in notes[0].text()
    assert "Second in the text" in notes[1].text() and "Only me" in notes[1].text()
    assert second.id and first.id
    # Printing hides the site's chrome; the article is in <main>, labelled.
    assert root.find("header", class_="site-header") is not None
    assert body.get("aria-labelledby") == "annotated-title"


def test_the_instructors_printable_article_of_a_class_shows_every_note(as_, db, room, class_note):
    hidden = note(as_("ben"), db, text_of(db), SECOND, room.key, body="Off topic remark")
    post(as_("teacher"), f"/annotations/{hidden.id}/hide", hidden="1", reason="Off topic")
    teacher = page(as_("teacher").get(f"{ARTICLE}/annotated?context={room.key}"))
    notes = teacher.find("ol", class_="annotated-note-list").top_level()
    assert len(notes) == 2
    assert "Hidden from the class by an instructor" in notes[1].text()
    # A student of the class sees what the class sees: not ben's hidden note.
    student = body_of(as_("ann").get(f"{ARTICLE}/annotated?context={room.key}"))
    assert "Off topic remark" not in student and "Why <em>long term</em>?" in student
    # The class page links instructors to it.
    link = f"{ARTICLE}/annotated?context={room.key}"
    assert page(as_("teacher").get(f"/classes/{room.classroom.id}")).find("a", href=link)


def test_the_printable_article_block_renders_alone_for_htmx(as_, room, class_note):
    response = as_("ann").get(f"{ARTICLE}/annotated", headers=HTMX)
    assert response.status_code == 200 and "<html" not in body_of(response)
    assert parse(body_of(response)).find("sup", class_="note-ref") is not None


# --- W3C JSON-LD ------------------------------------------------------------------------------


def fetch(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, body_of(response)
    return response.get_json(force=True)


def test_w3c_export_carries_tags_questions_replies_and_the_class(as_, db, room, text):
    ann = as_("ann")
    question = note(
        ann, db, text, FIRST, room.key, body="Needed by whom?", tags="bases policy", question="on"
    )
    tagged = note(ann, db, text, SECOND, "private", tags="later")
    reply(as_("ben"), question, "By the government.")
    bens = last_reply(db)
    reply(as_("teacher"), question, "Ben is right.", parent=bens)
    teachers = last_reply(db)

    doc = fetch(ann, f"/api/annotations/{question.id}")
    assert must_failures(doc) == [] and validates(doc, MOTIVATION) and validates(doc, AUDIENCE)
    assert doc["motivation"] == "questioning"
    assert doc["body"] == [
        {
            "type": "TextualBody",
            "value": "Needed by whom?",
            "format": "text/markdown",
            "purpose": "questioning",
        },
        {"type": "TextualBody", "purpose": "tagging", "value": "bases"},
        {"type": "TextualBody", "purpose": "tagging", "value": "policy"},
    ]
    assert doc["audience"] == {
        "id": f"http://localhost/classes/{room.classroom.id}",
        "type": "schema:EducationalAudience",
        "schema:name": room.classroom.name,
    }
    private = fetch(ann, f"/api/annotations/{tagged.id}")
    assert must_failures(private) == [] and "audience" not in private
    assert private["motivation"] == "tagging"
    assert private["body"] == {"type": "TextualBody", "purpose": "tagging", "value": "later"}

    answer = fetch(ann, f"/api/replies/{bens.id}")
    assert must_failures(answer) == [] and validates(answer, MOTIVATION)
    assert answer["id"] == f"http://localhost/api/replies/{bens.id}"
    assert answer["motivation"] == "replying"
    assert answer["target"] == f"http://localhost/api/annotations/{question.id}"
    assert answer["creator"] == {"type": "Person", "nickname": "ben"}
    assert answer["body"]["value"] == "By the government."
    nested = fetch(ann, f"/api/replies/{teachers.id}")
    assert nested["target"] == answer["id"]  # a reply to a reply targets that reply

    collection = fetch(ann, f"/api/articles/{SEED_SLUG}/annotations")
    assert must_failures(collection, COLLECTION_MUSTS) == []
    assert must_failures(collection, PAGE_MUSTS) == []
    items = collection["first"]["items"]
    assert [i["id"].rpartition("/api/")[2] for i in items] == [
        f"annotations/{question.id}",
        f"replies/{bens.id}",
        f"replies/{teachers.id}",
        f"annotations/{tagged.id}",
    ]
    assert collection["total"] == 4
    for item in items:
        standalone = {"@context": collection["@context"], **item}
        assert must_failures(standalone, ANNOTATION_MUSTS) == []
        assert standalone == fetch(ann, item["id"].removeprefix("http://localhost"))


def test_a_reply_to_a_hidden_reply_targets_the_note_for_those_who_cannot_see_it(
    as_, db, room, class_note
):
    reply(as_("ben"), class_note, "Rude.")
    rude = last_reply(db)
    reply(as_("teacher"), class_note, "Please keep it civil.", parent=rude)
    answer = last_reply(db)
    post(as_("teacher"), f"/replies/{rude.id}/hide", hidden="1")
    seen_by_ann = fetch(as_("ann"), f"/api/replies/{answer.id}")
    assert seen_by_ann["target"] == f"http://localhost/api/annotations/{class_note.id}"
    assert as_("ann").get(f"/api/replies/{rude.id}").status_code == 404
    collection = body_of(as_("ann").get(f"/api/articles/{SEED_SLUG}/annotations"))
    assert f"/api/replies/{rude.id}" not in collection
    seen_by_teacher = fetch(as_("teacher"), f"/api/replies/{answer.id}")
    assert seen_by_teacher["target"] == f"http://localhost/api/replies/{rude.id}"
    assert as_("carl").get(f"/api/replies/{answer.id}").status_code == 404
