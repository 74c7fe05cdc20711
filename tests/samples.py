"""Files the tests make themselves: images, web pages, Word documents, PDFs.

python-docx and fpdf2 are test-only dependencies (the dev extra); the app reads these
formats with other libraries (mammoth, pypdf), so a test does not read back what the same
library wrote.
"""

from __future__ import annotations

import io
import struct
import zlib

PARAGRAPH = (
    "Reading slowly is a habit that many students have lost in the age of fast scrolling, "
    "and teachers across the country have noticed that skimming changes how long "
    "arguments are understood."
)


def png(width: int = 3, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG image of one colour (a different colour is a different digest)."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def html_page(article: str, *, title: str = "Slow Reading in a Fast Age") -> str:
    """A news page: navigation, cookie banner, sidebar and footer around an article."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | The Daily Example</title>
<meta property="og:title" content="{title}">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<link rel="canonical" href="https://news.example.org/2024/slow-reading">
<script>window.tracking = "SCRIPT-IN-HEAD";</script>
<style>body {{ color: red }}</style>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a>
<a href="/login">Sign in to your account</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience.
<button>Accept all cookies</button></div>
<main><article>
<h1>{title}</h1>
<p class="byline">By Jane Doe</p>
{article}
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Celebrity chef opens a new restaurant</a></li>
<li><a href="/b">Ten tips for a better garden this spring</a></li></ul></aside>
<footer><p>Copyright 2024 The Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
<script>document.write("SCRIPT-IN-BODY")</script>
</body></html>"""


ARTICLE_HTML = """
<p>Researchers say that <strong>slow reading</strong> helps people understand long texts. The
study followed <em>two hundred</em> students over a whole school year, and the results
surprised everyone involved in it.</p>
<h2>What the study found</h2>
<p>Students who read slowly remembered more, according to
<a href="/2023/the-study">the original paper</a>. They also wrote longer notes and asked
better questions in the class discussions that followed each reading.</p>
<ul><li>They remembered more of the details.</li><li>They enjoyed the reading more.</li></ul>
<ol><li>First they read the text once.</li><li>Then they annotated it.</li></ol>
<blockquote><p>Reading is a conversation with the author, said one teacher who took part in
the study.</p></blockquote>
<p>The authors plan a larger study next year, with schools in three countries and more than
a thousand students taking part.</p>
"""


def docx(
    *,
    title: str | None = "Notes on Slow Reading",
    author: str | None = "Ann Author",
    image: bytes | None = None,
    caption: str | None = None,
) -> bytes:
    """A Word document with a heading, emphasis, a link, lists, a quote and an image."""
    import docx as python_docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = python_docx.Document()
    document.core_properties.title = title or ""
    document.core_properties.author = author or ""
    document.add_heading("Why read slowly", level=1)
    paragraph = document.add_paragraph("Slow reading is ")
    paragraph.add_run("deliberate").bold = True
    paragraph.add_run(" and ")
    paragraph.add_run("attentive").italic = True
    paragraph.add_run(", as ")
    relation = paragraph.part.relate_to(
        "https://example.org/slow", RELATIONSHIP_TYPE.HYPERLINK, is_external=True
    )
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relation)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "the essay"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)
    paragraph.add_run(" explains.")
    document.add_paragraph("Read the text once.", style="List Bullet")
    document.add_paragraph("Annotate what matters.", style="List Bullet")
    document.add_paragraph("A first step.", style="List Number")
    document.add_paragraph("A second step.", style="List Number")
    document.add_heading("In class", level=2)
    document.add_paragraph("Students discuss their notes together.")
    if image is not None:
        document.add_picture(io.BytesIO(image))
        if caption:
            document.add_paragraph(caption, style="Caption")
    document.add_paragraph("Reading is a conversation.", style="Quote")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HEADER = "The Reading Journal - Spring issue"
LINE_HEIGHT = 6
PARAGRAPH_GAP = 5


def pdf(
    paragraphs: list[list[str]],
    *,
    title: str | None = "The Art of Slow Reading",
    heading_before: dict[int, str] | None = None,
    footer: str = "{page}",
    lines_per_page: int = 30,
) -> bytes:
    """A PDF with a text layer, laid out line by line exactly as given.

    Every page has a running header, and a footer with its page number; a paragraph runs on
    across a page break when it must. `heading_before` puts a larger heading before the
    paragraph of that index; a line that starts with "• " has a bullet.
    """
    from fpdf import FPDF

    class Document(FPDF):
        def header(self):
            self.set_font("Helvetica", size=9)
            self.set_xy(20, 10)
            self.cell(0, 5, HEADER)
            self.set_xy(20, 24)

        def footer(self):
            self.set_font("Helvetica", size=9)
            self.set_xy(20, -15)
            self.cell(0, 5, footer.format(page=self.page_no()), align="C")

    document = Document(format="A4")
    document.set_auto_page_break(False)
    document.set_margins(20, 24, 20)
    document.add_page()
    bottom = 24 + lines_per_page * LINE_HEIGHT

    def line(text: str, size: int = 11, height: int = LINE_HEIGHT) -> None:
        if document.get_y() + height > bottom:
            document.add_page()
        document.set_x(20)
        if text.startswith("• "):
            # The core fonts are Latin-1: the bullet is the Symbol font's, as Word writes it.
            document.set_font("Symbol", size=size)
            document.cell(6, height, "\xb7")
            text = text[2:]
        document.set_font("Helvetica", size=size)
        document.cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    if title:
        line(title, size=20, height=12)
        document.ln(4)
    for index, lines in enumerate(paragraphs):
        if heading_before and index in heading_before:
            line(heading_before[index], size=15, height=9)
            document.ln(2)
        for text in lines:
            line(text)
        document.ln(PARAGRAPH_GAP)
    return bytes(document.output())


def scanned_pdf(pages: int = 2) -> bytes:
    """Pages that are only images, as a scanner makes them: no text layer."""
    from fpdf import FPDF

    document = FPDF()
    for _ in range(pages):
        document.add_page()
        document.image(io.BytesIO(png(40, 60, (240, 240, 230))), x=10, y=10, w=190)
    return bytes(document.output())


def wrap(text: str, width: int = 80) -> list[str]:
    """Lines of at most `width` characters, broken at spaces."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines
