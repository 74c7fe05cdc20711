"""An owner's articles: share links, archive, restore, delete for good, the version list."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from webapp.models import (
    Annotation,
    ArticleDraft,
    Assignment,
    Classroom,
    Document,
    DocumentVersion,
    Reply,
    utcnow,
)


class ArticleError(ValueError):
    """Something about an article its owner can act on; the message says what."""


def share_on(document: Document) -> str:
    """Turn the share link on (a new random token each time it is turned on)."""
    if document.share_token is None:
        document.share_token = secrets.token_urlsafe(24)
    return document.share_token


def share_off(document: Document) -> None:
    """Turn the share link off: whoever holds it loses access (unless a class gives it)."""
    document.share_token = None


def find_shared(session: Session, token: str) -> Document | None:
    """The article whose share link carries this token, if the link is on."""
    if not token or len(token) > 64:
        return None
    document = session.scalar(sa.select(Document).where(Document.share_token == token))
    if document is None or document.archived_at is not None:
        return None
    return document


def archive(document: Document) -> None:
    if document.archived_at is None:
        document.archived_at = utcnow()


def restore(document: Document) -> None:
    document.archived_at = None


def others_involved(session: Session, document: Document) -> int:
    """How many annotations and replies people other than the owner left on the article
    (deleted ones too: an undo or a thread may bring them back)."""
    annotations = session.scalar(
        sa.select(sa.func.count(Annotation.id)).where(
            Annotation.document_id == document.id, Annotation.author_id != document.owner_id
        )
    )
    replies = session.scalar(
        sa.select(sa.func.count(Reply.id))
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .where(Annotation.document_id == document.id, Reply.author_id != document.owner_id)
    )
    return annotations + replies


def delete_for_good(session: Session, document: Document) -> None:
    """Delete the article, its versions and the owner's own notes; refused while others
    have annotated it (archive it instead: their notes stay theirs)."""
    others = others_involved(session, document)
    if others:
        raise ArticleError(
            f"Others have left {others} note{'s' if others != 1 else ''} or "
            f"repl{'ies' if others != 1 else 'y'} on this article, so it cannot be deleted. "
            "Archive it instead: it leaves every library and their notes stay theirs."
        )
    # The current version points back at the document: unlink before the cascade.
    document.current_version = None
    session.flush()
    session.execute(sa.delete(ArticleDraft).where(ArticleDraft.document_id == document.id))
    session.execute(sa.delete(Annotation).where(Annotation.document_id == document.id))
    session.execute(sa.delete(DocumentVersion).where(DocumentVersion.document_id == document.id))
    session.delete(document)
    session.flush()


def versions_of(session: Session, document: Document) -> list[DocumentVersion]:
    """Every version, newest first, with who made it."""
    return list(
        session.scalars(
            sa.select(DocumentVersion)
            .options(selectinload(DocumentVersion.created_by))
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number.desc())
        )
    )


def assignments_of_document(session: Session, document: Document) -> list[Assignment]:
    """The classes reading the article, with their due dates."""
    return list(
        session.scalars(
            sa.select(Assignment)
            .join(Classroom, Classroom.id == Assignment.classroom_id)
            .options(contains_eager(Assignment.classroom))
            .where(Assignment.document_id == document.id)
            .order_by(sa.func.lower(Classroom.name), Classroom.id)
        )
    )
