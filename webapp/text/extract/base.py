"""What every extractor returns, the error it raises, and the limits they share."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.text.importer import MAX_ARTICLE_CHARS, ArticleFormatError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGES = 40
MAX_IMAGES_TOTAL_BYTES = 30 * 1024 * 1024
MAX_ALT_CHARS = 300

__all__ = [
    "MAX_ARTICLE_CHARS",
    "MAX_IMAGES",
    "MAX_IMAGES_TOTAL_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_UPLOAD_BYTES",
    "ExtractError",
    "ExtractedArticle",
    "ImageAsset",
]


class ExtractError(ArticleFormatError):
    """A message a person can act on ("This PDF has no text layer: ...").

    A ValueError, and an ArticleFormatError so that the command line's handling of a bad
    Markdown file covers every format.
    """


@dataclass(frozen=True)
class ImageAsset:
    digest: str  # sha256 hex of data; the key the article refers to
    content_type: str  # image/png, image/jpeg, image/gif, image/webp (sniffed from the bytes)
    data: bytes
    alt: str


@dataclass(frozen=True)
class ExtractedArticle:
    kind: str  # "markdown" | "text" | "html" | "docx" | "pdf"
    title: str | None
    byline: str | None
    date_text: str | None  # as found; parse with importer.parse_date
    source_url: str | None  # canonical address when known
    body_markdown: str  # CommonMark; images as ![alt](asset:<digest>) on a line of their own
    images: tuple[ImageAsset, ...]
    notes: tuple[str, ...] = ()  # what was left out and why ("2 images over 5 MB ...")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def check_length(markdown: str) -> None:
    if len(markdown) > MAX_ARTICLE_CHARS:
        raise ExtractError(
            f"The article is {len(markdown):,} characters long; the limit is "
            f"{MAX_ARTICLE_CHARS:,}. Split it into parts."
        )
