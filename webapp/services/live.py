"""The change log behind live discussion: every write a reader should see adds a row."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Annotation, Change, User

MAX_CHANGES_PER_POLL = 200


def record_change(session: Session, annotation: Annotation, actor: User, kind: str) -> None:
    session.add(
        Change(
            document_id=annotation.document_id,
            classroom_id=annotation.classroom_id,
            annotation_id=annotation.id,
            actor_id=actor.id,
            kind=kind,
        )
    )


def latest_change(session: Session, document_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Change.id), 0)).where(
            Change.document_id == document_id
        )
    )


def changed_since(
    session: Session, document_id: int, classroom_id: int | None, viewer_id: int, cursor: int
) -> tuple[list[int], int]:
    """Annotation ids changed in one audience after `cursor`, and the new cursor.

    In the private audience only the viewer's own notes change. The annotations are then
    loaded through the visibility rule, like every other read.
    """
    if classroom_id is None:
        audience = sa.and_(Change.classroom_id.is_(None), Change.actor_id == viewer_id)
    else:
        audience = Change.classroom_id == classroom_id
    rows = session.execute(
        sa.select(Change.id, Change.annotation_id)
        .where(Change.document_id == document_id, Change.id > cursor, audience)
        .order_by(Change.id)
        .limit(MAX_CHANGES_PER_POLL)
    ).all()
    if not rows:
        return [], cursor
    ids = list(dict.fromkeys(annotation_id for _, annotation_id in rows))
    return ids, rows[-1][0]
