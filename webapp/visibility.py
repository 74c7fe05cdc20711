"""Who may see which annotation: the one rule every read path goes through."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Annotation, Membership, Role, User


def visible_annotations(user: User | None) -> sa.ColumnElement[bool]:
    """A WHERE clause selecting the live annotations `user` may see.

    Private annotations: their author only. Class annotations: members of that class;
    hidden ones only to the class's instructors and their author.
    """
    live = Annotation.deleted_at.is_(None)
    if user is None or not user.is_authenticated:
        return sa.and_(live, sa.false())
    member_of = sa.select(Membership.classroom_id).where(Membership.user_id == user.id)
    teaches = member_of.where(Membership.role == Role.INSTRUCTOR.value)
    own = Annotation.author_id == user.id
    class_visible = sa.and_(
        Annotation.classroom_id.in_(member_of),
        sa.or_(Annotation.hidden.is_(False), Annotation.classroom_id.in_(teaches)),
    )
    return sa.and_(live, sa.or_(own, class_visible))


def can_see(user: User | None, annotation: Annotation) -> bool:
    return (
        db.session.scalar(
            sa.select(Annotation.id).where(
                Annotation.id == annotation.id, visible_annotations(user)
            )
        )
        is not None
    )


def can_edit(user: User | None, annotation: Annotation) -> bool:
    """Only the author edits or deletes an annotation."""
    return bool(user and user.is_authenticated and annotation.author_id == user.id)
