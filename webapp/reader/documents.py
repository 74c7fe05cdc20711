"""The article a request is about, looked up through the visibility rule: a missing
article and one the visitor may not read get the same 404."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import abort, session
from flask_login import current_user
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import Document, DocumentVersion
from webapp.services.live import latest_change_of
from webapp.visibility import can_annotate_document, can_read_document

SHARES_KEY = "shares"


def held_shares() -> list[str]:
    """The share tokens this browser has opened (kept in the signed session)."""
    tokens = session.get(SHARES_KEY, [])
    return [t for t in tokens if isinstance(t, str)] if isinstance(tokens, list) else []


def hold_share(token: str) -> None:
    """Remember a share link's token in the session (the newest few)."""
    tokens = [t for t in held_shares() if t != token]
    session[SHARES_KEY] = (tokens + [token])[-50:]


def readable(document: Document | None) -> bool:
    """The document exists and the visitor may read it (webapp/visibility.py decides)."""
    return (
        document is not None
        and document.current_version is not None
        and can_read_document(current_user, document, held_shares())
    )


# Asked on every reader request: built once (building it costs more than running it).
_DOCUMENT_BY_SLUG = (
    sa.select(Document)
    .options(joinedload(Document.current_version))  # always needed: one statement
    .where(Document.slug == sa.bindparam("slug"))
)


def get_document(slug: str, annotate: bool = False) -> tuple[Document, DocumentVersion]:
    """The document and its current version, or 404 (also when the visitor may not read
    it: the same answer as for a missing article). With `annotate`, an archived article
    is refused: it is read-only."""
    document = db.session.scalar(_DOCUMENT_BY_SLUG, {"slug": slug})
    return _checked(document, slug, annotate)


def get_document_with(
    slug: str, also: tuple, annotate: bool = False
) -> tuple[Document, DocumentVersion, tuple]:
    """get_document, and more columns (correlated with the document) with their
    parameters, read in the same statement; their values come last."""
    columns, parameters = also
    row = db.session.execute(_document_with(columns), {**parameters, "slug": slug}).first()
    document, *extra = row if row is not None else (None,)
    return (*_checked(document, slug, annotate), tuple(extra))


@lru_cache(maxsize=16)
def _document_with(columns: tuple):
    return _DOCUMENT_BY_SLUG.add_columns(*columns)


def get_document_and_cursor(
    slug: str, also: tuple | None = None
) -> tuple[Document, DocumentVersion, int, tuple]:
    """get_document, and the document's latest change-log seq (services/live.py: the
    reader's live cursor) read in the same statement, before anything the page shows.
    `also`: more columns (correlated with the document) and their parameters, read in it
    too; their values come last."""
    if also is None:
        row = db.session.execute(_DOCUMENT_AND_CURSOR, {"slug": slug}).first()
    else:
        columns, parameters = also
        statement = _document_and_cursor_with(columns)
        row = db.session.execute(statement, {**parameters, "slug": slug}).first()
    document, cursor, *extra = row if row is not None else (None, 0)
    return (*_checked(document, slug, False), cursor, tuple(extra))


@lru_cache(maxsize=16)
def _document_and_cursor_with(columns: tuple):
    return _DOCUMENT_AND_CURSOR.add_columns(*columns)


def _checked(
    document: Document | None, slug: str, annotate: bool
) -> tuple[Document, DocumentVersion]:
    if not readable(document):
        abort(404, description=f"There is no article at /articles/{slug}.")
    if annotate and not can_annotate_document(document):
        abort(409, description="This article is archived: it can be read but not annotated.")
    return document, document.current_version


_DOCUMENT_AND_CURSOR = _DOCUMENT_BY_SLUG.add_columns(
    latest_change_of(Document.id).scalar_subquery()
)
