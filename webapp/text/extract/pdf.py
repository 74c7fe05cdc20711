"""A PDF's text layer (pypdf), rebuilt into paragraphs.

pypdf gives pieces of text with their position and font size. We group them into lines,
drop the running headers and footers (lines at the top or bottom of most pages that are
the same once digits are ignored) and bare page numbers, then join lines into paragraphs:
a new paragraph at a larger vertical gap, a change of font size, a first-line indent, a
bullet, or after a short line that ends a sentence. A word hyphenated across a line end is
joined again, unless the document spells it with its hyphen elsewhere.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from webapp.text.extract.base import ExtractedArticle, ExtractError
from webapp.text.extract.tomarkdown import escape_text

MAX_PDF_PAGES = 2000
_ZONE = 2  # lines at the top and at the bottom of a page where running heads live
_PAGE_NUMBER = re.compile(
    r"(?:page|p\.|seite|página|pagina)?\s*[-–—(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—)\]]?"
    r"(?:\s*(?:of|/|von|de|sur)\s*\d{1,4})?",
    re.I,
)
_BULLET = re.compile(r"^[•◦▪‣●○■□➢►\u2022\u2023\u2043]\s*")
_SENTENCE_END = re.compile(r"[.!?:;…\"”’»)]$")
_HYPHENATED = re.compile(r"([^\W\d_]+)[-\u2010\u00ad]$")
_WORD = re.compile(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*")
_BAD_TITLES = re.compile(
    r"^(untitled.*|microsoft (word|powerpoint).*|slide \d+|document\d*|.*\.(docx?|pdf|tex|dvi"
    r"|indd|odt|rtf|pages|txt))$",
    re.I,
)
_DAMAGED = "This PDF is damaged and cannot be read ({}). Open and save or print it again."


@dataclass
class _Line:
    page: int
    x: float
    y: float
    size: float
    text: str


@dataclass
class _Paragraph:
    kind: str  # "p", "h" or "li"
    size: float
    page: int
    lines: list[str] = field(default_factory=list)


def extract_pdf(data: bytes) -> ExtractedArticle:
    # pypdf logs every oddity of a damaged file as a warning; our message says it once.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = _open(data)
    pages = _read_lines(reader)
    if not any(line.text for page in pages for line in page):
        if any(_has_images(page) for page in reader.pages):
            raise ExtractError(
                "This PDF has no text layer (it is a scan?): its pages are images. Run it "
                "through text recognition (OCR) first, or paste its text."
            )
        raise ExtractError("This PDF has no text in it.")
    pages = _drop_running_lines(pages)
    lines = [line for page in pages for line in page]
    paragraphs = _paragraphs(lines)
    title, author = _metadata(reader)
    title, paragraphs = _take_title(title, paragraphs)
    vocabulary = Counter(word.casefold() for line in lines for word in _WORD.findall(line.text))
    body = _markdown(paragraphs, vocabulary, _body_size(lines))
    return ExtractedArticle(
        kind="pdf",
        title=title,
        byline=author,
        date_text=None,
        source_url=None,
        body_markdown=body,
        images=(),
    )


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError(
                "This PDF is protected by a password. Save a copy without the password "
                "and upload that."
            )
        count = len(reader.pages)
    except ExtractError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ExtractError(_DAMAGED.format(_reason(error))) from None
    except (NotImplementedError, RecursionError) as error:
        raise ExtractError(_DAMAGED.format(_reason(error))) from None
    if count == 0:
        raise ExtractError(_DAMAGED.format("it has no pages"))
    if count > MAX_PDF_PAGES:
        raise ExtractError(f"This PDF has {count:,} pages; the limit is {MAX_PDF_PAGES:,}.")
    return reader


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
    return text or type(error).__name__


def _read_lines(reader: PdfReader) -> list[list[_Line]]:
    pages = []
    for number, page in enumerate(reader.pages):
        try:
            pages.append(_page_lines(page, number))
        except ExtractError:
            raise
        except Exception as error:  # pypdf raises many kinds of error on a damaged page
            raise ExtractError(_DAMAGED.format(f"page {number + 1}: {_reason(error)}")) from None
    return pages


def _page_lines(page, number: int) -> list[_Line]:
    pieces: list[tuple[float, float, float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text:
            return
        # The text's position and size on the page: text matrix times transformation matrix.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
        size = abs(font_size or 0) * (scale or 1)
        for index, part in enumerate(text.split("\n")):
            if part:
                pieces.append((x, y - index * size * 1.2, size, part))
            elif index:
                pieces.append((x, y - index * size * 1.2, size, "\n"))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    current: _Line | None = None
    for x, y, size, text in pieces:
        tolerance = max(1.0, 0.4 * (size or 10))
        if text == "\n":
            current = None
            continue
        if current is not None and abs(y - current.y) <= tolerance:
            if current.text and not current.text[-1].isspace() and not text[0].isspace():
                if x - current.x > _width(current.text, current.size) + 0.15 * size:
                    current.text += " "
            current.text += text
            current.size = max(current.size, size) if text.strip() else current.size
            continue
        if not text.strip():
            continue
        current = _Line(number, x, y, size, text)
        lines.append(current)
    for line in lines:
        line.text = " ".join(line.text.split())
    return [line for line in lines if line.text]


def _width(text: str, size: float) -> float:
    """About how wide the text is set: half an em a character, enough to spot a gap."""
    return len(text) * size * 0.45


def _has_images(page) -> bool:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[name].get("/Subtype") == "/Image" for name in xobjects)
    except Exception:  # a damaged resource dictionary: we only want to word a message
        return False


def _key(line: _Line) -> tuple[str, int]:
    """Running heads repeat their words (page numbers aside) at the same height."""
    return re.sub(r"\d+", "#", " ".join(line.text.casefold().split())), round(line.y / 4)


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Without the lines repeated at the top or bottom of pages, and bare page numbers."""
    zones = []
    for page in pages:
        by_height = sorted(page, key=lambda line: -line.y)
        zone = by_height[:_ZONE] + by_height[-_ZONE:] if len(page) > _ZONE else by_height
        zones.append({id(line) for line in zone})
    counts: Counter[tuple[str, int]] = Counter()
    for page, zone in zip(pages, zones, strict=True):
        counts.update({_key(line) for line in page if id(line) in zone})
    threshold = max(2, math.ceil(len(pages) * 0.5))
    running = {key for key, count in counts.items() if count >= threshold}
    kept = []
    for page, zone in zip(pages, zones, strict=True):
        kept.append(
            [
                line
                for line in page
                if id(line) not in zone
                or not (_key(line) in running or _PAGE_NUMBER.fullmatch(line.text))
            ]
        )
    return kept


def _body_size(lines: list[_Line]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _paragraphs(lines: list[_Line]) -> list[_Paragraph]:
    if not lines:
        return []
    body = _body_size(lines)
    body_lines = [line for line in lines if abs(line.size - body) <= 0.6]
    gaps = [
        a.y - b.y
        for a, b in zip(body_lines, body_lines[1:], strict=False)
        if a.page == b.page and 0 < a.y - b.y < body * 3
    ]
    leading = median(gaps) if gaps else body * 1.2
    lengths = sorted(len(line.text) for line in body_lines) or [80]
    full = lengths[int(len(lengths) * 0.8)]
    margins = Counter(round(line.x) for line in body_lines)
    margin = min(x for x, count in margins.items() if count >= margins.most_common(1)[0][1] / 3)

    paragraphs: list[_Paragraph] = []
    previous: _Line | None = None
    for line in lines:
        kind = "h" if line.size >= body * 1.15 and len(line.text) <= 200 else "p"
        text = line.text
        if kind == "p" and _BULLET.match(text):
            kind, text = "li", _BULLET.sub("", text)
        current = paragraphs[-1] if paragraphs else None
        if (
            current is None
            or previous is None
            or kind == "li"
            or (kind == "h") != (current.kind == "h")
            or (kind == "h" and abs(line.size - current.size) > 0.5)
            or _ends_paragraph(previous, line, leading, full, margin, body)
        ):
            paragraphs.append(_Paragraph(kind, line.size, line.page, [text]))
        else:
            current.lines.append(text)
        previous = line
    return paragraphs


def _ends_paragraph(previous: _Line, line: _Line, leading, full, margin, body) -> bool:
    short_end = len(previous.text) < full * 0.75 and bool(_SENTENCE_END.search(previous.text))
    if previous.page != line.page:
        return short_end
    gap = previous.y - line.y
    if gap > leading * 1.45:
        return True
    indented = line.x > margin + body * 0.8 and previous.x <= margin + body * 0.4
    return short_end or indented


def _metadata(reader: PdfReader) -> tuple[str | None, str | None]:
    try:
        info = reader.metadata
        title = " ".join(str(info.title or "").split()) if info else ""
        author = " ".join(str(info.author or "").split()) if info else ""
    except Exception:  # unreadable metadata is no reason to refuse the text
        return None, None
    if not title or len(title) < 3 or _BAD_TITLES.match(title):
        title = ""
    return title or None, author or None


def _take_title(title: str | None, paragraphs: list[_Paragraph]):
    """The title: the document's own, else the largest heading that opens the first page.

    That heading leaves the body, with the small print above it on that page (a journal's
    name, a running head on a one-page document) that no other page repeats.
    """
    headings = [p for p in paragraphs if p.kind == "h"]
    if not headings:
        return title, paragraphs
    largest = max(p.size for p in headings)
    body = _most_common_size(paragraphs)
    for index, paragraph in enumerate(paragraphs[:3]):
        if paragraph.page != 0:
            break
        if paragraph.kind != "h":
            if paragraph.size >= body - 0.5:
                break  # body text before any heading: the first page has no title line
            continue
        heading = " ".join(" ".join(paragraph.lines).split())
        if title and heading.casefold() != title.casefold():
            return title, paragraphs
        if not title and paragraph.size < largest:
            return title, paragraphs
        return heading, paragraphs[index + 1 :]
    return title, paragraphs


def _most_common_size(paragraphs: list[_Paragraph]) -> float:
    sizes: Counter[float] = Counter()
    for paragraph in paragraphs:
        sizes[round(paragraph.size * 2) / 2] += sum(len(line) for line in paragraph.lines)
    return sizes.most_common(1)[0][0]


def _markdown(paragraphs: list[_Paragraph], vocabulary: Counter, body: float) -> str:
    blocks: list[str] = []
    for paragraph in paragraphs:
        text = escape_text(_join(paragraph.lines, vocabulary))
        if paragraph.kind == "h":
            level = "##" if paragraph.size >= body * 1.5 else "###"
            blocks.append(f"{level} {text}")
        elif paragraph.kind == "li":
            if blocks and blocks[-1].startswith("- "):
                blocks[-1] += f"\n- {text}"
            else:
                blocks.append(f"- {text}")
        else:
            blocks.append(text)
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _join(lines: list[str], vocabulary: Counter) -> str:
    text = lines[0]
    for line in lines[1:]:
        hyphen = _HYPHENATED.search(text)
        if hyphen and line[:1].isalpha():
            head = hyphen.group(1)
            tail = _WORD.match(line)
            tail_word = tail.group(0) if tail else ""
            joined = (head + tail_word).casefold()
            kept = f"{head}-{tail_word}".casefold()
            if text.endswith("\u00ad") or (
                line[:1].islower() and vocabulary[kept] <= vocabulary[joined]
            ):
                text = text[:-1] + line  # a word broken at the line's end
            else:
                text = text[:-1] + "-" + line  # a hyphenated compound ("well-known")
        else:
            text = f"{text} {line}"
    return text
