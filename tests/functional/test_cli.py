"""The command line: import-article (idempotent, new versions, re-anchoring, orphans, refusals)
and create-user."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.functional.helpers import (
    annotation_count,
    create,
    fetch_annotation,
    latest_annotation,
    marks_for,
    page,
    select,
)
from webapp.models import Document, DocumentVersion, User

TITLE = "القراءة البطيئة في عصر السرعة 📚"
CAPTION = "صورة: مكتبة الإسكندرية"
PARAGRAPH_1 = "يقول الباحثون إن القراءة البطيئة 👏🏽 تساعد على الفهم العميق للنصوص الطويلة."
PARAGRAPH_2 = "وفي تجربة صغيرة، قرأ الطلاب مقالاً عن تاريخ الخط 𝔐 ثم كتبوا ملاحظاتهم."
PARAGRAPH_3 = "أما الزرافة البنفسجية فقد غنّت نشيداً طويلاً عن القمر والنجوم 🦒🎶 طوال الليل."
NEW_PARAGRAPH = "فقرة جديدة أضيفت في أول المقال لتغيير المواضع كلها."
SOURCE = "https://example.com/ar/slow-reading"


def article_source(*paragraphs: str, title: str = TITLE) -> str:
    body = "\n\n".join(paragraphs)
    return (
        f"\n\n# {title}\n\nBy [مراسل الثقافة](#)\n\nJuly 27, 2018\n\n\n\n**{CAPTION}**\n\n"
        f"{body}\n\nOriginal url:\n\n<{SOURCE}>\n"
    )


@pytest.fixture
def article_file(tmp_path) -> Path:
    path = tmp_path / "slow-reading-ar.md"
    path.write_text(article_source(PARAGRAPH_1, PARAGRAPH_2, PARAGRAPH_3), encoding="utf-8")
    return path


def import_article(runner, path: Path):
    return runner.invoke(args=["import-article", str(path)])


def documents_named(db, name: str) -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Document).where(Document.source_name == name)))


def versions_of(db, document: Document) -> list[DocumentVersion]:
    return list(
        db.session.scalars(
            sa.select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number)
        )
    )


def article_url(document: Document) -> str:
    return f"/articles/{quote(document.slug)}"


def test_import_article_creates_a_readable_rtl_document(runner, db, client, article_file):
    result = import_article(runner, article_file)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created")
    [document] = documents_named(db, article_file.name)
    assert document.slug in result.output
    assert document.slug == "القراءة-البطيئة-في-عصر-السرعة"
    version = document.current_version
    assert (version.number, version.title, version.byline) == (1, TITLE, "مراسل الثقافة")
    assert version.published_text == "July 27, 2018" and version.source_url == SOURCE
    assert "👏🏽" in version.text and "𝔐" in version.text
    for leftover in ("**", "](#)", "<https://", "Original url"):
        assert leftover not in version.text

    response = client.get(article_url(document))
    assert response.status_code == 200
    root = page(response)
    assert root.find("h1").text() == TITLE
    assert root.find("span", class_="byline").text() == "By مراسل الثقافة"
    assert root.find("a", class_="source-link").get("href") == SOURCE
    body = root.by_id("article-body")
    assert body.get("dir") == "auto"
    assert body.find("strong").text() == CAPTION
    assert PARAGRAPH_1 in body.text() and PARAGRAPH_2 in body.text()
    # Spans carry code-point offsets even after characters outside the BMP.
    for piece in body.find_all("span", data_o=True):
        offset = int(piece.get("data-o"))
        assert version.text[offset : offset + len(piece.text())] == piece.text()
    # The library lists it.
    library = page(client.get("/"))
    assert TITLE in [a.text() for a in library.find_all("a", class_="article-link")]


def test_annotating_after_an_emoji_uses_code_point_offsets(runner, db, client, auth, article_file):
    assert import_article(runner, article_file).exit_code == 0
    [document] = documents_named(db, article_file.name)
    text = document.current_version.text
    auth.login("alice")
    fields = select(text, "👏🏽 تساعد على الفهم")
    response = create(client, fields, slug=document.slug, intent="comment", body="جميل 🎉")
    assert response.status_code == 200, response.get_data(as_text=True)
    annotation = latest_annotation(db)
    assert annotation.exact == "👏🏽 تساعد على الفهم"
    root = page(client.get(article_url(document)))
    assert "".join(m.text() for m in marks_for(root, annotation.id)) == "👏🏽 تساعد على الفهم"
    card = root.by_id(f"annotation-{annotation.id}")
    assert card.find("blockquote").text() == "👏🏽 تساعد على الفهم"
    assert "جميل 🎉" in card.text()


def test_import_twice_is_unchanged(runner, db, article_file):
    first = import_article(runner, article_file)
    second = import_article(runner, article_file)
    assert first.exit_code == second.exit_code == 0
    assert second.output.startswith("unchanged"), second.output
    [document] = documents_named(db, article_file.name)
    assert [v.number for v in versions_of(db, document)] == [1]


def test_reimporting_the_seed_is_unchanged(runner, db, seed_document):
    from tests.conftest import SEEDS

    [seed_file] = [p for p in SEEDS.iterdir() if p.suffix in (".md", ".txt")]
    versions = len(versions_of(db, seed_document))
    result = import_article(runner, seed_file)
    assert result.exit_code == 0 and result.output.startswith("unchanged"), result.output
    assert len(versions_of(db, seed_document)) == versions
    assert runner.invoke(args=["seed"]).output.startswith("unchanged")


def test_edited_article_creates_version_2_and_reanchors(runner, db, client, auth, article_file):
    assert import_article(runner, article_file).exit_code == 0
    [document] = documents_named(db, article_file.name)
    text_v1 = document.current_version.text
    auth.login("alice")
    kept_quote = "تساعد على الفهم العميق"
    gone_quote = "الزرافة البنفسجية فقد غنّت نشيداً"
    assert create(client, select(text_v1, kept_quote), slug=document.slug).status_code == 200
    kept = latest_annotation(db)
    old_span = (kept.start, kept.end)
    response = create(
        client, select(text_v1, gone_quote), slug=document.slug, intent="comment", body="orphan me"
    )
    assert response.status_code == 200
    gone = latest_annotation(db)
    count = annotation_count(db)

    # The edit: a new paragraph first (every offset moves), the third paragraph removed.
    article_file.write_text(
        article_source(NEW_PARAGRAPH, PARAGRAPH_1, PARAGRAPH_2), encoding="utf-8"
    )
    result = import_article(runner, article_file)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("updated")
    assert "re-anchored 1, orphaned 1" in result.output

    [document] = documents_named(db, article_file.name)
    assert [v.number for v in versions_of(db, document)] == [1, 2]
    version = document.current_version
    assert version.number == 2 and NEW_PARAGRAPH in version.text
    assert annotation_count(db) == count  # nothing dropped

    moved = fetch_annotation(db, kept.id)
    shift = len(NEW_PARAGRAPH) + 2
    assert moved.version_id == version.id
    assert (moved.start, moved.end) == (old_span[0] + shift, old_span[1] + shift)
    assert version.text[moved.start : moved.end] == kept_quote

    orphan = fetch_annotation(db, gone.id)
    assert orphan.version_id is None and orphan.deleted_at is None
    assert orphan.exact == gone_quote

    root = page(client.get(article_url(document)))
    assert [m.text() for m in marks_for(root, moved.id)] == [kept_quote]
    assert marks_for(root, orphan.id) == []
    assert f"annotation-{moved.id}" in [c.id for c in root.by_id("cards").top_level()]
    orphans = root.find("section", class_="orphans")
    assert orphans is not None
    card = orphans.by_id(f"annotation-{orphan.id}")
    assert card.find("blockquote").text() == gone_quote
    assert "orphan me" in card.text()
    assert root.by_id("cards").by_id(f"annotation-{orphan.id}") is None

    # Importing the edited file again changes nothing more.
    again = import_article(runner, article_file)
    assert again.output.startswith("unchanged")
    assert [v.number for v in versions_of(db, document)] == [1, 2]


def test_annotation_on_the_old_version_is_refused_after_an_edit(
    runner, db, client, auth, article_file
):
    assert import_article(runner, article_file).exit_code == 0
    [document] = documents_named(db, article_file.name)
    old = document.current_version
    fields = select(old.text, "تساعد على الفهم")
    article_file.write_text(article_source(NEW_PARAGRAPH, PARAGRAPH_1), encoding="utf-8")
    assert import_article(runner, article_file).exit_code == 0
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, fields, slug=document.slug, version=str(old.id))
    assert response.status_code == 422
    assert "has been updated since this page was loaded" in response.get_data(as_text=True)
    assert annotation_count(db) == before


@pytest.mark.parametrize(
    "content, message",
    [
        ("By Someone\n\nJuly 27, 2018\n\nA body without a title.\n", "must start with a '# Title'"),
        ("", "broken.md is empty"),
        ("# A title only\n", "no body"),
    ],
    ids=["no title", "empty file", "no body"],
)
def test_import_refuses_a_file_it_cannot_parse(runner, db, tmp_path, content, message):
    path = tmp_path / "broken.md"
    path.write_text(content, encoding="utf-8")
    documents = db.session.scalar(sa.select(sa.func.count(Document.id)))
    result = import_article(runner, path)
    assert result.exit_code != 0
    assert f"cannot import {path}" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == documents


def test_import_refuses_a_missing_or_binary_file(runner, tmp_path):
    missing = runner.invoke(args=["import-article", str(tmp_path / "nope.md")])
    assert missing.exit_code != 0 and "cannot read" in missing.output
    binary = tmp_path / "image.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    result = runner.invoke(args=["import-article", str(binary)])
    assert result.exit_code != 0 and "cannot import" in result.output


def test_create_user_then_log_in(runner, db, client):
    result = runner.invoke(args=["create-user", "clara", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "created user clara" in result.output
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.username == "clara"))
    assert user is not None and user.password_hash != PASSWORD
    response = client.post("/login", data={"username": "clara", "password": PASSWORD})
    assert response.status_code == 302
    assert page(client.get("/")).find("span", class_="whoami").text() == "Signed in as clara"


def test_create_user_refuses_a_short_password(runner, db):
    result = runner.invoke(args=["create-user", "shorty", "--password", "short"])
    assert result.exit_code != 0
    assert "A password has at least 8 characters" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.username == "shorty")) is None


def test_create_user_refuses_a_taken_name(runner, db, auth):
    auth.create("alice")
    result = runner.invoke(args=["create-user", "ALICE", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "is taken" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
