"""Markdown (the seed's shape, or any Markdown) and plain text."""

from __future__ import annotations

import re
import unicodedata

from webapp.text.extract.base import ExtractedArticle, ExtractError, check_length
from webapp.text.extract.tomarkdown import plain_paragraph
from webapp.text.importer import (
    ArticleFormatError,
    inline_to_plain,
    parse_article,
    read_front_matter,
)

_SEED_TITLE = re.compile(r"^#\s+\S")
_SETEXT_TITLE = re.compile(r"^=+\s*$")
_MARKDOWN_SIGNS = re.compile(
    r"^(#{1,6}\s|\s{0,3}[-*+]\s+\S|\s{0,3}\d{1,9}[.)]\s+\S|>\s|```|\|.*\|\s*$)"
    r"|\*\*[^*\n]+\*\*|\[[^\]\n]+\]\([^)\s]+\)|<https?://",
    re.M,
)
_MAX_TITLE_CHARS = 150


def extract_plain(text: str, *, hint: str | None) -> ExtractedArticle:
    """Markdown or plain text; `hint` ("markdown", "text" or None) breaks a tie only.

    A file that starts with `# Title` is the seed's shape whatever its name. Otherwise
    Markdown keeps its syntax and plain text is escaped so it reads as typed: paragraphs
    at blank lines, the first line the title when it stands alone and looks like one.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.lstrip("\ufeff")
    check_length(text)
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ExtractError("The text is empty.")
    if _SEED_TITLE.match(lines[first].strip()):
        return _seed_shape(text)
    if first + 1 < len(lines) and _SETEXT_TITLE.match(lines[first + 1].strip()):
        title = inline_to_plain(lines[first])
        return _markdown(title, lines, first + 2)
    is_markdown = hint == "markdown" or (hint is None and bool(_MARKDOWN_SIGNS.search(text)))
    if is_markdown:
        return _markdown(None, lines, first)
    return _plain(lines, first)


def _seed_shape(text: str) -> ExtractedArticle:
    try:
        parsed = parse_article(text)
    except ArticleFormatError as error:
        raise ExtractError(sentence(str(error))) from None
    return ExtractedArticle(
        kind="markdown",
        title=parsed.title,
        byline=parsed.byline,
        date_text=parsed.published_text,
        source_url=parsed.source_url,
        body_markdown=parsed.body_markdown,
        images=(),
    )


def _markdown(title: str | None, lines: list[str], index: int) -> ExtractedArticle:
    front = read_front_matter(lines, index)
    body = "\n".join(front.body_lines).strip("\n")
    return ExtractedArticle(
        kind="markdown",
        title=title or None,
        byline=front.byline,
        date_text=front.published_text,
        source_url=front.source_url,
        body_markdown=body + "\n" if body.strip() else "",
        images=(),
    )


def _plain(lines: list[str], index: int) -> ExtractedArticle:
    title = None
    paragraphs = _paragraphs(lines[index:])
    candidate = paragraphs[0]
    if len(paragraphs) > 1 and len(candidate) == 1 and _looks_like_title(candidate[0]):
        title = " ".join(candidate[0].split())
        index = lines.index(candidate[0], index) + 1
    front = read_front_matter(lines, index)
    body = "\n\n".join(plain_paragraph(p) for p in _paragraphs(front.body_lines))
    return ExtractedArticle(
        kind="text",
        title=title,
        byline=front.byline,
        date_text=front.published_text,
        source_url=front.source_url,
        body_markdown=body + "\n" if body.strip() else "",
        images=(),
    )


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs or [[]]


def _looks_like_title(line: str) -> bool:
    """One short line that does not end like a sentence or lead into a list."""
    line = line.strip()
    return 0 < len(line) <= _MAX_TITLE_CHARS and not line.endswith((".", ",", ";", ":"))


def sentence(message: str) -> str:
    """The importer's messages ("the article must ...") as a sentence for a person."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?", ")")) else message + "."
