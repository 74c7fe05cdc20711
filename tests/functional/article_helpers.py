"""Helpers for the tests of articles added in the browser: owned articles made through the
importer (as the command line does), then given an owner."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.models import Document, User
from webapp.services.documents import import_article

PRIVATE_ARTICLE = """# Otters of the Northern Rivers

By Ada Writer

March 3, 2024

Otters build their dens in the banks of quiet rivers and come out at dusk.

Beavers, their neighbours, build dams that turn a stream into a pond.

A third paragraph closes the article with a remark about kingfishers.
"""


def owned_article(db, owner: User, source: str = PRIVATE_ARTICLE, name: str = "") -> Document:
    """An article belonging to `owner` (as if added in the browser)."""
    result = import_article(db.session, source, name or f"test:{owner.username}:{source[:40]}")
    result.document.owner_id = owner.id
    db.session.commit()
    return result.document


def article_titled(title: str, *paragraphs: str) -> str:
    body = "\n\n".join(paragraphs or ("A paragraph of text about nothing much at all.",))
    return f"# {title}\n\n{body}\n"


def reload(db, document: Document) -> Document | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Document).where(Document.id == document.id))
