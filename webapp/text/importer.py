"""Parse an article in the seed's Markdown shape into metadata and body.

The shape: `# Title`, a `By ...` line, a date line, body paragraphs, and a
trailing `Original url:` line followed by an autolink (on the same line or the
next). Only the title is required; the rest is taken when present.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from markdown_it import MarkdownIt

# One limit for every way in (file, paste, upload, web address): the article's text.
MAX_ARTICLE_CHARS = 300_000

# A closing run of `#` counts only after white space (CommonMark): "# Learning C#" keeps its #.
_TITLE = re.compile(r"^#\s+(?P<title>.+?)(?:\s+#+)?\s*$")
_BYLINE = re.compile(r"^by\s+(?P<by>.+)$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^original\s+url\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
_AUTOLINK = re.compile(r"^<?(?P<url>https?://[^\s<>]+)>?$")
_MAX_BYLINE_CHARS = 120
_INLINE = MarkdownIt("commonmark", {"html": False})
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d %Y")


class ArticleFormatError(ValueError):
    """The text is not an article in the expected shape."""


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    byline: str | None
    published: date | None
    published_text: str | None
    source_url: str | None
    body_markdown: str
    content_hash: str


def inline_to_plain(markdown: str) -> str:
    """Plain text of a one-line Markdown fragment (links, emphasis, escapes, entities).

    Parsed by the same CommonMark parser as the body, so `snake_case` keeps its
    underscores and `\\*` is a literal star.
    """
    parts = []
    for token in _INLINE.parseInline(markdown):
        for child in token.children or ():
            if child.type in {"text", "code_inline", "image"}:
                parts.append(child.content)
            elif child.type in {"softbreak", "hardbreak"}:
                parts.append(" ")
    return "".join(parts).strip()


def parse_date(text: str) -> date | None:
    cleaned = re.sub(r"\s+", " ", inline_to_plain(text)).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def slugify(title: str, max_length: int = 80) -> str:
    """A URL slug that keeps letters of any script (Arabic, Cyrillic, CJK...)."""
    text = unicodedata.normalize("NFKC", title).casefold()
    # Keep combining marks (Arabic harakat, Devanagari vowel signs): `\w` alone splits words.
    text = "".join(
        char if char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M" else "-"
        for char in text
    )
    text = re.sub(r"-+", "-", text).strip("-_")
    text = text[:max_length].strip("-_")
    return text or "article"


def parse_article(source: str) -> ParsedArticle:
    """Split an article into metadata and body; raise ArticleFormatError if it has no title."""
    if "\x00" in source:
        raise ArticleFormatError("the file is binary, not a Markdown article")
    if len(source) > MAX_ARTICLE_CHARS:
        raise ArticleFormatError(
            f"the article is {len(source):,} characters long; the limit is {MAX_ARTICLE_CHARS:,}"
        )
    text = unicodedata.normalize("NFC", source.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.lstrip("\ufeff")
    lines = text.split("\n")

    index = _skip_blank(lines, 0)
    match = _TITLE.match(lines[index].strip()) if index < len(lines) else None
    if not match:
        raise ArticleFormatError(
            "the article must start with a '# Title' line (found "
            + (repr(lines[index].strip()[:60]) if index < len(lines) else "an empty file")
            + ")"
        )
    title = inline_to_plain(match.group("title"))
    if not title:
        raise ArticleFormatError("the '# Title' line has no text")
    front = read_front_matter(lines, index + 1)
    body = "\n".join(front.body_lines).strip("\n")
    if not body.strip():
        raise ArticleFormatError("the article has a title but no body text")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ParsedArticle(
        title=title,
        byline=front.byline,
        published=front.published,
        published_text=front.published_text,
        source_url=front.source_url,
        body_markdown=body + "\n",
        content_hash=digest,
    )


@dataclass(frozen=True)
class FrontMatter:
    byline: str | None
    published: date | None
    published_text: str | None
    source_url: str | None
    body_lines: list[str]


def read_front_matter(lines: list[str], index: int) -> FrontMatter:
    """The `By ...` and date lines from `index` on, and a trailing `Original url:` block."""
    index = _skip_blank(lines, index)
    byline = None
    if index < len(lines) and (by := _BYLINE.match(lines[index].strip())):
        candidate = inline_to_plain(by.group("by"))
        if _looks_like_byline(candidate):
            byline = candidate
            index = _skip_blank(lines, index + 1)

    published = None
    published_text = None
    if index < len(lines) and (when := parse_date(lines[index])):
        published = when
        published_text = inline_to_plain(lines[index])
        index = _skip_blank(lines, index + 1)

    body_lines, source_url = _take_original_url(lines[index:])
    return FrontMatter(byline, published, published_text, source_url, body_lines)


def _looks_like_byline(text: str) -> bool:
    """Names, not a sentence: "By the time we arrived, ..." is the first paragraph."""
    return bool(text) and len(text) <= _MAX_BYLINE_CHARS and not text[0].islower()


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _take_original_url(lines: list[str]) -> tuple[list[str], str | None]:
    """Remove a trailing `Original url:` block and return its URL."""
    for position in range(len(lines) - 1, -1, -1):
        match = _ORIGINAL.match(lines[position].strip())
        if not match:
            continue
        rest = [match.group("rest").strip()] + [line.strip() for line in lines[position + 1 :]]
        rest = [part for part in rest if part]
        if len(rest) > 1:
            return lines, None  # more text follows: not a trailing metadata line
        url = None
        if rest:
            link = _AUTOLINK.match(rest[0])
            if not link:
                return lines, None
            url = link.group("url")
        return lines[:position], url
    return lines, None
