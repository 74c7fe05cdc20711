"""Classes: creating, joining with a code, members and roles, assigned articles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from webapp.models import (
    Assignment,
    Classroom,
    Document,
    DocumentVersion,
    Membership,
    Role,
    User,
)
from webapp.row_objects import columns_of, object_of
from webapp.services import deadlines, notifications

# No 0/O, 1/I/L: a code is read aloud and copied from a board.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_NAME = 120


class ClassError(ValueError):
    """Something about a class a person can fix; the message says what."""


class UnknownCode(ClassError):
    """No class has this join code (a failed attempt, for the join limits)."""


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _unique_code(session: Session) -> str:
    while True:
        code = new_join_code()
        if session.scalar(sa.select(Classroom.id).where(Classroom.join_code == code)) is None:
            return code


def create_class(session: Session, instructor: User, name: str) -> Classroom:
    name = " ".join((name or "").split())
    if not name:
        raise ClassError("Give the class a name.")
    if len(name) > MAX_NAME:
        raise ClassError(f"A class name has at most {MAX_NAME} characters.")
    classroom = Classroom(name=name, join_code=_unique_code(session))
    session.add(classroom)
    session.flush()
    session.add(
        Membership(classroom_id=classroom.id, user_id=instructor.id, role=Role.INSTRUCTOR.value)
    )
    session.flush()
    return classroom


def find_by_code(session: Session, code: str) -> Classroom | None:
    """The class with this join code (any case, spaces and dashes ignored), if any."""
    normalized = normalize_code(code)
    if not normalized:
        return None
    return session.scalar(sa.select(Classroom).where(Classroom.join_code == normalized))


def join_class(session: Session, user: User, code: str) -> tuple[Membership, bool]:
    """Join by code; returns the membership and whether it is new."""
    normalized = normalize_code(code)
    if not normalized:
        raise ClassError("Enter the join code your instructor gave you.")
    classroom = find_by_code(session, normalized)
    if classroom is None:
        raise UnknownCode(
            f"No class has the join code {normalized[:16]}. Check it with your instructor: "
            "codes can be changed."
        )
    existing = session.scalar(
        sa.select(Membership).where(
            Membership.classroom_id == classroom.id, Membership.user_id == user.id
        )
    )
    if existing is not None:
        return existing, False
    membership = Membership(classroom_id=classroom.id, user_id=user.id, role=Role.STUDENT.value)
    session.add(membership)
    session.flush()
    return membership, True


def rotate_code(session: Session, classroom: Classroom) -> str:
    classroom.join_code = _unique_code(session)
    return classroom.join_code


def remove_member(session: Session, classroom: Classroom, user_id: int, by: User) -> Membership:
    """Remove someone from the class (the instructor `by` cannot remove themselves)."""
    if user_id == by.id:
        raise ClassError("You cannot remove yourself from a class you teach.")
    membership = session.scalar(
        sa.select(Membership)
        .options(selectinload(Membership.user))
        .where(Membership.classroom_id == classroom.id, Membership.user_id == user_id)
    )
    if membership is None:
        raise ClassError("That person is not a member of this class.")
    session.delete(membership)
    session.flush()
    return membership


def members(session: Session, classroom: Classroom) -> list[Membership]:
    return list(
        session.scalars(
            sa.select(Membership)
            .join(User, User.id == Membership.user_id)
            .options(contains_eager(Membership.user))
            .where(Membership.classroom_id == classroom.id)
            .order_by(Membership.role, sa.func.lower(User.username))
        )
    )


def classes_of(session: Session, user: User) -> list[Membership]:
    """The user's memberships, each with its class loaded, by the classes' names."""
    width = len(columns_of(Classroom))
    rows = session.connection().execute(_CLASSES_OF, {"user_id": user.id})
    return [
        object_of(
            session, Membership, row[width:], classroom=object_of(session, Classroom, row[:width])
        )
        for row in rows
    ]


# Asked on every signed-in reader page (the context switcher): built once. Their columns,
# made into objects by row_objects (cheaper than an ORM query with an eager load).
_CLASSES_OF = (
    sa.select(*columns_of(Classroom), *columns_of(Membership))
    .select_from(Membership)
    .join(Classroom, Classroom.id == Membership.classroom_id)
    .where(Membership.user_id == sa.bindparam("user_id"))
    .order_by(sa.func.lower(Classroom.name), Classroom.id)
)


def parse_due(
    value: str | None, clock: str | None = None, zone_name: str = deadlines.DEFAULT_ZONE
) -> datetime | None:
    """A due date from a form, as naive UTC: YYYY-MM-DD with an optional time `clock`
    (HH:MM; else 23:59), both in the class's zone; or YYYY-MM-DDTHH:MM (with an offset:
    that instant; without: in the class's zone)."""
    value = (value or "").strip()
    try:
        if "T" in value and not (clock or "").strip():
            due = datetime.fromisoformat(value)
            if due.tzinfo is not None:
                # The column is naive UTC, like every other timestamp.
                return due.astimezone(UTC).replace(tzinfo=None)
            return deadlines.to_utc(due, zone_name)
        return deadlines.parse_due(value, clock, zone_name)
    except deadlines.DeadlineError as error:
        raise ClassError(str(error)) from None
    except (ValueError, OverflowError):
        raise ClassError(f"A due date looks like 2026-12-01, not {value[:20]!r}.") from None


def assign(
    session: Session,
    classroom: Classroom,
    document: Document,
    due_at: datetime | None,
    actor: User | None = None,
) -> Assignment:
    """Assign an article (or change its due date when it is assigned already); a new
    assignment tells the class's members (but `actor`, who assigned it)."""
    assignment = session.scalar(
        sa.select(Assignment).where(
            Assignment.classroom_id == classroom.id, Assignment.document_id == document.id
        )
    )
    new = assignment is None
    if new:
        assignment = Assignment(classroom_id=classroom.id, document_id=document.id)
        session.add(assignment)
    assignment.due_at = due_at
    session.flush()
    if new:
        notifications.article_assigned(session, assignment, actor)
    return assignment


def assignments_of(session: Session, classroom: Classroom) -> list[Assignment]:
    """The class's reading list (an archived article leaves it until it is restored)."""
    return list(
        session.scalars(
            sa.select(Assignment)
            .join(Document, Document.id == Assignment.document_id)
            .options(selectinload(Assignment.document).selectinload(Document.current_version))
            .where(Assignment.classroom_id == classroom.id, Document.archived_at.is_(None))
            .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)
        )
    )


def unassign(session: Session, classroom: Classroom, assignment_id: int) -> Assignment | None:
    """Take an article off the class's list; None when it was not assigned to this class."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.classroom_id != classroom.id:
        return None
    session.delete(assignment)
    session.flush()
    return assignment


def library_documents(session: Session, where=None) -> list[Document]:
    """Every article that can be assigned (it has a current version, and it passes
    `where`: webapp/visibility.py assignable_documents), by title."""
    return list(
        session.scalars(
            sa.select(Document)
            .join(DocumentVersion, DocumentVersion.id == Document.current_version_id)
            .options(contains_eager(Document.current_version))
            .where(where if where is not None else sa.true())
            .order_by(sa.func.lower(DocumentVersion.title), Document.id)
        )
    )


@dataclass(frozen=True)
class ClassSummary:
    """One line of "my classes": the class, my role, how many members, what it reads."""

    membership: Membership
    member_count: int
    assignments: list[Assignment]

    @property
    def classroom(self) -> Classroom:
        return self.membership.classroom


def summaries_of(session: Session, user: User) -> list[ClassSummary]:
    """The user's classes with member counts and assigned articles, in three queries."""
    mine = classes_of(session, user)
    ids = [m.classroom_id for m in mine]
    if not ids:
        return []
    counts = dict(
        session.execute(
            sa.select(Membership.classroom_id, sa.func.count(Membership.id))
            .where(Membership.classroom_id.in_(ids))
            .group_by(Membership.classroom_id)
        ).all()
    )
    assigned: dict[int, list[Assignment]] = {}
    for assignment in session.scalars(
        sa.select(Assignment)
        .join(Document, Document.id == Assignment.document_id)
        .options(selectinload(Assignment.document).selectinload(Document.current_version))
        .where(Assignment.classroom_id.in_(ids), Document.archived_at.is_(None))
        .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)
    ):
        assigned.setdefault(assignment.classroom_id, []).append(assignment)
    return [
        ClassSummary(m, counts.get(m.classroom_id, 0), assigned.get(m.classroom_id, []))
        for m in mine
    ]


def classes_reading(session: Session, user: User, document: Document) -> list[Membership]:
    """The user's memberships in classes that have this article assigned."""
    return list(
        session.scalars(
            sa.select(Membership)
            .join(Assignment, Assignment.classroom_id == Membership.classroom_id)
            .where(Membership.user_id == user.id, Assignment.document_id == document.id)
            .order_by(Assignment.id)  # the default reading context must not vary
        )
    )
