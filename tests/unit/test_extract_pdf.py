"""PDFs through extract() (written by fpdf2, read by pypdf): paragraphs rebuilt from lines."""

from __future__ import annotations

import pytest

from tests.samples import HEADER, PARAGRAPH, pdf, scanned_pdf, wrap
from webapp.text.document import build_layout
from webapp.text.extract import ExtractError, extract
from webapp.text.sanitize import render_article

HYPHENATED = [
    "The word at the end of this line is broken by the typesetter: an extra-",
    "ordinary thing, the students said, and a well-known habit of printers; they",
    "called it a well-",
    "known trick and read on without noticing it at all.",
]


def paragraphs(count: int) -> list[list[str]]:
    return [wrap(f"Paragraph {n}. {PARAGRAPH} {PARAGRAPH}") for n in range(count)]


def text_of(article) -> str:
    return build_layout(render_article(article.body_markdown)).text


def test_a_multipage_pdf_becomes_its_paragraphs():
    body = paragraphs(12)
    body.insert(3, HYPHENATED)
    data = pdf(body, heading_before={6: "What the Study Found"}, lines_per_page=22)
    article = extract(data, filename="journal.pdf")
    assert article.kind == "pdf"
    assert article.title == "The Art of Slow Reading"
    text = text_of(article)
    blocks = text.split("\n\n")
    # Every paragraph comes back whole, in order, its lines joined with spaces, even the ones
    # that run on across a page break; nothing of the page furniture is left between them.
    expected = [" ".join(lines) for lines in paragraphs(12)]
    found = [block for block in blocks if block.startswith("Paragraph ")]
    assert found == expected
    assert len(data) and "Page" not in text
    assert HEADER not in text
    for block in blocks:
        assert not block.strip().isdigit(), "a page number survived"
    # Hyphenation: a word broken at a line end is whole again; a compound keeps its hyphen.
    assert (
        "an extraordinary thing, the students said, and a well-known habit of printers; they "
        "called it a well-known trick and read on without noticing it at all."
    ) in text
    # A larger line is a heading.
    assert "<h3>What the Study Found</h3>" in render_article(article.body_markdown)
    assert blocks.index("What the Study Found") + 1 == blocks.index(expected[5])


def test_the_pages_really_have_running_heads_and_numbers():
    """The fixture itself: pypdf's plain text shows what the extractor must drop."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf(paragraphs(12), lines_per_page=22)))
    assert len(reader.pages) >= 3
    for number, page in enumerate(reader.pages, start=1):
        lines = page.extract_text().splitlines()
        assert HEADER in lines and str(number) in lines


def test_page_x_of_y_footers_are_dropped():
    data = pdf(paragraphs(10), footer="Page {page} of 9", lines_per_page=20)
    text = text_of(extract(data, filename="a.pdf"))
    assert "Page" not in text and " of 9" not in text


def test_bullets_become_a_list():
    body = [["Before the list comes a paragraph of ordinary text."]]
    body += [["• Read the text once."], ["• Annotate what matters."]]
    body += [["After the list comes another paragraph."]]
    article = extract(pdf(body), filename="list.pdf")
    html = render_article(article.body_markdown)
    assert "<ul>\n<li>Read the text once.</li>\n<li>Annotate what matters.</li>\n</ul>" in html


def test_a_pdf_without_a_title_uses_no_body_line_as_title():
    article = extract(pdf(paragraphs(6), title=None, lines_per_page=20), filename="untitled.pdf")
    assert article.title is None
    assert text_of(article).startswith("Paragraph 0.")


def test_a_scanned_pdf_gets_a_clear_message():
    with pytest.raises(ExtractError) as error:
        extract(scanned_pdf(), filename="scan.pdf")
    assert str(error.value).startswith("This PDF has no text layer (it is a scan?)")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda data: data[: len(data) // 3],
        lambda data: b"%PDF-1.4\n" + b"garbage " * 200,
        lambda data: data.replace(b"/Type /Page", b"/Type /Junk"),
    ],
    ids=["truncated", "garbage", "no pages"],
)
def test_a_corrupt_pdf_is_refused_clearly(mangle):
    data = mangle(pdf(paragraphs(3)))
    with pytest.raises(ExtractError) as error:
        extract(data, filename="broken.pdf")
    message = str(error.value)
    assert message.startswith("This PDF is damaged and cannot be read") or message.startswith(
        "This PDF has no text"
    ), message


def test_a_password_protected_pdf_is_refused_clearly():
    from fpdf import FPDF

    document = FPDF()
    document.set_encryption(owner_password="owner", user_password="secret")
    document.add_page()
    document.set_font("Helvetica", size=11)
    document.cell(0, 10, "Secret text.")
    with pytest.raises(ExtractError, match="protected by a password"):
        extract(bytes(document.output()), filename="locked.pdf")
