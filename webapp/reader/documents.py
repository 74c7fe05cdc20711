"""The article a request is about, looked up through the visibility rule: a missing
article and one the visitor may not read get the same 404."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import abort, session
from flask_login import current_user

from webapp import statements
from webapp.extensions import db
from webapp.models import Classroom, Document, DocumentVersion, Membership
from webapp.row_objects import columns_of, object_of
from webapp.services.live import latest_change_of
from webapp.visibility import (
    MEMBERSHIP_AND_CLASS_WIDTH,
    can_annotate_document,
    can_read_document,
    membership_of,
)

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
# The article's and its current version's columns, made into objects by row_objects
# (cheaper than an ORM query with an eager load); the version always needed: one statement.
_DOCUMENT_BY_SLUG = (
    sa.select(*columns_of(Document), *columns_of(DocumentVersion))
    .select_from(Document)
    .outerjoin(DocumentVersion, DocumentVersion.id == Document.current_version_id)
    .where(Document.slug == sa.bindparam("slug"))
)
_DOCUMENT_WIDTH = len(columns_of(Document))
_ROW_WIDTH = _DOCUMENT_WIDTH + len(columns_of(DocumentVersion))


def _document_of(row) -> Document | None:
    """The Document (with its current version loaded) of a row of _DOCUMENT_BY_SLUG."""
    if row is None:
        return None
    version = None
    if row[_DOCUMENT_WIDTH] is not None:
        version = object_of(db.session, DocumentVersion, row[_DOCUMENT_WIDTH:_ROW_WIDTH])
    return object_of(db.session, Document, row[:_DOCUMENT_WIDTH], current_version=version)


def get_document(slug: str, annotate: bool = False) -> tuple[Document, DocumentVersion]:
    """The document and its current version, or 404 (also when the visitor may not read
    it: the same answer as for a missing article). With `annotate`, an archived article
    is refused: it is read-only."""
    row = statements.first(db.session.connection(), _DOCUMENT_BY_SLUG, {"slug": slug})
    return _checked(_document_of(row), slug, annotate)


def get_document_in_class(
    slug: str, also: tuple, annotate: bool = False
) -> tuple[Document, DocumentVersion, Membership | None, int, tuple]:
    """get_document, the user's membership of a class (its class loaded with it; None when
    they are not a member), the document's latest change-log seq (as
    get_document_and_cursor's) and more columns (correlated with the document) with their
    parameters, read in one statement: `also`'s parameters name the class (`classroom_id`)
    and the user (`user_id`); its columns' values come last."""
    columns, parameters = also
    statement = _document_in_class(columns)
    row = statements.first(db.session.connection(), statement, {**parameters, "slug": slug})
    if row is None:
        return (*_checked(None, slug, annotate), None, 0, ())
    member = membership_of(row[_ROW_WIDTH:]) if row[_ROW_WIDTH] is not None else None
    document, version = _checked(_document_of(row), slug, annotate)
    return document, version, member, row[_CLASS_WIDTH], tuple(row[_CLASS_WIDTH + 1 :])


_CLASS_WIDTH = _ROW_WIDTH + MEMBERSHIP_AND_CLASS_WIDTH


@lru_cache(maxsize=16)
def _document_in_class(columns: tuple):
    member = sa.and_(
        Membership.classroom_id == sa.bindparam("classroom_id", type_=sa.Integer),
        Membership.user_id == sa.bindparam("user_id", type_=sa.Integer),
    )
    return (
        _DOCUMENT_BY_SLUG.outerjoin(Membership, member)
        .outerjoin(Classroom, Classroom.id == Membership.classroom_id)
        .add_columns(
            *columns_of(Membership),
            *columns_of(Classroom),
            latest_change_of(Document.id).scalar_subquery(),
            *columns,
        )
    )


def get_document_and_cursor(
    slug: str, also: tuple | None = None, annotate: bool = False
) -> tuple[Document, DocumentVersion, int, tuple]:
    """get_document, and the document's latest change-log seq (services/live.py: the
    reader's live cursor) read in the same statement, before anything the page shows.
    `also`: more columns (correlated with the document) and their parameters, read in it
    too; their values come last. `annotate` as get_document's."""
    if also is None:
        statement, parameters = _DOCUMENT_AND_CURSOR, {"slug": slug}
    else:
        columns, values = also
        statement, parameters = _document_and_cursor_with(columns), {**values, "slug": slug}
    row = statements.first(db.session.connection(), statement, parameters)
    cursor, extra = (row[_ROW_WIDTH], tuple(row[_ROW_WIDTH + 1 :])) if row is not None else (0, ())
    return (*_checked(_document_of(row), slug, annotate), cursor, extra)


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
