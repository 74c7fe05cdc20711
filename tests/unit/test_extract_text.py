"""Markdown and plain text through extract(); files judged by their content, not their name."""

from __future__ import annotations

import pytest

from tests.conftest import SEEDS
from tests.samples import png
from webapp.text.document import build_layout
from webapp.text.extract import MAX_ARTICLE_CHARS, MAX_UPLOAD_BYTES, ExtractError, extract
from webapp.text.importer import parse_article
from webapp.text.sanitize import render_article

SEED = next(p for p in SEEDS.iterdir() if p.suffix in (".md", ".txt"))


def canonical(markdown: str) -> str:
    return build_layout(render_article(markdown)).text


def test_the_seed_shape_whatever_the_name():
    data = SEED.read_bytes()
    parsed = parse_article(data.decode("utf-8"))
    for name in (SEED.name, "seed.md", "seed.pdf", None):
        article = extract(data, filename=name)
        assert article.kind == "markdown"
        assert (article.title, article.byline, article.date_text, article.source_url) == (
            parsed.title,
            parsed.byline,
            parsed.published_text,
            parsed.source_url,
        )
        assert article.body_markdown == parsed.body_markdown and article.images == ()


def test_markdown_without_a_title_keeps_its_syntax_and_leaves_the_title_to_the_user():
    source = (
        "By Ada Lovelace\n\nMarch 3, 2021\n\n"
        "Some **bold** text and a [link](https://a.example/).\n\n- one\n- two\n"
    )
    article = extract(source.encode(), filename="notes.md")
    assert article.kind == "markdown" and article.title is None
    assert (article.byline, article.date_text) == ("Ada Lovelace", "March 3, 2021")
    html = render_article(article.body_markdown)
    assert "<strong>bold</strong>" in html and '<a href="https://a.example/">link</a>' in html
    assert "<li>one</li>" in html


def test_a_setext_title_is_a_title():
    article = extract(b"My Title\n========\n\nThe body.\n", filename="a.md")
    assert article.title == "My Title" and canonical(article.body_markdown) == "The body."


def test_plain_text_paragraphs_at_blank_lines_and_a_title_from_the_first_line():
    source = (
        "A Walk in the Park\n\nBy Sam Writer\n\nJuly 27, 2018\n\n"
        "The first paragraph\nwraps onto a second line.\n\n\n"
        "The second paragraph.\n"
    )
    article = extract(source.encode(), filename="walk.txt")
    assert article.kind == "text"
    assert (article.title, article.byline, article.date_text) == (
        "A Walk in the Park",
        "Sam Writer",
        "July 27, 2018",
    )
    assert canonical(article.body_markdown) == (
        "The first paragraph wraps onto a second line.\n\nThe second paragraph."
    )


def test_plain_text_whose_first_line_is_a_sentence_has_no_title():
    article = extract(b"It was a dark night.\n\nThe rain fell.\n", filename="story.txt")
    assert article.title is None
    assert canonical(article.body_markdown) == "It was a dark night.\n\nThe rain fell."


TRICKY_LINES = [
    "# not a heading",
    "1. not a list",
    "2) nor this",
    "- nor a bullet",
    "+ plus",
    "* star",
    "> not a quote",
    "===",
    "---",
    "**not bold** and _not em_ and `not code`",
    "[not a link](https://example.org) <https://example.org> <b>not html</b>",
    "AT&T &amp; &#169; a \\ backslash | pipe ~tilde~ ![not an image](x.png)",
    "    indented is not code",
    "snake_case_name and 2 * 3 * 4",
]


def test_plain_text_reads_as_typed_never_as_markdown():
    source = "Title line\n\n" + "\n\n".join(TRICKY_LINES) + "\n"
    article = extract(source.encode(), filename="tricky.txt")
    assert article.kind == "text" and article.title == "Title line"
    html = render_article(article.body_markdown)
    assert "<h1" not in html and "<li" not in html and "<blockquote" not in html
    assert "<strong" not in html and "<a " not in html and "<code" not in html
    assert canonical(article.body_markdown) == "\n\n".join(line.strip() for line in TRICKY_LINES)


def test_a_paste_without_a_name_is_judged_by_its_look():
    assert extract(b"Just words.\n\nMore words.\n").kind == "text"
    assert extract(b"Some *words*.\n\n## A part\n\nMore.\n").kind == "markdown"


def test_windows_line_endings_bom_and_utf16():
    text = "Title\r\n\r\nBody línea uno 👏🏽.\r\n"
    for data in (text.encode("utf-8-sig"), text.encode("utf-16")):
        article = extract(data, filename="x.txt")
        assert article.title == "Title"
        assert canonical(article.body_markdown) == "Body línea uno 👏🏽."


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "empty.md", "empty.md is empty."),
        (b"  \n\n\t ", "blank.txt", "blank.txt is empty."),
        (png(), "photo.docx", "photo.docx is a PNG image, not a Word document (.docx)."),
        (png(), "photo.md", "photo.md is a PNG image, not Markdown."),
        (png(), None, "The file is a PNG image, not an article."),
        (b"\x00\x01\x02\x03binary\x00garbage" * 50, "notes.txt", "is a binary file"),
        (bytes(range(256)) * 8, "x.pdf", "is a binary file, not a PDF"),
        (b"\x1f\x8b\x08\x00\x00\x00", "a.html", "is a gzip archive, not a web page (HTML)"),
        (b"{\\rtf1\\ansi hello}", "a.docx", "is an RTF document (save it as .docx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.doc", "old Word (.doc)"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
            "pic.html",
            "is an SVG image",
        ),
        ("Caf\xe9 au lait\n\nd\xe9j\xe0 vu\n".encode("latin-1"), "fr.txt", "is not UTF-8 text"),
    ],
)
def test_what_cannot_be_read_is_refused_clearly(data, name, message):
    with pytest.raises(ExtractError) as error:
        extract(data, filename=name)
    assert message in str(error.value)
    if data.strip():
        assert "Upload Markdown, plain text, HTML, a Word document (.docx) or a PDF" in str(
            error.value
        ) or "UTF-8" in str(error.value)


def test_a_claimed_type_in_the_content_type_words_the_message():
    with pytest.raises(ExtractError, match="is a PNG image, not a PDF"):
        extract(png(), content_type="application/pdf")


def test_text_over_the_limit_is_refused():
    body = ("word " * (MAX_ARTICLE_CHARS // 5 + 10)).encode()
    with pytest.raises(ExtractError, match="the limit is 300,000"):
        extract(b"# Big\n\n" + body, filename="big.md")
    with pytest.raises(ExtractError, match="the limit is 300,000"):
        extract(b"Big\n\n" + body, filename="big.txt")


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read():
    data = b"a" * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(ExtractError, match="the limit is 20 MB"):
        extract(data, filename="huge.txt")


def test_the_seed_title_errors_read_as_sentences():
    with pytest.raises(ExtractError, match=r"^The article has a title but no body text\.$"):
        extract(b"# A title only\n", filename="t.md")
