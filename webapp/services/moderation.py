"""The moderation queue of a class: flagged notes and replies, reviewed by an instructor
who hides or keeps each. Permission checks live in the views (webapp.classes.moderation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp.models import Annotation, Classroom, Flag, Reply, User, utcnow
from webapp.services.discussion import set_hidden

HIDDEN = "hidden"
KEPT = "kept"
OUTCOMES = (HIDDEN, KEPT)


@dataclass
class FlaggedItem:
    """One flagged note or reply, with every flag on it (open ones first)."""

    annotation: Annotation
    reply: Reply | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"reply-{self.reply.id}" if self.reply else f"note-{self.annotation.id}"

    @property
    def item(self) -> Annotation | Reply:
        return self.reply or self.annotation

    @property
    def open(self) -> bool:
        return any(f.resolved_at is None for f in self.flags)

    @property
    def last_review(self) -> Flag | None:
        reviewed = [f for f in self.flags if f.resolved_at is not None]
        return max(reviewed, key=lambda f: f.resolved_at) if reviewed else None


def _class_flags(classroom: Classroom):
    return (
        sa.select(Flag)
        .join(Annotation, Annotation.id == Flag.annotation_id)
        .where(Annotation.classroom_id == classroom.id)
    )


def unreviewed_count(session: Session, classroom: Classroom) -> int:
    """Flags in the class no instructor has reviewed yet (on the class page)."""
    return session.scalar(
        _class_flags(classroom)
        .where(Flag.resolved_at.is_(None))
        .with_only_columns(sa.func.count(Flag.id))
    )


def queue(session: Session, classroom: Classroom, reviewed: bool = False) -> list[FlaggedItem]:
    """The flagged notes and replies of the class, oldest open flag first; with reviewed,
    those whose flags are all reviewed (newest review first)."""
    flags = session.scalars(
        _class_flags(classroom)
        .options(
            selectinload(Flag.user),
            selectinload(Flag.resolved_by),
            selectinload(Flag.annotation).selectinload(Annotation.author),
            selectinload(Flag.annotation).selectinload(Annotation.document),
            selectinload(Flag.reply).selectinload(Reply.author),
        )
        .order_by(Flag.created_at, Flag.id)
    ).all()
    items: dict[tuple[int, int | None], FlaggedItem] = {}
    for flag in flags:
        key = (flag.annotation_id, flag.reply_id)
        if key not in items:
            items[key] = FlaggedItem(flag.annotation, flag.reply)
        items[key].flags.append(flag)
    chosen = [item for item in items.values() if item.open != reviewed]
    if reviewed:
        chosen.sort(key=lambda item: item.last_review.resolved_at, reverse=True)
    return chosen


def item_flags(
    session: Session, classroom: Classroom, annotation_id: int, reply_id: int | None
) -> list[Flag]:
    """The open flags on one note (reply_id None) or one reply of the class."""
    return list(
        session.scalars(
            _class_flags(classroom).where(
                Flag.annotation_id == annotation_id,
                Flag.reply_id.is_(None) if reply_id is None else Flag.reply_id == reply_id,
                Flag.resolved_at.is_(None),
            )
        )
    )


def review(
    session: Session,
    flags: list[Flag],
    annotation: Annotation,
    reply: Reply | None,
    actor: User,
    outcome: str,
    reason: str | None = None,
) -> None:
    """Hide or keep a flagged note or reply, and mark its open flags reviewed."""
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    item = reply or annotation
    if outcome == HIDDEN and not item.hidden:
        set_hidden(session, item, annotation, actor, True, reason)
    elif outcome == KEPT and item.hidden:
        set_hidden(session, item, annotation, actor, False, None)  # kept: shown again
    now = utcnow()
    for flag in flags:
        flag.resolved_at = now
        flag.resolved_by_id = actor.id
        flag.outcome = outcome
    session.flush()
