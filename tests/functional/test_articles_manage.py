"""An owner's article: who reads it, the library's shelves, share links, assigning it to a
class, archive and restore, delete for good, the version list."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from tests.conftest import HTMX, SEED_SLUG, session_id_for
from tests.functional.article_helpers import article_titled, owned_article, reload
from tests.functional.helpers import create, page, select
from webapp.extensions import db as _db
from webapp.models import Annotation, Assignment, Classroom, Document, User
from webapp.services.classes import create_class, join_class
from webapp.services.discussion import add_reply

TITLE = "Otters of the Northern Rivers"
SEED_TITLE = "Russian Military Needed in Syria Long Term, Assad Says"


def article_url(document: Document) -> str:
    return f"/articles/{document.slug}"


def user(db, name: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.username == name))
    if found is None:
        found = User(username=name, password_hash="!")
        db.session.add(found)
        db.session.commit()
    return found


def sign_in(client, account: User | None) -> None:
    with client.session_transaction() as session:
        session.clear()
        if account is not None:
            session["_user_id"] = session_id_for(_db, account)
            session["_fresh"] = True


@dataclass
class Assigned:
    owner: User
    student: User
    classroom: Classroom
    document: Document


def assigned_article(db, owner_name: str = "teacher", *students: str) -> Assigned:
    """The owner's article, assigned to their class, which `students` (or "student") joined."""
    owner = user(db, owner_name)
    document = owned_article(db, owner)
    classroom = create_class(db.session, owner, "Biology")
    members = [user(db, name) for name in students or ("student",)]
    for member in members:
        join_class(db.session, member, classroom.join_code)
    db.session.add(Assignment(classroom_id=classroom.id, document_id=document.id))
    db.session.commit()
    return Assigned(owner, members[0], classroom, document)


def shelf_titles(client, shelf: str) -> list[str]:
    root = page(client.get("/"))
    section = root.by_id(f"shelf-{shelf}")
    if section is None:
        return []
    return [a.text() for a in section.find_all("a", class_="article-link")]


def test_a_private_article_is_read_by_its_owner_only(client, db):
    owner, stranger = user(db, "owner"), user(db, "stranger")
    document = owned_article(db, owner)
    urls = [
        article_url(document),
        f"{article_url(document)}/versions",
        f"/api/articles/{document.slug}/annotations",
    ]
    sign_in(client, owner)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get(f"{article_url(document)}/cards", headers=HTMX).status_code == 200
    assert client.get(f"{article_url(document)}/changes?cursor=0", headers=HTMX).status_code in (
        200,
        204,
    )
    for who in (stranger, None):
        sign_in(client, who)
        for url in urls + [f"{article_url(document)}/cards", f"{article_url(document)}/changes"]:
            response = client.get(url, headers=HTMX)
            assert response.status_code == 404, (who, url)
            assert TITLE not in response.get_data(as_text=True)
        # The same answer as for an article that does not exist.
        missing = client.get("/articles/no-such-article").get_data(as_text=True)
        hidden = client.get(article_url(document)).get_data(as_text=True)
        assert hidden.replace(document.slug, "X") == missing.replace("no-such-article", "X")


def test_library_shelves(client, db, seed_document):
    setting = assigned_article(db, "owner")
    owner, student, stranger = setting.owner, setting.student, user(db, "stranger")

    sign_in(client, owner)
    assert shelf_titles(client, "mine") == [TITLE]
    assert shelf_titles(client, "assigned") == [TITLE]
    assert SEED_TITLE in shelf_titles(client, "public") and TITLE not in shelf_titles(
        client, "public"
    )
    sign_in(client, student)
    assert shelf_titles(client, "assigned") == [TITLE]
    assert shelf_titles(client, "mine") == []
    sign_in(client, stranger)
    body = client.get("/").get_data(as_text=True)
    assert TITLE not in body and SEED_TITLE in body
    sign_in(client, None)
    root = page(client.get("/"))
    assert root.by_id("shelf-mine") is None and root.by_id("shelf-assigned") is None
    assert shelf_titles(client, "public") == [SEED_TITLE]


def test_share_link_on_off_and_a_new_link_each_time(client, db, app):
    owner, friend = user(db, "owner"), user(db, "friend")
    document = owned_article(db, owner)
    sign_in(client, owner)
    response = client.post(f"{article_url(document)}/share", data={"on": "1"})
    assert response.status_code == 302
    token = reload(db, document).share_token
    assert token and len(token) >= 24
    manage = page(client.get(f"{article_url(document)}/manage"))
    assert manage.by_id("share-url").get("value").endswith(f"/shared/{token}")

    other = app.test_client()
    assert other.get(article_url(document)).status_code == 404
    opened = other.get(f"/shared/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == article_url(document)
    assert other.get(article_url(document)).status_code == 200  # anonymous, holding the link
    assert other.get(f"{article_url(document)}/cards", headers=HTMX).status_code == 200
    sign_in(other, friend)  # a fresh session: the link must be opened again
    assert other.get(article_url(document)).status_code == 404
    other.get(f"/shared/{token}")
    assert other.get(article_url(document)).status_code == 200
    # The friend annotates through the link.
    text = document.current_version.text
    assert create(other, select(text, "quiet rivers"), slug=document.slug).status_code == 200

    client.post(f"{article_url(document)}/share", data={"on": "0"})
    assert reload(db, document).share_token is None
    assert other.get(article_url(document)).status_code == 404
    assert other.get(f"/shared/{token}").status_code == 404
    client.post(f"{article_url(document)}/share", data={"on": "1"})
    new_token = reload(db, document).share_token
    assert new_token and new_token != token
    assert other.get(f"/shared/{token}").status_code == 404
    assert other.get(article_url(document)).status_code == 404


def test_only_the_owner_manages(client, db, app):
    setting = assigned_article(db, "owner")
    owner, student, document = setting.owner, setting.student, setting.document
    stranger = user(db, "stranger")
    posts = ("share", "archive", "restore", "delete", "assign")
    sign_in(client, student)  # reads it, does not own it: 403
    assert client.get(f"{article_url(document)}/manage").status_code == 403
    assert client.get(f"{article_url(document)}/edit").status_code == 403
    for action in posts:
        response = client.post(f"{article_url(document)}/{action}", data={"on": "1"})
        assert response.status_code == 403, action
    sign_in(client, stranger)  # does not read it: 404
    for action in posts:
        assert client.post(f"{article_url(document)}/{action}").status_code == 404, action
    assert client.get(f"{article_url(document)}/manage").status_code == 404
    sign_in(client, None)
    assert client.post(f"{article_url(document)}/archive").status_code == 401
    assert reload(db, document).archived_at is None
    assert reload(db, document).share_token is None
    # A public article has no owner to manage it in the browser.
    sign_in(client, owner)
    assert client.get(f"/articles/{SEED_SLUG}/manage").status_code == 403


def test_assign_right_away_with_a_due_date(client, db):
    owner, student = user(db, "teacher"), user(db, "student")
    document = owned_article(db, owner)
    classroom = create_class(db.session, owner, "Biology")
    join_class(db.session, student, classroom.join_code)
    db.session.commit()
    sign_in(client, student)
    assert client.get(article_url(document)).status_code == 404

    sign_in(client, owner)
    reader = page(client.get(article_url(document)))
    tools = reader.find("nav", class_="owner-tools")
    assign_link = [a for a in tools.find_all("a") if a.text() == "Assign to a class"][0]
    assert assign_link.get("href") == f"{article_url(document)}/manage#assign"
    form = page(client.get(assign_link.get("href"))).by_id("assign-form")
    options = [o.text() for o in form.find_all("option")]
    assert options == ["Biology"]
    response = client.post(
        f"{article_url(document)}/assign",
        data={"classroom_id": str(classroom.id), "due": "2030-05-01"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage#assign")
    assignment = db.session.scalar(sa.select(Assignment))
    assert assignment.document_id == document.id and assignment.due_at.date().isoformat() == (
        "2030-05-01"
    )
    sign_in(client, student)
    assert client.get(article_url(document)).status_code == 200
    assert shelf_titles(client, "assigned") == [TITLE]


def test_assign_refuses_classes_one_does_not_teach_and_bad_dates(client, db):
    owner, other = user(db, "teacher"), user(db, "other")
    document = owned_article(db, owner)
    theirs = create_class(db.session, other, "Theirs")
    join_class(db.session, owner, theirs.join_code)  # a student there
    mine = create_class(db.session, owner, "Mine")
    db.session.commit()
    sign_in(client, owner)
    for data in (
        {"classroom_id": str(theirs.id)},
        {"classroom_id": "999999"},
        {"classroom_id": "x"},
        {},
        {"classroom_id": str(mine.id), "due": "next tuesday"},
    ):
        response = client.post(f"{article_url(document)}/assign", data=data)
        assert response.status_code == 400, data
        alert = page(response).find(None, role="alert")
        assert alert is not None and alert.text().strip(), data
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_class_page_offers_public_and_own_articles_only(client, db, seed_document):
    owner, other = user(db, "teacher"), user(db, "other")
    mine = owned_article(db, owner, article_titled("Mine to assign"), "mine")
    theirs = owned_article(db, other, article_titled("Not yours"), "theirs")
    classroom = create_class(db.session, owner, "Biology")
    db.session.commit()
    sign_in(client, owner)
    class_page = page(client.get(f"/classes/{classroom.id}"))
    form = class_page.find("form", class_="stack-form assign-form")
    titles = [o.text() for o in form.find_all("option")]
    assert "Mine to assign" in titles and SEED_TITLE in titles and "Not yours" not in titles
    response = client.post(
        f"/classes/{classroom.id}/assignments", data={"document_id": str(theirs.id)}
    )
    assert response.status_code == 400
    assert "Not yours" not in response.get_data(as_text=True)
    assert (
        client.post(
            f"/classes/{classroom.id}/assignments", data={"document_id": str(mine.id)}
        ).status_code
        == 302
    )


def test_archive_and_restore(client, db):
    setting = assigned_article(db, "teacher", "student", "classmate")
    owner, student, classroom, document = (
        setting.owner,
        setting.student,
        setting.classroom,
        setting.document,
    )
    classmate = user(db, "classmate")
    text = document.current_version.text
    sign_in(client, student)
    note = create(
        client,
        {**select(text, "quiet rivers"), "body": "Student's thought", "intent": "comment"},
        slug=document.slug,
        audience=f"class-{classroom.id}",
    )
    assert note.status_code == 200
    note_id = db.session.scalar(sa.select(Annotation.id))

    sign_in(client, owner)
    assert client.post(f"{article_url(document)}/archive").status_code == 302
    assert reload(db, document).archived_at is not None
    assert shelf_titles(client, "mine") == [] and shelf_titles(client, "assigned") == []
    assert shelf_titles(client, "archived") == [TITLE]
    reader = page(client.get(article_url(document)))
    assert reader.find("p", class_="archived-note") is not None
    assert reader.find("input", name="start") is None  # no toolbar fields
    class_page = client.get(f"/classes/{classroom.id}").get_data(as_text=True)
    assert TITLE not in class_page

    # The student's note stays readable and exportable by its author.
    sign_in(client, student)
    assert shelf_titles(client, "assigned") == []
    reader = client.get(f"{article_url(document)}?context=class-{classroom.id}")
    assert reader.status_code == 200 and "Student's thought" in reader.get_data(as_text=True)
    assert client.get(f"/api/annotations/{note_id}").status_code == 200
    export = client.get(f"/api/articles/{document.slug}/annotations").get_json()
    assert "Student's thought" in str(export)
    refused = create(client, select(text, "dusk"), slug=document.slug)
    assert refused.status_code == 409 and "archived" in refused.get_data(as_text=True)
    # A classmate who never annotated it no longer reads it.
    sign_in(client, classmate)
    assert client.get(article_url(document)).status_code == 404
    assert client.get(f"/api/annotations/{note_id}").status_code == 404
    # Restored: back in the libraries, annotatable again.
    sign_in(client, owner)
    assert client.post(f"{article_url(document)}/restore").status_code == 302
    assert shelf_titles(client, "mine") == [TITLE]
    sign_in(client, classmate)
    assert client.get(article_url(document)).status_code == 200
    assert create(client, select(text, "dusk"), slug=document.slug).status_code == 200


def test_delete_for_good_only_while_no_one_else_annotated(client, db):
    setting = assigned_article(db)
    owner, student, classroom, document = (
        setting.owner,
        setting.student,
        setting.classroom,
        setting.document,
    )
    text = document.current_version.text
    sign_in(client, owner)
    own = create(
        client,
        {**select(text, "quiet rivers"), "body": "Mine", "intent": "comment"},
        slug=document.slug,
        audience=f"class-{classroom.id}",
    )
    assert own.status_code == 200
    owners_note = db.session.scalar(sa.select(Annotation))
    sign_in(client, student)
    add_reply(db.session, student, owners_note, "A student's reply", None)
    db.session.commit()

    sign_in(client, owner)
    confirm = page(client.get(f"{article_url(document)}/delete"))
    assert confirm.find(None, role="alert") is not None
    refused = client.post(f"{article_url(document)}/delete")
    assert refused.status_code == 409
    assert "cannot be deleted" in page(refused).find(None, role="alert").text()
    assert reload(db, document) is not None

    # Without the reply (only the owner's note), it goes, with its notes and versions.
    db.session.execute(sa.text("DELETE FROM replies"))
    db.session.commit()
    confirm = page(client.get(f"{article_url(document)}/delete"))
    assert confirm.find("form", action=f"{article_url(document)}/delete") is not None
    response = client.post(f"{article_url(document)}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert reload(db, document) is None
    assert db.session.scalar(sa.select(sa.func.count(Annotation.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    assert client.get(article_url(document)).status_code == 404


def test_notes_on_an_article_one_can_no_longer_read_are_not_shown(client, db):
    """Unassigned: the class's members lose the article, and with it the notes on it."""
    setting = assigned_article(db)
    student, document = setting.student, setting.document
    sign_in(client, student)
    text = document.current_version.text
    create(client, select(text, "quiet rivers"), slug=document.slug)
    note_id = db.session.scalar(sa.select(Annotation.id))
    assert client.get(f"/api/annotations/{note_id}").status_code == 200
    db.session.execute(sa.delete(Assignment))
    db.session.commit()
    for url in (f"/api/annotations/{note_id}", f"/annotations/{note_id}"):
        assert client.get(url, headers=HTMX).status_code == 404, url
    assert client.post(f"/annotations/{note_id}/edit", data={"body": "x"}).status_code == 404


def test_versions_page_lists_who_changed_what_and_when(client, db):
    owner = user(db, "owner")
    document = owned_article(db, owner)
    version = document.current_version
    version.created_by_id = owner.id
    version.summary = "Added in the browser from pasted text"
    db.session.commit()
    sign_in(client, owner)
    root = page(client.get(f"{article_url(document)}/versions"))
    item = root.by_id("version-1")
    assert "Version 1" in item.text() and "(current)" in item.text()
    assert item.find("span", class_="version-author").text() == "owner"
    assert item.find(None, class_="version-summary").text() == version.summary
    assert re.match(r"\d{4}-\d\d-\d\dT", item.find("time").get("datetime"))
    assert client.get(f"/articles/{SEED_SLUG}/versions").status_code == 200
