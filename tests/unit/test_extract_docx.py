"""Word documents through extract() (written by python-docx, read by mammoth)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from tests.samples import docx, png
from tests.unit.test_sanitize import assert_within, elements
from webapp.text.document import build_layout
from webapp.text.extract import ExtractError, extract
from webapp.text.sanitize import ARTICLE_ATTRIBUTES, ARTICLE_TAGS, render_article


def rendered(article) -> str:
    return render_article(article.body_markdown, {image.digest for image in article.images})


def test_headings_paragraphs_lists_emphasis_links_and_quote_are_kept():
    article = extract(docx(), filename="notes.docx")
    assert article.kind == "docx"
    assert (article.title, article.byline) == ("Notes on Slow Reading", "Ann Author")
    html = rendered(article)
    assert_within(html, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)
    assert "<h1>Why read slowly</h1>" in html and "<h2>In class</h2>" in html
    assert "<strong>deliberate</strong>" in html and "<em>attentive</em>" in html
    assert '<a href="https://example.org/slow">the essay</a>' in html
    assert "<ul>\n<li>Read the text once.</li>\n<li>Annotate what matters.</li>\n</ul>" in html
    assert "<ol>\n<li>A first step.</li>\n<li>A second step.</li>\n</ol>" in html
    assert "<blockquote>\n<p>Reading is a conversation.</p>\n</blockquote>" in html
    assert build_layout(html).text.startswith(
        "Why read slowly\n\nSlow reading is deliberate and attentive, as the essay explains."
    )


def test_without_a_title_property_the_opening_heading_is_the_title():
    article = extract(docx(title=None, author=None), filename="notes.docx")
    assert article.title == "Why read slowly" and article.byline is None
    assert not article.body_markdown.startswith("# Why read slowly")


def test_images_are_copied_as_figures_with_their_caption():
    image = png(5, 4, (10, 200, 10))
    article = extract(docx(image=image, caption="Figure 1: a green square"), filename="f.docx")
    digest = hashlib.sha256(image).hexdigest()
    [asset] = article.images
    assert (asset.digest, asset.content_type, asset.data) == (digest, "image/png", image)
    html = rendered(article)
    assert f'<img src="/media/{digest}" alt="">' in html
    assert "<figcaption>Figure 1: a green square</figcaption>" in html
    text = build_layout(html).text
    assert "Figure 1: a green square" in text  # the caption can be highlighted


def test_a_corrupt_docx_is_refused_clearly():
    data = docx()
    with pytest.raises(ExtractError, match="This Word document is damaged and cannot be read"):
        extract(data[: len(data) // 2], filename="broken.docx")


def test_a_zip_without_a_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ExtractError, match="is a ZIP archive, not a Word document"):
        extract(out.getvalue(), filename="fake.docx")


def test_a_docx_whose_document_part_is_garbage_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx())) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = b"<w:document>not xml at all"
            target.writestr(info, data)
    with pytest.raises(ExtractError, match="damaged"):
        extract(out.getvalue(), filename="garbled.docx")


def test_a_docx_that_unpacks_to_a_bomb_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx())) as source:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(info, source.read(info.filename))
            target.writestr("word/media/padding.bin", bytes(201 * 1024 * 1024), compresslevel=1)
    with pytest.raises(ExtractError, match="unpacks to more than 200 MB"):
        extract(out.getvalue(), filename="bomb.docx")


def test_a_png_named_docx_is_refused():
    with pytest.raises(ExtractError, match=r"is a PNG image, not a Word document \(.docx\)"):
        extract(png(), filename="lying.docx")


def test_word_html_is_cleaned_like_every_article():
    article = extract(docx(), filename="notes.docx")
    for tag, attrs in elements(rendered(article)):
        assert tag in ARTICLE_TAGS and not any(name.startswith("on") for name in attrs)
