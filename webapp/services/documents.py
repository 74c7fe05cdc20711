"""Importing articles as documents and versions, and their cached layouts.

`import_extracted` is the one path into stored versions for every way an article comes in
(the command line, seeds, paste, upload, a web address); `preview_extracted` shows what it
would store, storing nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Lock
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Document, DocumentAsset, DocumentVersion, VersionAsset
from webapp.services.participation import count_words
from webapp.services.versions import reanchor_document
from webapp.text.document import Layout, VoidTag, build_layout
from webapp.text.extract import (
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    MAX_UPLOAD_BYTES,
    ExtractedArticle,
    ExtractError,
    ImageAsset,
    extract,
)
from webapp.text.extract.images import sniff_image
from webapp.text.extract.plain import sentence
from webapp.text.importer import (
    MAX_ARTICLE_CHARS,
    ArticleFormatError,
    parse_article,
    parse_date,
    slugify,
)
from webapp.text.markdown import MEDIA_PREFIX
from webapp.text.marks import render_layout
from webapp.text.sanitize import render_article

ARTICLE_SUFFIXES = (".md", ".txt", ".markdown")
# The columns' sizes (models.DocumentVersion).


@dataclass(frozen=True)
class ImportResult:
    document: Document
    status: str  # "created", "updated" or "unchanged"
    reanchored: int = 0
    orphaned: int = 0


@dataclass(frozen=True)
class Preview:
    """What readers will see, before anything is stored."""

    title: str
    byline: str | None
    date_text: str | None
    source_url: str | None
    html: str  # the rendered body, as the reader shows it (sanitized; images inline)
    word_count: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Prepared:
    title: str
    byline: str | None
    published_text: str | None
    source_url: str | None
    body_markdown: str
    html: str
    layout: Layout
    images: tuple[ImageAsset, ...]  # those the body shows
    content_hash: str


def read_article_file(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ArticleFormatError(f"cannot read {path}: {error.strerror}") from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArticleFormatError(f"{path.name} is not UTF-8 text") from error


def extract_file(path: Path) -> ExtractedArticle:
    """The article in a file of any format the upload takes, judged by its content."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_UPLOAD_BYTES + 1)  # one byte past the limit: extract refuses it
    except OSError as error:
        raise ExtractError(f"cannot read {path}: {error.strerror}") from error
    return extract(data, filename=path.name)


def import_article(session: Session, source: str, source_name: str) -> ImportResult:
    """Create or update the document imported from `source_name` (Markdown in the seed's
    shape); idempotent."""
    parsed = parse_article(source)
    article = ExtractedArticle(
        kind="markdown",
        title=parsed.title,
        byline=parsed.byline,
        date_text=parsed.published_text,
        source_url=parsed.source_url,
        body_markdown=parsed.body_markdown,
        images=(),
    )
    return import_extracted(session, article, source_name=source_name, owner_id=None)


def import_extracted(
    session: Session,
    article: ExtractedArticle,
    *,
    source_name: str,
    owner_id: int | None,
    title: str | None = None,
    byline: str | None = None,
    date_text: str | None = None,
    source_url: str | None = None,
) -> ImportResult:
    """Create or update the document `source_name` from an extracted article; idempotent.

    The overrides win over what was extracted: None keeps the extracted value, a string
    replaces it (a blank byline, date or address clears it; a blank title keeps the
    extracted one, as an article needs a title). Raises ExtractError for an article that
    cannot be stored (no title, no text, too long) and stores nothing then. `owner_id`
    None is the public library (seeds, the command line).
    """
    _check_fits("file name", source_name, Document.source_name)
    prepared = _prepare(article, title, byline, date_text, source_url)
    document = session.scalar(sa.select(Document).where(Document.source_name == source_name))
    current = document.current_version if document is not None else None
    if current is not None and _same_content(current, prepared):
        return ImportResult(document, "unchanged")

    status = "updated"
    if document is None:
        status = "created"
        document = Document(slug=_unique_slug(session, prepared.title), source_name=source_name)
        if owner_id is not None:
            document.owner_id = owner_id  # the column comes with the web half of issue 7
        session.add(document)
        session.flush()
        number = 1
    else:
        number = current.number + 1 if current else 1
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        title=prepared.title,
        byline=prepared.byline,
        published=parse_date(prepared.published_text) if prepared.published_text else None,
        published_text=prepared.published_text,
        source_url=prepared.source_url,
        body_markdown=prepared.body_markdown,
        body_html=prepared.html,
        text=prepared.layout.text,
        content_hash=prepared.content_hash,
    )
    session.add(version)
    session.flush()
    _store_images(session, version, prepared.images)
    document.current_version = version
    # A first version has no annotations to move (and the query is not made at all).
    reanchored, orphaned = (
        (0, 0) if number == 1 else _reanchor_annotations(session, document, version)
    )
    session.flush()
    return ImportResult(document, status, reanchored, orphaned)


def preview_extracted(
    article: ExtractedArticle,
    *,
    title: str | None = None,
    byline: str | None = None,
    date_text: str | None = None,
    source_url: str | None = None,
) -> Preview:
    """Exactly what readers will see once imported (same overrides, same checks); nothing
    is stored, so the images are inline `data:` addresses instead of /media/ ones."""
    prepared = _prepare(article, title, byline, date_text, source_url)
    inline = {MEDIA_PREFIX + image.digest: _data_uri(image) for image in prepared.images}
    layout = prepared.layout
    items = [
        _inline_image(item, inline) if isinstance(item, VoidTag) else item for item in layout.items
    ]
    layout = Layout(layout.text, layout.blocks, items)
    return Preview(
        title=prepared.title,
        byline=prepared.byline,
        date_text=prepared.published_text,
        source_url=prepared.source_url,
        html=render_layout(layout, []),
        word_count=count_words(prepared.layout.text),
        notes=article.notes,
    )


def assets_of(session: Session, version: DocumentVersion) -> tuple[ImageAsset, ...]:
    """The images a stored version shows, to pass along when its text is edited."""
    rows = session.execute(
        sa.select(DocumentAsset)
        .join(VersionAsset, VersionAsset.asset_id == DocumentAsset.id)
        .where(VersionAsset.version_id == version.id)
        .order_by(DocumentAsset.id)
    ).scalars()
    return tuple(ImageAsset(row.digest, row.content_type, row.data, "") for row in rows)


def with_assets(article: ExtractedArticle, images: tuple[ImageAsset, ...]) -> ExtractedArticle:
    """The article, also allowed to show these images (e.g. an edited version's own)."""
    known = {image.digest for image in article.images}
    return replace(
        article, images=article.images + tuple(i for i in images if i.digest not in known)
    )


def _prepare(article, title, byline, date_text, source_url) -> _Prepared:
    title = _override(article.title, title, keep_blank=True)
    byline = _override(article.byline, byline)
    date_text = _override(article.date_text, date_text)
    source_url = _override(article.source_url, source_url)
    if not title:
        raise ExtractError(
            "The article has no title: it must start with a '# Title' line, or give one."
        )
    _check_fits("title", title, DocumentVersion.title)
    _check_fits("byline", byline, DocumentVersion.byline)
    _check_fits("date line", date_text, DocumentVersion.published_text)
    _check_fits("source URL", source_url, DocumentVersion.source_url)
    if source_url and urlsplit(source_url).scheme.lower() not in {"http", "https"}:
        raise ExtractError("The source address must start with http:// or https://.")
    body = article.body_markdown
    if len(body) > MAX_ARTICLE_CHARS:
        raise ExtractError(
            f"The article is {len(body):,} characters long; the limit is {MAX_ARTICLE_CHARS:,}."
        )
    images = _valid_images(article.images)
    html = render_article(body, {image.digest for image in images})
    layout = build_layout(html)
    if not layout.text.strip():
        raise ExtractError("The article has no text that can be read.")
    shown = {
        dict(item.attrs).get("src", "").removeprefix(MEDIA_PREFIX)
        for item in layout.items
        if isinstance(item, VoidTag) and item.tag == "img"
    }
    payload = json.dumps([title, byline, date_text, source_url, body], ensure_ascii=False)
    return _Prepared(
        title=title,
        byline=byline,
        published_text=date_text,
        source_url=source_url,
        body_markdown=body,
        html=html,
        layout=layout,
        images=tuple(image for image in images if image.digest in shown),
        content_hash=hashlib.sha256(payload.encode("utf-8")).hexdigest(),
    )


def _override(extracted: str | None, given: str | None, keep_blank: bool = False) -> str | None:
    if given is None:
        value = extracted
    else:
        value = given
        if keep_blank and not given.strip():
            value = extracted
    value = " ".join((value or "").split())
    return value or None


def _check_fits(label: str, value: str | None, column) -> None:
    """Metadata longer than its column is refused, never cut or left to the database
    (PostgreSQL raises, SQLite stores it anyway)."""
    limit = column.property.columns[0].type.length
    if value and len(value) > limit:
        raise ExtractError(
            sentence(f"the {label} is {len(value):,} characters long; the limit is {limit:,}")
        )


def _valid_images(images: tuple[ImageAsset, ...]) -> tuple[ImageAsset, ...]:
    """Only images whose bytes are what they claim: the digest and a type we serve."""
    valid = []
    for image in images:
        if len(valid) >= MAX_IMAGES or len(image.data) > MAX_IMAGE_BYTES:
            continue
        content_type = sniff_image(image.data)
        if content_type is None or hashlib.sha256(image.data).hexdigest() != image.digest:
            continue
        valid.append(replace(image, content_type=content_type))
    return tuple(valid)


def _same_content(version: DocumentVersion, prepared: _Prepared) -> bool:
    return (
        version.title,
        version.byline,
        version.published_text,
        version.source_url,
        version.body_markdown,
    ) == (
        prepared.title,
        prepared.byline,
        prepared.published_text,
        prepared.source_url,
        prepared.body_markdown,
    )


def _store_images(session: Session, version: DocumentVersion, images) -> None:
    for image in images:
        asset = session.scalar(sa.select(DocumentAsset).where(DocumentAsset.digest == image.digest))
        if asset is None:
            asset = DocumentAsset(
                digest=image.digest,
                content_type=image.content_type,
                size=len(image.data),
                data=image.data,
            )
            session.add(asset)
            session.flush()
        session.add(VersionAsset(version_id=version.id, asset_id=asset.id))


def _data_uri(image: ImageAsset) -> str:
    return f"data:{image.content_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def _inline_image(item: VoidTag, inline: dict[str, str]) -> VoidTag:
    attrs = tuple(
        (name, inline.get(value, value) if name == "src" else value) for name, value in item.attrs
    )
    return VoidTag(item.tag, attrs)


# Paths under /articles/ that are not articles: an article may not take them as its slug.
RESERVED_SLUGS = frozenset({"new"})


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    slug, n = (base, 2) if base not in RESERVED_SLUGS else (f"{base}-2", 3)
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
    """Import every article file in `folder`; a refusal names the file."""
    results = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in ARTICLE_SUFFIXES and path.is_file():
            try:
                result = import_article(session, read_article_file(path), path.name)
            except ArticleFormatError as error:
                raise ArticleFormatError(f"{path.name}: {error}") from error
            results.append((path, result))
    return results


# Layouts are derived from a version's stored HTML, keyed by version id and content hash:
# safe to lose, never shared between processes, never stale (a version never changes; the
# hash tells apart two databases, e.g. restored or per-test copies, that reuse an id).
_layouts: OrderedDict[tuple[int, str], Layout] = OrderedDict()
_layouts_lock = Lock()
_LAYOUT_CACHE_SIZE = 64


def layout_for(version: DocumentVersion) -> Layout:
    key = (version.id, version.content_hash)
    with _layouts_lock:
        layout = _layouts.get(key)
        if layout is not None:
            _layouts.move_to_end(key)
            return layout
    layout = build_layout(version.body_html)
    with _layouts_lock:
        _layouts[key] = layout
        while len(_layouts) > _LAYOUT_CACHE_SIZE:
            _layouts.popitem(last=False)
    return layout


# The body of a version drawn with no highlights (a visitor who is not logged in, a reader
# with none in the view) is the same for everyone who may read it: drawn once per version.
# Keyed as the layouts are; the access check comes before (get_document).
_plain_bodies: OrderedDict[tuple[int, str, bool], str] = OrderedDict()


def article_body(version: DocumentVersion, highlights: list, heat: bool = False) -> str:
    """The article's blocks with these highlights' marks (text/marks.render_layout)."""
    if highlights:
        return render_layout(layout_for(version), highlights, heat=heat)
    key = (version.id, version.content_hash, heat)
    with _layouts_lock:
        body = _plain_bodies.get(key)
        if body is not None:
            _plain_bodies.move_to_end(key)
            return body
    body = render_layout(layout_for(version), [], heat=heat)
    with _layouts_lock:
        _plain_bodies[key] = body
        while len(_plain_bodies) > _LAYOUT_CACHE_SIZE:
            _plain_bodies.popitem(last=False)
    return body
