"""The change log behind live discussion: every write a reader should see adds a row."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Annotation, Change, User

MAX_CHANGES_PER_POLL = 200
# The changes after which a reader may lose sight of an annotation they saw.
VANISHING = ("hidden", "deleted", "reply-deleted")


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

    In the private audience only the viewer's own notes change; a class's audience adds
    them to the class's (the class view shows one's bare highlights). The annotations are
    then loaded through the visibility rule and the context, like every other read.
    """
    audience = sa.and_(Change.classroom_id.is_(None), Change.actor_id == viewer_id)
    if classroom_id is not None:
        audience = sa.or_(Change.classroom_id == classroom_id, audience)
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


def vanished_since(session: Session, annotation_ids: list[int], cursor: int) -> set[int]:
    """Of these annotations, those a reader synced at `cursor` may still have on screen but
    that went out of sight after it: not created after the cursor, then hidden, deleted,
    or (a deleted note's thread) left without replies. An annotation from before the
    change log has no "created" row: it counts as existing."""
    if not annotation_ids:
        return set()
    created_later = sa.select(Change.annotation_id).where(
        Change.annotation_id.in_(annotation_ids), Change.kind == "created", Change.id > cursor
    )
    return set(
        session.scalars(
            sa.select(Change.annotation_id).where(
                Change.annotation_id.in_(annotation_ids),
                Change.kind.in_(VANISHING),
                Change.id > cursor,
                Change.annotation_id.not_in(created_later),
            )
        )
    )
