"""Importing articles as documents and versions, and their cached layouts."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Document, DocumentVersion
from webapp.services.versions import reanchor_document
from webapp.text.document import Layout, build_layout
from webapp.text.importer import ArticleFormatError, parse_article, slugify
from webapp.text.sanitize import render_article

ARTICLE_SUFFIXES = (".md", ".txt", ".markdown")


@dataclass(frozen=True)
class ImportResult:
    document: Document
    status: str  # "created", "updated" or "unchanged"
    reanchored: int = 0
    orphaned: int = 0


def read_article_file(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ArticleFormatError(f"cannot read {path}: {error.strerror}") from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArticleFormatError(f"{path.name} is not UTF-8 text") from error


def import_article(session: Session, source: str, source_name: str) -> ImportResult:
    """Create or update the document imported from `source_name`; idempotent."""
    parsed = parse_article(source)
    document = session.scalar(sa.select(Document).where(Document.source_name == source_name))
    if document is not None and document.current_version is not None:
        if document.current_version.content_hash == parsed.content_hash:
            return ImportResult(document, "unchanged")

    html = render_article(parsed.body_markdown)
    layout = build_layout(html)
    if not layout.text.strip():
        raise ArticleFormatError("the article body has no readable text")

    status = "updated"
    if document is None:
        status = "created"
        document = Document(slug=_unique_slug(session, parsed.title), source_name=source_name)
        session.add(document)
        session.flush()
        number = 1
    else:
        number = document.current_version.number + 1 if document.current_version else 1
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        title=parsed.title,
        byline=parsed.byline,
        published=parsed.published,
        published_text=parsed.published_text,
        source_url=parsed.source_url,
        body_markdown=parsed.body_markdown,
        body_html=html,
        text=layout.text,
        content_hash=parsed.content_hash,
    )
    session.add(version)
    session.flush()
    document.current_version = version
    reanchored, orphaned = _reanchor_annotations(session, document, version)
    session.flush()
    return ImportResult(document, status, reanchored, orphaned)


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    slug, n = base, 2
    while session.scalar(sa.select(Document.id).where(Document.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _reanchor_annotations(
    session: Session, document: Document, version: DocumentVersion
) -> tuple[int, int]:
    """Move every annotation to the new version, or make it an orphan (orphans whose
    original quote is back re-attach): webapp/services/versions.py."""
    return reanchor_document(session, document, version)


def import_directory(session: Session, folder: Path) -> list[tuple[Path, ImportResult]]:
    results = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in ARTICLE_SUFFIXES and path.is_file():
            results.append((path, import_article(session, read_article_file(path), path.name)))
    return results


# Layouts are derived from a version's stored HTML, keyed by version id: safe to lose,
# never shared between processes, never stale (a version never changes).
_layouts: OrderedDict[int, Layout] = OrderedDict()
_layouts_lock = Lock()
_LAYOUT_CACHE_SIZE = 64


def layout_for(version: DocumentVersion) -> Layout:
    with _layouts_lock:
        layout = _layouts.get(version.id)
        if layout is not None:
            _layouts.move_to_end(version.id)
            return layout
    layout = build_layout(version.body_html)
    with _layouts_lock:
        _layouts[version.id] = layout
        while len(_layouts) > _LAYOUT_CACHE_SIZE:
            _layouts.popitem(last=False)
    return layout
