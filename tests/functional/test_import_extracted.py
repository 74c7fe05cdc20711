"""The one path into stored versions (import_extracted), the preview (preview_extracted) and the
/media route that serves the images copied at import."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.functional.helpers import create, latest_annotation, page, parse, select
from tests.samples import docx, html_page, png
from tests.unit.test_sanitize import HOSTILE_HTML
from webapp.models import Document, DocumentAsset, DocumentVersion, VersionAsset
from webapp.services.documents import (
    assets_of,
    import_article,
    import_extracted,
    preview_extracted,
    with_assets,
)
from webapp.text.extract import ExtractedArticle, ExtractError, ImageAsset, extract

RED = png(3, 3, (255, 0, 0))
RED_DIGEST = hashlib.sha256(RED).hexdigest()


def article_with_image(caption: str = "A red square.") -> ExtractedArticle:
    return ExtractedArticle(
        kind="markdown",
        title="Colours",
        byline="Pat Painter",
        date_text="March 3, 2021",
        source_url="https://colours.example/red",
        body_markdown=(
            f"Red is warm.\n\n![A red square](asset:{RED_DIGEST})\n{caption}\n\nBlue is cold.\n"
        ),
        images=(ImageAsset(RED_DIGEST, "image/png", RED, "A red square"),),
    )


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_stores_the_version_its_images_and_serves_them(db, client):
    result = import_extracted(
        db.session, article_with_image(), source_name="colours", owner_id=None
    )
    db.session.commit()
    assert result.status == "created"
    version = result.document.current_version
    assert (version.title, version.byline, version.published_text) == (
        "Colours",
        "Pat Painter",
        "March 3, 2021",
    )
    assert version.published.isoformat() == "2021-03-03"
    assert version.text == "Red is warm.\n\nA red square.\n\nBlue is cold."
    asset = db.session.scalar(sa.select(DocumentAsset))
    assert (asset.digest, asset.content_type, asset.size, asset.data) == (
        RED_DIGEST,
        "image/png",
        len(RED),
        RED,
    )
    assert [a.digest for a in assets_of(db.session, version)] == [RED_DIGEST]

    root = page(client.get(f"/articles/{quote(result.document.slug)}"))
    figure = root.by_id("article-body").find("figure")
    image = figure.find("img")
    assert image.get("src") == f"/media/{RED_DIGEST}" and image.get("alt") == "A red square"
    assert figure.find("figcaption").text() == "A red square."

    response = client.get(f"/media/{RED_DIGEST}")
    assert response.status_code == 200 and response.data == RED
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    again = client.get(f"/media/{RED_DIGEST}", headers={"If-None-Match": f'"{RED_DIGEST}"'})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("path", ["/media/" + "0" * 64, "/media/abc", "/media/" + "A" * 64])
def test_an_unknown_image_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no such image." in response.get_data(as_text=True)


def test_reimport_is_unchanged_and_a_new_version_shares_the_image(db):
    first = import_extracted(db.session, article_with_image(), source_name="c", owner_id=None)
    again = import_extracted(db.session, article_with_image(), source_name="c", owner_id=None)
    assert (first.status, again.status) == ("created", "unchanged")
    edited = import_extracted(
        db.session, article_with_image("A bigger red square."), source_name="c", owner_id=None
    )
    db.session.commit()
    assert edited.status == "updated" and edited.document.current_version.number == 2
    assert count(db, DocumentAsset) == 1  # one row, shared by both versions
    assert count(db, VersionAsset) == 2


def test_overrides_win_over_what_was_extracted(db):
    result = import_extracted(
        db.session,
        article_with_image(),
        source_name="o",
        owner_id=None,
        title="  A   Better Title ",
        byline="",
        date_text="2020-01-02",
        source_url=None,
    )
    version = result.document.current_version
    assert (version.title, version.byline, version.published_text) == (
        "A Better Title",
        None,
        "2020-01-02",
    )
    assert version.source_url == "https://colours.example/red"
    assert result.document.slug == "a-better-title"


@pytest.mark.parametrize(
    "change, overrides, message",
    [
        ({"title": None}, {}, "The article has no title"),
        ({"title": None}, {"title": "   "}, "The article has no title"),
        ({}, {"title": "x" * 501}, "The title is longer than 500 characters"),
        ({}, {"source_url": "javascript:alert(1)"}, "must start with http:// or https://"),
        ({"body_markdown": "   \n"}, {}, "no text that can be read"),
        ({"body_markdown": "word " * 60_001}, {}, "the limit is 300,000"),
    ],
)
def test_what_cannot_be_stored_is_refused_and_nothing_is_stored(db, change, overrides, message):
    documents, assets = count(db, Document), count(db, DocumentAsset)
    article = replace(article_with_image(), **change)
    with pytest.raises(ExtractError, match=message):
        preview_extracted(article, **overrides)
    with pytest.raises(ExtractError, match=message):
        import_extracted(db.session, article, source_name="bad", owner_id=None, **overrides)
    db.session.rollback()
    assert (count(db, Document), count(db, DocumentAsset)) == (documents, assets)


def test_an_image_whose_bytes_are_not_its_digest_or_not_an_image_is_not_shown(db):
    liar = ImageAsset(RED_DIGEST, "image/png", png(3, 3, (0, 255, 0)), "")
    fake = ImageAsset(hashlib.sha256(b"<svg/>").hexdigest(), "image/png", b"<svg/>", "")
    body = f"Text.\n\n![a](asset:{liar.digest})\n\n![b](asset:{fake.digest})\n"
    article = replace(article_with_image(), body_markdown=body, images=(liar, fake))
    result = import_extracted(db.session, article, source_name="liar", owner_id=None)
    assert "<img" not in result.document.current_version.body_html
    assert count(db, DocumentAsset) == 0


def test_the_preview_is_what_readers_see_and_stores_nothing(db, client):
    documents = count(db, Document)
    preview = preview_extracted(article_with_image(), byline="Someone Else")
    assert count(db, Document) == documents and count(db, DocumentAsset) == 0
    assert (preview.title, preview.byline, preview.date_text) == (
        "Colours",
        "Someone Else",
        "March 3, 2021",
    )
    assert preview.word_count == 9
    assert '<span data-o="0">Red is warm.</span>' in preview.html
    assert 'src="data:image/png;base64,' in preview.html and "/media/" not in preview.html

    result = import_extracted(
        db.session, article_with_image(), source_name="p", owner_id=None, byline="Someone Else"
    )
    db.session.commit()
    stored = page(client.get(f"/articles/{quote(result.document.slug)}")).by_id("article-body")
    preview_root = parse(f"<div>{preview.html}</div>")
    # The same blocks, ids, offsets and text; only the image's address differs.
    assert [(s.get("data-o"), s.text()) for s in preview_root.find_all("span", data_o=True)] == [
        (s.get("data-o"), s.text()) for s in stored.find_all("span", data_o=True)
    ]


def test_an_edit_keeps_the_images_it_was_given(db):
    first = import_extracted(db.session, article_with_image(), source_name="e", owner_id=None)
    version = first.document.current_version
    edited_text = version.body_markdown.replace("Blue is cold.", "Blue is calm.")
    edited = extract(edited_text.encode(), content_type="text/markdown")
    edited = with_assets(replace(edited, title=version.title), assets_of(db.session, version))
    result = import_extracted(db.session, edited, source_name="e", owner_id=None)
    assert result.status == "updated"
    assert f'src="/media/{RED_DIGEST}"' in result.document.current_version.body_html


def test_the_seed_path_is_a_wrapper_and_stays_idempotent(db, seed_document):
    from tests.conftest import SEEDS

    [seed_file] = [p for p in SEEDS.iterdir() if p.suffix in (".md", ".txt")]
    result = import_article(db.session, seed_file.read_text("utf-8"), seed_file.name)
    assert result.status == "unchanged" and result.document.id == seed_document.id


def test_annotating_an_imported_word_document_and_a_caption(db, client, auth):
    data = docx(image=RED, caption="The caption of the picture.")
    article = extract(data, filename="notes.docx")
    result = import_extracted(db.session, article, source_name="notes.docx", owner_id=None)
    db.session.commit()
    document = result.document
    auth.login("reader")
    text = document.current_version.text
    for quote_text in ("deliberate and attentive", "caption of the picture"):
        response = create(client, select(text, quote_text), slug=document.slug)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert latest_annotation(db).exact == quote_text
    root = page(client.get(f"/articles/{quote(document.slug)}"))
    caption = root.by_id("article-body").find("figcaption")
    assert [m.text() for m in caption.find_all("mark")] == ["caption of the picture"]
    assert caption.parent.find("img").get("src") == f"/media/{RED_DIGEST}"


@pytest.mark.parametrize("hostile", HOSTILE_HTML)
def test_imported_html_is_safe_on_the_reader_page(db, client, hostile):
    body = (
        "<p>A paragraph long enough to be kept by the extractor, before the hostile part.</p>"
        f"<div>{hostile}</div>"
        "<p>A paragraph long enough to be kept by the extractor, after the hostile part.</p>"
    )
    article = extract(
        html_page(body).encode(), base_url="https://x.example/", fetch_image=lambda u: RED
    )
    result = import_extracted(db.session, article, source_name="hostile", owner_id=None)
    db.session.commit()
    root = page(client.get(f"/articles/{quote(result.document.slug)}"))
    body_element = root.by_id("article-body")
    for element in body_element.iter():
        assert element.tag not in {"script", "iframe", "object", "embed", "svg", "style", "form"}
        assert not any(name.startswith("on") for name in element.attrs)
        assert "javascript" not in (element.get("href") or "").lower()
        if element.tag == "img":
            assert element.get("src").startswith("/media/")


def test_a_docx_imported_twice_is_unchanged(db):
    data = docx(image=png(2, 2, (9, 9, 9)), caption="Figure 1")
    first = import_extracted(
        db.session, extract(data, filename="d.docx"), source_name="d.docx", owner_id=None
    )
    second = import_extracted(
        db.session, extract(data, filename="d.docx"), source_name="d.docx", owner_id=None
    )
    assert (first.status, second.status) == ("created", "unchanged")
    versions = db.session.scalars(
        sa.select(DocumentVersion).where(DocumentVersion.document_id == first.document.id)
    ).all()
    assert len(versions) == 1


def test_the_assets_migration_down_and_up_on_sqlite_keeps_every_row(tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.conftest import make_config
    from webapp import create_app
    from webapp.extensions import db as database

    app = create_app(make_config(tmp_path))
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"])
        import_extracted(database.session, article_with_image(), source_name="m", owner_id=None)
        database.session.commit()
        versions = count(database, DocumentVersion)
        database.session.remove()
        downgrade(revision="567d4d9c6010")
        tables = sa.inspect(database.engine).get_table_names()
        assert "document_assets" not in tables and "version_assets" not in tables
        assert count(database, DocumentVersion) == versions == 2
        database.session.remove()
        upgrade()
        assert count(database, DocumentVersion) == versions
        assert count(database, DocumentAsset) == 0
        database.session.remove()
        database.engine.dispose()
