"""Editing an article: a new version, reviewed first (what happens to the notes on it: kept,
moved, orphaned with their quotes, coming back), confirmed or cancelled; the version list;
replacing the text by an upload or by fetching its address again; bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.functional.article_helpers import owned_article
from tests.functional.helpers import create, page, select
from tests.functional.test_articles_new import multipart
from tests.samples import ARTICLE_HTML, docx, html_page, png
from tests.site import LocalSite
from webapp.models import Annotation, Assignment, Document, DocumentVersion
from webapp.services.classes import create_class, join_class
from webapp.services.documents import import_article

P1 = "Otters build their dens in the banks of quiet rivers and come out at dusk."
P2 = "Beavers, their neighbours, build dams that turn a stream into a pond."
P3 = "A third paragraph closes the article with a remark about kingfishers."
NEW = "A new first paragraph moves everything that follows it further down."


@pytest.fixture
def app_config():
    return {"FETCH_ALLOWED_HOSTS": frozenset({"127.0.0.1"}), "FETCH_TIMEOUT": 2}


@pytest.fixture
def setting(client, db, auth):
    """The owner's article, assigned to their class, with a student's three notes on it."""
    student = auth.login("student")
    owner = auth.login("owner")
    document = owned_article(db, owner)
    classroom = create_class(db.session, owner, "Biology")
    join_class(db.session, student, classroom.join_code)
    db.session.add(Assignment(classroom_id=classroom.id, document_id=document.id))
    db.session.commit()
    auth.login("student")
    text = document.current_version.text
    for phrase in ("quiet rivers", "build dams", "kingfishers"):
        fields = {**select(text, phrase), "body": f"On {phrase}", "intent": "comment"}
        response = create(client, fields, slug=document.slug, audience=f"class-{classroom.id}")
        assert response.status_code == 200
    auth.login("owner")
    return document, owner


def notes(db) -> dict[str, Annotation]:
    db.session.expire_all()
    return {a.original_exact: a for a in db.session.scalars(sa.select(Annotation))}


def versions(db, document) -> list[DocumentVersion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number)
        )
    )


def edit(client, document, **data):
    url = f"/articles/{document.slug}/edit"
    if any(isinstance(value, tuple) for value in data.values()):
        body, content_type = multipart(**data)
        return client.post(url, data=body, content_type=content_type)
    return client.post(url, data=data)


def metadata(**changes) -> dict[str, str]:
    return {
        "details": "exact",
        "title": "Otters of the Northern Rivers",
        "byline": "Ada Writer",
        "date": "March 3, 2024",
        "source_url": "",
        **changes,
    }


def review(client, document, text: str, **changes):
    return edit(client, document, way="edit", text=text, preview="1", **metadata(**changes))


def token_of(response) -> str:
    return page(response).find("input", name="draft").get("value")


def count(root, key: str) -> int:
    return int(root.by_id(f"impact-{key}").find("strong").text())


def test_the_edit_form_holds_the_markdown_and_the_details(client, setting):
    document, _ = setting
    root = page(client.get(f"/articles/{document.slug}/edit"))
    assert root.find("textarea", name="text").text().strip().startswith("Otters build")
    assert root.find("input", name="title").get("value") == "Otters of the Northern Rivers"
    assert root.find("input", name="byline").get("value") == "Ada Writer"
    assert [r.get("value") for r in root.find_all("input", name="way")] == ["edit", "file"]
    assert root.find("label", **{"for": "article-text"}) is not None


def test_review_shows_what_happens_and_changes_nothing(client, db, setting):
    document, _ = setting
    before = {q: (a.start, a.end, a.version_id) for q, a in notes(db).items()}
    response = review(client, document, f"{NEW}\n\n{P1}\n\n{P3}\n")
    assert response.status_code == 200
    root = page(response)
    assert (count(root, "kept"), count(root, "moved"), count(root, "orphaned")) == (0, 2, 1)
    orphaned = [li.text() for li in root.by_id("orphaned-quotes").find_all("li")]
    assert orphaned == ["“build dams”"]
    assert NEW in root.by_id("preview-body").text()
    assert root.find("button", name="confirm").text() == "Save version 2"
    # A dry run: nothing moved, no version yet.
    assert {q: (a.start, a.end, a.version_id) for q, a in notes(db).items()} == before
    assert len(versions(db, document)) == 1


def test_confirm_saves_the_version_the_review_showed(client, db, setting):
    document, owner = setting
    token = token_of(review(client, document, f"{NEW}\n\n{P1}\n\n{P3}\n"))
    response = edit(client, document, draft=token, confirm="1", **metadata())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/{document.slug}"
    first, second = versions(db, document)
    assert second.number == 2 and second.created_by_id == owner.id
    assert second.summary.startswith("Edited in the browser: ")
    assert "1 added" in second.summary and "1 removed" in second.summary
    found = notes(db)
    for phrase in ("quiet rivers", "kingfishers"):
        note = found[phrase]
        assert note.version_id == second.id
        assert second.text[note.start : note.end] == phrase
    orphan = found["build dams"]
    assert orphan.version_id is None and orphan.original_exact == "build dams"
    # The version list says who changed what and when.
    root = page(client.get(f"/articles/{document.slug}/versions"))
    assert root.by_id("version-2").find("span", class_="version-author").text() == "owner"
    assert second.summary in root.by_id("version-2").text()
    assert "imported" in root.by_id("version-1").text()


def test_an_orphan_comes_back_when_its_text_does(client, db, setting):
    document, _ = setting
    token = token_of(review(client, document, f"{P1}\n\n{P3}\n"))
    edit(client, document, draft=token, confirm="1", **metadata())
    assert notes(db)["build dams"].is_orphan
    reworded = P2.replace("turn a stream", "change a brook")
    root = page(review(client, document, f"{P1}\n\n{reworded}\n\n{P3}\n"))
    assert count(root, "reattached") == 1
    assert [li.text() for li in root.by_id("reattached-quotes").find_all("li")] == ["“build dams”"]
    edit(client, document, draft=root.find("input", name="draft").get("value"), confirm="1")
    note = notes(db)["build dams"]
    version = versions(db, document)[-1]
    assert note.version_id == version.id and version.text[note.start : note.end] == "build dams"
    reader = client.get(f"/articles/{document.slug}").get_data(as_text=True)
    assert f'<mark data-at="{note.start}"' in reader


def test_a_quote_moved_fuzzily_keeps_the_quote_it_was_made_on(client, db, setting):
    document, _ = setting
    changed = P1.replace("quiet rivers", "quiet, slow rivers")
    token = token_of(review(client, document, f"{changed}\n\n{P2}\n\n{P3}\n"))
    edit(client, document, draft=token, confirm="1", **metadata())
    note = notes(db)["quiet rivers"]
    assert note.exact != "quiet rivers" and "rivers" in note.exact
    assert note.original_exact == "quiet rivers"


def test_cancel_and_back_change_nothing(client, db, setting):
    document, _ = setting
    edited = f"{NEW}\n\n{P1}\n"
    token = token_of(review(client, document, edited))
    back = edit(client, document, draft=token, back="1", **metadata(title="Kept Title"))
    root = page(back)
    assert back.status_code == 200
    assert root.find("textarea", name="text").text() == edited
    assert root.find("input", name="title").get("value") == "Kept Title"
    links = page(client.get(f"/articles/{document.slug}/edit")).find_all("a")
    cancel = [a for a in links if a.text() == "Cancel"]
    assert cancel and cancel[0].get("href") == f"/articles/{document.slug}"
    assert len(versions(db, document)) == 1
    assert all(not a.is_orphan for a in notes(db).values())


def test_a_change_between_review_and_confirm_is_caught(client, db, setting):
    document, _ = setting
    token = token_of(review(client, document, f"{NEW}\n\n{P1}\n"))
    # Meanwhile the article gets a new version (here from the command line's importer).
    source = f"# Otters of the Northern Rivers\n\n{P1}\n\n{P2}\n"
    import_article(db.session, source, document.source_name)
    db.session.commit()
    response = edit(client, document, draft=token, confirm="1", **metadata())
    assert response.status_code == 409
    alert = page(response).find(None, role="alert")
    assert "changed since you started" in alert.text()
    assert len(versions(db, document)) == 2


def test_nothing_changed_makes_no_version(client, db, setting):
    document, _ = setting
    text = document.current_version.body_markdown
    token = token_of(review(client, document, text))
    response = edit(client, document, draft=token, confirm="1", **metadata())
    assert response.status_code == 302
    assert len(versions(db, document)) == 1
    assert "Nothing changed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_title_change_alone_is_a_version(client, db, setting):
    document, _ = setting
    text = document.current_version.body_markdown
    token = token_of(review(client, document, text, title="Otters, Revised"))
    edit(client, document, draft=token, confirm="1", **metadata(title="Otters, Revised"))
    latest = versions(db, document)[-1]
    assert latest.title == "Otters, Revised"
    assert latest.summary == "Edited in the browser: title changed"


@pytest.mark.parametrize(
    "data, status, field_name, words",
    [
        ({"way": "edit", "text": "   "}, 422, "text", "empty"),
        ({"way": "edit", "text": "x" * 300_001}, 413, "text", "300,000"),
        ({"way": "edit", "text": P1, "title": ""}, 422, "title", "no title"),
        ({"way": "file"}, 400, "file", "choose"),
    ],
)
def test_bad_edits_are_answered_in_the_form(client, db, setting, data, status, field_name, words):
    document, _ = setting
    response = edit(client, document, preview="1", **{**metadata(), **data})
    assert response.status_code == status
    root = page(response)
    alert = root.find(None, role="alert")
    assert words in alert.text().lower()
    assert root.by_id("article-form") is not None
    assert len(versions(db, document)) == 1


def test_replace_by_an_upload(client, db, setting):
    document, _ = setting
    source = f"# Otters of the Northern Rivers\n\n{P1}\n\n{P3}\n"
    response = edit(
        client, document, way="file", file=(source.encode(), "otters-v2.md"), preview="1"
    )
    assert response.status_code == 200
    root = page(response)
    assert count(root, "orphaned") == 1 and count(root, "kept") == 1
    edit(client, document, draft=token_of(response), confirm="1", **metadata())
    latest = versions(db, document)[-1]
    assert latest.summary.startswith("Replaced by the file otters-v2.md: ")


def test_fetch_the_address_again(client, db, auth):
    owner = auth.login("owner")
    with LocalSite() as site:
        site.page("/story", html_page(ARTICLE_HTML))
        url = site.url("/story")
        response = client.post("/articles/new", data={"url": url, "source_url": url})
        assert response.status_code == 302
        slug = response.headers["Location"].rsplit("/", 1)[1]
        root = page(client.get(f"/articles/{slug}/edit"))
        assert [r.get("value") for r in root.find_all("input", name="way")] == [
            "edit",
            "file",
            "url",
        ]
        assert root.find("input", name="url").get("value") == url
        site.page("/story", html_page(ARTICLE_HTML + "<p>A paragraph added on the site.</p>"))
        response = client.post(
            f"/articles/{slug}/edit", data={"way": "url", "url": url, "preview": "1"}
        )
        assert response.status_code == 200, page(response).text()[:300]
        assert "A paragraph added on the site." in page(response).by_id("preview-body").text()
        token = token_of(response)
        response = client.post(f"/articles/{slug}/edit", data={"draft": token, "confirm": "1"})
        assert response.status_code == 302
    db.session.expire_all()
    latest = db.session.scalar(
        sa.select(DocumentVersion)
        .join(Document, Document.current_version_id == DocumentVersion.id)
        .where(Document.slug == slug)
    )
    assert latest.number == 2 and latest.summary.startswith(f"Fetched again from {url}")
    assert latest.created_by_id == owner.id


def test_images_stay_when_the_text_is_edited(client, db, auth):
    auth.login("owner")
    image = png(6, 6, (250, 120, 0))
    body, content_type = multipart(way="file", file=(docx(image=image), "notes.docx"))
    response = client.post("/articles/new", data=body, content_type=content_type)
    assert response.status_code == 302
    slug = response.headers["Location"].rsplit("/", 1)[1]
    root = page(client.get(f"/articles/{slug}/edit"))
    text = root.find("textarea", name="text").text()
    assert "](asset:" in text or "/media/" in text
    fields = {
        name: root.find("input", name=name).get("value") or ""
        for name in ("title", "byline", "date", "source_url")
    }
    response = client.post(
        f"/articles/{slug}/edit",
        data={"way": "edit", "text": text + "\nOne more paragraph.\n", "preview": "1", **fields},
    )
    assert response.status_code == 200
    assert page(response).by_id("preview-body").find("img") is not None
    client.post(f"/articles/{slug}/edit", data={"draft": token_of(response), "confirm": "1"})
    reader = page(client.get(f"/articles/{slug}"))
    assert "One more paragraph." in reader.text()
    assert reader.find("img").get("src").startswith("/media/")


def test_only_the_owner_edits(client, db, setting, auth):
    document, _ = setting
    auth.login("student")
    assert client.get(f"/articles/{document.slug}/edit").status_code == 403
    response = review(client, document, f"{NEW}\n\n{P1}\n")
    assert response.status_code == 403
    assert len(versions(db, document)) == 1


def test_the_command_line_reattaches_orphans_too(db, runner, tmp_path, auth):
    from webapp.services.annotations import create_annotation

    path = tmp_path / "otters.md"
    path.write_text(f"# Otters\n\n{P1}\n\n{P2}\n", encoding="utf-8")
    assert runner.invoke(args=["import-article", str(path)]).exit_code == 0
    document = db.session.scalar(sa.select(Document).where(Document.source_name == "otters.md"))
    reader = auth.create("reader")
    version = document.current_version
    create_annotation(db.session, reader, version, select(version.text, "build dams"))
    db.session.commit()
    path.write_text(f"# Otters\n\n{P1}\n", encoding="utf-8")
    result = runner.invoke(args=["import-article", str(path)])
    assert "orphaned 1" in result.output
    assert notes(db)["build dams"].is_orphan
    path.write_text(f"# Otters\n\n{P1}\n\n{P2}\n\n{P3}\n", encoding="utf-8")
    runner.invoke(args=["import-article", str(path)])
    note = notes(db)["build dams"]
    latest = versions(db, document)[-1]
    assert note.version_id == latest.id and latest.text[note.start : note.end] == "build dams"


def test_a_huge_upload_to_the_edit_form(client, db, setting, auth):
    document, _ = setting
    data = b"a" * (22 * 1024 * 1024)
    response = edit(client, document, way="file", file=(data, "huge.md"), preview="1")
    assert response.status_code == 413
    root = page(response)
    assert "20 MB" in root.find(None, role="alert").text() and root.by_id("article-form")
    auth.login("stranger")
    response = edit(client, document, way="file", file=(data, "huge.md"), preview="1")
    assert response.status_code == 404
    assert len(versions(db, document)) == 1
