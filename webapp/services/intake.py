"""What a person hands in (pasted text, a file, a web address) turned into an extracted
article, with messages they can act on; the drafts that hold it between preview and
publication; publishing it, or saving it as a new version of an article they own.

Every way in ends in services.documents.import_extracted, the one path into stored versions.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import (
    ArticleDraft,
    ArticleDraftImage,
    Document,
    DocumentVersion,
    User,
    utcnow,
)
from webapp.services import documents
from webapp.services.documents import ImportResult
from webapp.services.versions import (
    ReanchorPlan,
    annotations_of,
    plan_reanchor,
    summarize_change,
    texts_of,
)
from webapp.text.document import build_layout
from webapp.text.extract import ExtractedArticle, ExtractError, ImageAsset, extract
from webapp.text.fetch import fetch_article
from webapp.text.importer import ArticleFormatError

MAX_TEXT_CHARS = 300_000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_URL_CHARS = 2_000
DRAFT_LIFETIME = timedelta(hours=24)
WAYS = ("text", "file", "url")
FIELD_LIMITS = {"title": 500, "byline": 500, "date": 100, "source_url": 2_000}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IntakeError(ValueError):
    """Input a person can fix; `field` names the form field the message is about, `status`
    the HTTP status to answer with (422 unless the input is too large or missing)."""

    def __init__(self, message: str, field: str = "source", status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Overrides:
    """Metadata typed in the form; None where the field was left empty (extracted wins)."""

    title: str | None = None
    byline: str | None = None
    date_text: str | None = None
    source_url: str | None = None

    def as_kwargs(self) -> dict[str, str | None]:
        return {
            "title": self.title,
            "byline": self.byline,
            "date_text": self.date_text,
            "source_url": self.source_url,
        }


def _one_line(value: str | None, field: str, exact: bool) -> str | None:
    """None for a field left out, or left empty on a form where empty means "take it from
    the article"; "" for one emptied where the form showed every detail (`exact`: the
    preview, the edit), which clears it (except a title: an article needs one)."""
    text = " ".join(CONTROL.sub("", value or "").split())
    if len(text) > FIELD_LIMITS[field]:
        label = {"source_url": "source address"}.get(field, field)
        raise IntakeError(
            f"The {label} is {len(text):,} characters long; the limit is {FIELD_LIMITS[field]:,}.",
            field,
        )
    if not text:
        return "" if exact and value is not None else None
    return text


def check_web_address(value: str, field: str) -> str:
    """An http(s) address with a host, or IntakeError."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise IntakeError(
            f"{value[:80]!r} is not a web address: it must start with http:// or https://.",
            field,
        )
    return value


def read_overrides(values: Mapping[str, str]) -> Overrides:
    """The metadata fields of the form: title, byline, date, source_url; `details=exact`
    says the form showed them all, so an empty one is cleared."""
    exact = values.get("details") == "exact"
    source_url = _one_line(values.get("source_url"), "source_url", exact)
    if source_url:
        check_web_address(source_url, "source_url")
    return Overrides(
        title=_one_line(values.get("title"), "title", exact),
        byline=_one_line(values.get("byline"), "byline", exact),
        date_text=_one_line(values.get("date"), "date", exact),
        source_url=source_url,
    )


def _checked(article: ExtractedArticle) -> ExtractedArticle:
    if not article.body_markdown.strip() and not article.images:
        raise IntakeError("There is no text in it to read and annotate.")
    return article


def _extract(data: bytes, **hints) -> ExtractedArticle:
    try:
        return _checked(extract(data, **hints))
    except (ExtractError, ArticleFormatError) as error:
        raise IntakeError(_sentence(str(error))) from None


def _sentence(message: str) -> str:
    message = message.strip()
    if message and message[0].islower():
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def from_text(text: str) -> ExtractedArticle:
    """Pasted Markdown or plain text (control characters a paste may carry are dropped)."""
    text = CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise IntakeError("The text is empty: paste the article's text.", "text")
    if len(text) > MAX_TEXT_CHARS:
        raise IntakeError(
            f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}. "
            "Split it into parts.",
            "text",
            413,
        )
    try:
        return _extract(text.encode("utf-8"), content_type="text/plain")
    except IntakeError as error:
        raise IntakeError(str(error), "text", error.status) from None


def from_upload(data: bytes, filename: str | None, content_type: str | None) -> ExtractedArticle:
    """An uploaded file, judged by its content."""
    if not data:
        name = f" {filename}" if filename else ""
        raise IntakeError(f"The file{name} is empty: choose the article's file.", "file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise IntakeError(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1_048_576} MB.",
            "file",
            413,
        )
    try:
        return _extract(data, filename=filename, content_type=content_type)
    except IntakeError as error:
        raise IntakeError(str(error), "file", error.status) from None


def from_url(
    url: str, allowed_hosts: frozenset[str] = frozenset(), timeout: float = 10
) -> ExtractedArticle:
    """A web page (or a PDF) fetched safely, its article extracted (webapp.text.fetch)."""
    url = (url or "").strip()
    if not url:
        raise IntakeError("The web address is empty: paste the article's address.", "url", 400)
    if len(url) > MAX_URL_CHARS:
        raise IntakeError(f"A web address has at most {MAX_URL_CHARS:,} characters.", "url")
    check_web_address(url, "url")
    try:
        return _checked(fetch_article(url, allowed_hosts=allowed_hosts, timeout=timeout))
    except (ExtractError, ArticleFormatError) as error:
        raise IntakeError(_sentence(str(error)), "url") from None
    except IntakeError as error:
        raise IntakeError(str(error), "url", error.status) from None


# --- drafts -----------------------------------------------------------------------------------


def edited_markdown(
    session: Session, text: str, current: DocumentVersion, overrides: Overrides
) -> ExtractedArticle:
    """The owner's edit of an article's Markdown body and details (the form's fields; one
    not sent keeps the current value); it may keep showing the current version's images."""
    text = CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise IntakeError("The text is empty: an article needs a body to read.", "text")
    if len(text) > MAX_TEXT_CHARS:
        raise IntakeError(
            f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}.",
            "text",
            413,
        )

    def given(value: str | None, now: str | None) -> str | None:
        return now if value is None else (value or None)

    article = ExtractedArticle(
        kind="markdown",
        title=given(overrides.title, current.title),
        byline=given(overrides.byline, current.byline),
        date_text=given(overrides.date_text, current.published_text),
        source_url=given(overrides.source_url, current.source_url),
        body_markdown=text,
        images=(),
    )
    return documents.with_assets(article, documents.assets_of(session, current))


def sweep_drafts(session: Session, now: datetime | None = None) -> None:
    """Forget drafts older than DRAFT_LIFETIME (their images go with them)."""
    cutoff = (now or utcnow()) - DRAFT_LIFETIME
    session.execute(sa.delete(ArticleDraft).where(ArticleDraft.created_at < cutoff))


def save_draft(
    session: Session,
    owner: User,
    article: ExtractedArticle,
    *,
    way: str,
    input_text: str | None = None,
    input_name: str | None = None,
    document: Document | None = None,
) -> ArticleDraft:
    sweep_drafts(session)
    draft = ArticleDraft(
        token=secrets.token_urlsafe(24),
        owner_id=owner.id,
        document_id=document.id if document else None,
        base_version_id=document.current_version_id if document else None,
        way=way,
        input_text=CONTROL.sub("", input_text) if input_text is not None else None,
        input_name=CONTROL.sub("", input_name or "")[:2000] or None,
        kind=article.kind,
        title=(article.title or "")[:500] or None,
        byline=(article.byline or "")[:500] or None,
        date_text=(article.date_text or "")[:100] or None,
        source_url=(article.source_url or "")[:2000] or None,
        body_markdown=article.body_markdown,
        notes="\n".join(" ".join(note.split()) for note in article.notes),
        images=[
            ArticleDraftImage(
                digest=image.digest,
                content_type=image.content_type,
                alt=image.alt,
                data=image.data,
            )
            for image in article.images
        ],
    )
    session.add(draft)
    session.flush()
    return draft


def load_draft(
    session: Session, owner: User, token: str | None, document: Document | None = None
) -> ArticleDraft | None:
    """The owner's live draft with this token (for this article, when editing), or None."""
    if not token or len(token) > 64:
        return None
    draft = session.scalar(
        sa.select(ArticleDraft).where(
            ArticleDraft.token == token,
            ArticleDraft.owner_id == owner.id,
            ArticleDraft.created_at >= utcnow() - DRAFT_LIFETIME,
        )
    )
    if draft is None:
        return None
    if (draft.document_id or None) != (document.id if document else None):
        return None
    return draft


def draft_article(draft: ArticleDraft) -> ExtractedArticle:
    return ExtractedArticle(
        kind=draft.kind,
        title=draft.title,
        byline=draft.byline,
        date_text=draft.date_text,
        source_url=draft.source_url,
        body_markdown=draft.body_markdown,
        images=tuple(
            ImageAsset(
                digest=image.digest, content_type=image.content_type, data=image.data, alt=image.alt
            )
            for image in draft.images
        ),
        notes=tuple(note for note in (draft.notes or "").split("\n") if note),
    )


@dataclass(frozen=True)
class Preview:
    """What readers will see (webapp.services.documents.preview_extracted) and its text."""

    title: str | None
    byline: str | None
    date_text: str | None
    source_url: str | None
    html: str  # rendered as the reader renders it (spans, figures), images inline
    word_count: int
    text: str  # the canonical text it would have, for the dry run of re-anchoring
    notes: tuple[str, ...] = ()  # what the extractor left out, and why


def preview(article: ExtractedArticle, overrides: Overrides) -> Preview:
    try:
        shown = documents.preview_extracted(article, **overrides.as_kwargs())
    except (ExtractError, ArticleFormatError) as error:
        raise IntakeError(_sentence(str(error))) from None
    return Preview(
        title=shown.title,
        byline=shown.byline,
        date_text=shown.date_text,
        source_url=shown.source_url,
        html=shown.html,
        word_count=shown.word_count,
        text=build_layout(shown.html).text,
        notes=shown.notes,
    )


def require_title(article: ExtractedArticle | ArticleDraft, overrides: Overrides) -> None:
    if not (overrides.title or article.title):
        raise IntakeError(
            "It has no title: type one in the Title field (or start a pasted text with a "
            "'# Title' line).",
            "title",
        )


def _import(
    session: Session,
    draft: ArticleDraft,
    overrides: Overrides,
    source_name: str,
    owner_id: int | None,
) -> ImportResult:
    """The draft through the one path into stored versions."""
    article = draft_article(draft)
    require_title(article, overrides)
    try:
        return documents.import_extracted(
            session, article, source_name=source_name, owner_id=owner_id, **overrides.as_kwargs()
        )
    except (ExtractError, ArticleFormatError) as error:
        raise IntakeError(_sentence(str(error))) from None


def publish(
    session: Session, owner: User, draft: ArticleDraft, overrides: Overrides
) -> ImportResult:
    """Store the draft as a new article owned by `owner` (its first version), and forget it."""
    result = _import(session, draft, overrides, f"web:{uuid.uuid4().hex}", owner.id)
    version = result.document.current_version
    version.created_by_id = owner.id
    version.summary = {
        "text": "Added in the browser from pasted text",
        "file": f"Added in the browser from the file {draft.input_name or ''}".rstrip(),
        "url": f"Added in the browser from {draft.input_name or 'a web address'}",
    }.get(draft.way, "Added in the browser")[:500]
    session.delete(draft)
    session.flush()
    return result


def plan_for(session: Session, document: Document, new_text: str) -> ReanchorPlan:
    """What a version with `new_text` would do to the article's annotations (a dry run)."""
    annotations = annotations_of(session, document)
    return plan_reanchor(annotations, new_text, texts_of(session, annotations))


HOW = {
    "edit": "Edited in the browser",
    "file": "Replaced by the file {name}",
    "url": "Fetched again from {name}",
}


def how_changed(draft: ArticleDraft) -> str:
    return HOW.get(draft.way, HOW["edit"]).format(name=draft.input_name or "")


def save_version(
    session: Session, editor: User, document: Document, draft: ArticleDraft, overrides: Overrides
) -> ImportResult:
    """Store the draft as the article's next version (its annotations re-anchored as the
    review showed), recording who made it and what changed; forget the draft."""
    if draft.base_version_id != document.current_version_id:
        raise IntakeError(
            "The article changed since you started this edit. Review your changes again."
        )
    previous = document.current_version
    result = _import(session, draft, overrides, document.source_name, document.owner_id)
    if result.status != "unchanged":
        version = document.current_version
        version.created_by_id = editor.id
        version.summary = summarize_change(previous, version, how_changed(draft))
    session.delete(draft)
    session.flush()
    return result
