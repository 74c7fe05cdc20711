"""A class's life: roles (promote, step back), leaving, renaming, archiving, restoring.

A class always keeps at least one instructor. Permission checks (who may do this) live in
the views and webapp.visibility; these functions check what the class itself allows.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Classroom, Membership, Role, User, utcnow
from webapp.services.classes import MAX_NAME, ClassError
from webapp.services.groups import ungroup

LAST_INSTRUCTOR = (
    "A class needs at least one instructor: promote another member to instructor first."
)


def _membership(session: Session, classroom: Classroom, user_id: int) -> Membership:
    found = session.scalar(
        sa.select(Membership).where(
            Membership.classroom_id == classroom.id, Membership.user_id == user_id
        )
    )
    if found is None:
        raise ClassError("That person is not a member of this class.")
    return found


def instructor_count(session: Session, classroom: Classroom) -> int:
    return session.scalar(
        sa.select(sa.func.count(Membership.id)).where(
            Membership.classroom_id == classroom.id, Membership.role == Role.INSTRUCTOR.value
        )
    )


def set_role(session: Session, classroom: Classroom, user_id: int, role: str) -> Membership:
    """Make a member an instructor or a student. The last instructor stays one; a new
    instructor leaves their group (instructors are read by every group)."""
    if role not in (Role.INSTRUCTOR.value, Role.STUDENT.value):
        raise ClassError("A role is instructor or student.")
    membership = _membership(session, classroom, user_id)
    if membership.role == role:
        return membership
    if role == Role.STUDENT.value and instructor_count(session, classroom) <= 1:
        raise ClassError(LAST_INSTRUCTOR)
    membership.role = role
    if role == Role.INSTRUCTOR.value:
        ungroup(session, classroom, user_id)
    session.flush()
    return membership


def leave(session: Session, classroom: Classroom, user: User) -> None:
    """Leave a class: the membership (and group place) goes; one's notes stay in the class,
    attributed. The last instructor cannot leave."""
    membership = _membership(session, classroom, user.id)
    if membership.is_instructor and instructor_count(session, classroom) <= 1:
        raise ClassError(LAST_INSTRUCTOR)
    ungroup(session, classroom, user.id)
    session.delete(membership)
    session.flush()


def rename(classroom: Classroom, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ClassError("Give the class a name.")
    if len(name) > MAX_NAME:
        raise ClassError(f"A class name has at most {MAX_NAME} characters.")
    classroom.name = name
    return name


def archive(classroom: Classroom) -> None:
    if classroom.archived_at is None:
        classroom.archived_at = utcnow()


def restore(classroom: Classroom) -> None:
    classroom.archived_at = None
