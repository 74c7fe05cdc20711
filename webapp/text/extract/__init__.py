"""Every way an article comes in, to one shape: metadata, a CommonMark body, its images.

`extract()` judges a file by its content (magic bytes, then parsing), never by its name or
declared type, and refuses what it cannot read with a message a person can act on. The
result goes through `webapp.services.documents.import_extracted`, the one path into
stored versions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from webapp.text.extract.base import (
    MAX_ARTICLE_CHARS,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    MAX_IMAGES_TOTAL_BYTES,
    MAX_UPLOAD_BYTES,
    ExtractedArticle,
    ExtractError,
    ImageAsset,
    check_length,
    megabytes,
)
from webapp.text.extract.sniff import decode_text, is_svg, looks_like_html, sniff

__all__ = [
    "MAX_ARTICLE_CHARS",
    "MAX_IMAGES",
    "MAX_IMAGES_TOTAL_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_UPLOAD_BYTES",
    "ExtractError",
    "ExtractedArticle",
    "ImageAsset",
    "SUPPORTED",
    "extract",
]

SUPPORTED = "Markdown, plain text, HTML, a Word document (.docx) or a PDF"

# What a name or a declared type claims, for the message when the content says otherwise.
_CLAIMS = {
    ".md": ("markdown", "Markdown"),
    ".markdown": ("markdown", "Markdown"),
    ".txt": ("text", "plain text"),
    ".text": ("text", "plain text"),
    ".html": ("html", "a web page (HTML)"),
    ".htm": ("html", "a web page (HTML)"),
    ".xhtml": ("html", "a web page (HTML)"),
    ".docx": ("docx", "a Word document (.docx)"),
    ".doc": ("docx", "a Word document"),
    ".pdf": ("pdf", "a PDF"),
}
_CLAIMED_TYPES = {
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/plain": ".txt",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
}

FetchImage = Callable[[str], "bytes | None"]


def extract(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    base_url: str | None = None,
    fetch_image: FetchImage | None = None,
) -> ExtractedArticle:
    """The article in `data`, whatever its format; ExtractError when it cannot be read.

    `filename` and `content_type` only word the messages and break a tie between Markdown
    and plain text. `fetch_image(url) -> bytes | None` copies a web page's images (size
    capped by the caller, as the safe fetcher does); without it they are left out.
    """
    name = PurePath(filename).name if filename else None
    claim = _claim(name, content_type)
    if not data or not data.strip():
        raise ExtractError(f"{name or 'The file'} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ExtractError(
            f"{name or 'The file'} is {megabytes(len(data))}; the limit is "
            f"{megabytes(MAX_UPLOAD_BYTES)}."
        )
    kind = sniff(data)
    # The extractors' libraries load when first needed: together they take about a second.
    if kind == "pdf":
        from webapp.text.extract.pdf import extract_pdf

        article = extract_pdf(data)
    elif kind == "docx":
        from webapp.text.extract.docx import extract_docx

        article = extract_docx(data)
    elif kind == "text":
        article = _extract_text(data, name, claim, content_type, base_url, fetch_image)
    else:
        raise ExtractError(_refusal(name, kind, claim))
    if not article.body_markdown.strip():
        raise ExtractError(f"{name or 'The file'} has no article text in it.")
    check_length(article.body_markdown)
    return article


def _extract_text(data, name, claim, content_type, base_url, fetch_image) -> ExtractedArticle:
    text = decode_text(data, content_type)
    if text is None:
        raise ExtractError(
            f"{name or 'The file'} is not UTF-8 text. Save it as UTF-8 (or as .docx or PDF) "
            "and try again."
        )
    if is_svg(text):
        raise ExtractError(_refusal(name, "an SVG image", claim))
    claimed_kind = _CLAIMS[claim][0] if claim else None
    strong_only = claimed_kind in {"markdown", "text"}
    if looks_like_html(text, strong_only=strong_only):
        from webapp.text.extract.html import extract_html

        return extract_html(text, base_url=base_url, fetch_image=fetch_image)
    from webapp.text.extract.plain import extract_plain

    hint = claimed_kind if claimed_kind in {"markdown", "text"} else None
    return extract_plain(text, hint=hint)


def _claim(name: str | None, content_type: str | None) -> str | None:
    if name and (suffix := PurePath(name).suffix.lower()) in _CLAIMS:
        return suffix
    main = (content_type or "").split(";")[0].strip().lower()
    return _CLAIMED_TYPES.get(main)


def _refusal(name: str | None, what: str, claim: str | None) -> str:
    subject = name or "The file"
    if claim:
        return f"{subject} is {what}, not {_CLAIMS[claim][1]}. Upload {SUPPORTED}."
    return f"{subject} is {what}, not an article. Upload {SUPPORTED}."
