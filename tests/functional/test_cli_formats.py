"""`flask import-article` takes every format the upload does (judged by content), and a web
address; bad files get a clear message and store nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.functional.helpers import page
from tests.samples import ARTICLE_HTML, PARAGRAPH, docx, html_page, pdf, png, scanned_pdf, wrap
from tests.site import LocalSite
from webapp.models import Document, DocumentAsset, DocumentVersion

PDF_PARAGRAPHS = [wrap(f"Paragraph {n}. {PARAGRAPH} {PARAGRAPH}") for n in range(8)]


def formats():
    return {
        "notes.md": (b"# Markdown Notes\n\nBy Mo\n\nSome *Markdown* text.\n", "Markdown Notes"),
        "plain.txt": (b"Plain Words\n\nA plain paragraph.\n\nAnother.\n", "Plain Words"),
        "page.html": (html_page(ARTICLE_HTML).encode(), "Slow Reading in a Fast Age"),
        "word.docx": (docx(image=png(), caption="A figure"), "Notes on Slow Reading"),
        "paper.pdf": (pdf(PDF_PARAGRAPHS, lines_per_page=20), "The Art of Slow Reading"),
        # Judged by content, not by name: an HTML page saved as .pdf is read as HTML.
        "mislabelled.pdf": (html_page(ARTICLE_HTML).encode(), "Slow Reading in a Fast Age"),
    }


def documents(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Document.id)))


@pytest.mark.parametrize("name", list(formats()))
def test_every_format_imports_and_reads(runner, db, client, tmp_path, name):
    data, title = formats()[name]
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(args=["import-article", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created")
    db.session.expire_all()
    document = db.session.scalar(sa.select(Document).where(Document.source_name == name))
    assert document.current_version.title == title
    response = client.get(f"/articles/{quote(document.slug)}")
    assert response.status_code == 200
    body = page(response).by_id("article-body")
    assert body.find_all("span", data_o=True)
    again = runner.invoke(args=["import-article", str(path)])
    assert again.exit_code == 0 and again.output.startswith("unchanged"), again.output


def test_a_docx_image_is_stored_and_served(runner, db, client, tmp_path):
    image = png(6, 6, (0, 128, 255))
    path = tmp_path / "pictures.docx"
    path.write_bytes(docx(image=image, caption="A blue square"))
    assert runner.invoke(args=["import-article", str(path)]).exit_code == 0
    db.session.expire_all()
    asset = db.session.scalar(sa.select(DocumentAsset))
    assert asset.data == image
    response = client.get(f"/media/{asset.digest}")
    assert response.status_code == 200 and response.data == image


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("photo.docx", png(), "photo.docx is a PNG image, not a Word document (.docx)"),
        ("broken.docx", docx()[:2000], "This Word document is damaged"),
        ("broken.pdf", pdf(PDF_PARAGRAPHS)[:1500], "This PDF is damaged"),
        ("scan.pdf", scanned_pdf(), "This PDF has no text layer (it is a scan?)"),
        ("noise.txt", bytes(range(256)) * 20, "noise.txt is a binary file"),
        ("empty.html", b"", "empty.html is empty"),
    ],
)
def test_bad_files_are_refused_clearly_and_nothing_is_stored(
    runner, db, tmp_path, name, data, message
):
    path = tmp_path / name
    path.write_bytes(data)
    before = documents(db)
    result = runner.invoke(args=["import-article", str(path)])
    assert result.exit_code != 0
    assert f"cannot import {path}: " in result.output and message in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert documents(db) == before


@pytest.fixture
def app_config():
    return {"FETCH_ALLOWED_HOSTS": frozenset({"127.0.0.1"})}


def test_a_web_address_imports_with_its_images(runner, db, client):
    image = png(5, 5, (90, 90, 0))
    body = ARTICLE_HTML + '<figure><img src="/i.png" alt="olive"></figure>'
    body += "<p>The closing paragraph of the article, long enough to be kept in it.</p>"
    with LocalSite() as site:
        site.page("/story", html_page(body))
        site.page("/i.png", image, "image/png")
        url = site.url("/story")
        result = runner.invoke(args=["import-article", url])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("created") and url in result.output
        again = runner.invoke(args=["import-article", url])
        assert again.output.startswith("unchanged"), again.output
    db.session.expire_all()
    document = db.session.scalar(sa.select(Document).where(Document.source_name == url))
    version = document.current_version
    assert version.source_url == "https://news.example.org/2024/slow-reading"
    assert db.session.scalar(sa.select(DocumentAsset.data)) == image
    assert len(db.session.scalars(sa.select(DocumentVersion.id)).all()) == 2  # seed + this


def test_a_web_address_that_fails_is_refused_clearly(runner, db):
    with LocalSite() as site:
        result = runner.invoke(args=["import-article", site.url("/missing")])
    assert result.exit_code != 0
    assert "answered 404 Not Found" in result.output and "Traceback" not in result.output


def test_a_private_address_is_refused_without_the_setting(runner, db):
    with LocalSite() as site:
        url = site.url("/story", host="127.0.0.2")
        result = runner.invoke(args=["import-article", url])
    assert result.exit_code != 0 and "which is not public" in result.output
