"""Scores for a class's assignments: the facts from the database, the rubric's verdict
(webapp/services/rubric.py), instructors' overrides, and the grade book.

What counts is what Participation counts (webapp/services/participation.py): a student's
class notes on the assignment's article that are not deleted and not bare highlights
(hidden ones included), and their replies in those threads; upvotes from other people.
Each measure is one query over the whole class.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import (
    Annotation,
    Assignment,
    Classroom,
    Membership,
    Reply,
    Role,
    ScoreOverride,
    User,
    Vote,
    utcnow,
)
from webapp.models import Rubric as RubricRow
from webapp.services import rubric as rubrics
from webapp.services.deadlines import Deadlines
from webapp.services.participation import count_words
from webapp.services.student_rows import set_student_row

MAX_REASON = 500


class GradingError(ValueError):
    """Something about a score a person can fix; the message says what."""


def rubric_for(session: Session, assignment: Assignment) -> rubrics.Rubric:
    row = session.get(RubricRow, assignment.id)
    if row is None:
        return rubrics.Rubric()
    return rubrics.Rubric(**{name: getattr(row, name) for name in rubrics.Rubric.names()})


def has_own_rubric(session: Session, assignment: Assignment) -> bool:
    return session.get(RubricRow, assignment.id) is not None


def save_rubric(session: Session, assignment: Assignment, rubric: rubrics.Rubric, by: User):
    row = session.get(RubricRow, assignment.id)
    if row is None:
        row = RubricRow(assignment_id=assignment.id)
        session.add(row)
    for name in rubrics.Rubric.names():
        setattr(row, name, getattr(rubric, name))
    row.updated_at = utcnow()
    row.updated_by_id = by.id
    session.flush()


def students_of(session: Session, classroom: Classroom) -> list[tuple[int, str]]:
    """(user id, username) of the class's students, by name."""
    return [
        (user_id, name)
        for user_id, name in session.execute(
            sa.select(User.id, User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.classroom_id == classroom.id,
                Membership.role == Role.STUDENT.value,
            )
            .order_by(sa.func.lower(User.username), User.id)
        )
    ]


def class_notes(classroom_id: int, document_id: int):
    """The WHERE clause of the notes that count: the class's, on the article, not deleted,
    not bare highlights."""
    return sa.and_(
        Annotation.classroom_id == classroom_id,
        Annotation.document_id == document_id,
        Annotation.deleted_at.is_(None),
        ~Annotation.bare_highlight(),
    )


def facts_for(
    session: Session, assignment: Assignment, user_ids: list[int] | None = None
) -> dict[int, list[rubrics.Fact]]:
    """author id -> the facts of their notes and replies for the assignment."""
    deadlines = Deadlines.load(session, assignment)
    classroom_id, document_id = assignment.classroom_id, assignment.document_id
    notes_where = class_notes(classroom_id, document_id)
    if user_ids is not None:
        notes_where = sa.and_(notes_where, Annotation.author_id.in_(user_ids))
    voters: dict[int, list[int]] = {}
    for annotation_id, voter in session.execute(
        sa.select(Vote.annotation_id, Vote.user_id)
        .join(Annotation, Annotation.id == Vote.annotation_id)
        .where(notes_where, Vote.user_id != Annotation.author_id)
    ):
        voters.setdefault(annotation_id, []).append(voter)

    facts: dict[int, list[rubrics.Fact]] = {}
    for note_id, author_id, body, question, created_at in session.execute(
        sa.select(
            Annotation.id,
            Annotation.author_id,
            Annotation.body_markdown,
            Annotation.is_question,
            Annotation.created_at,
        ).where(notes_where)
    ):
        facts.setdefault(author_id, []).append(
            rubrics.Fact(
                rubrics.NOTE,
                note_id,
                count_words(body),
                created_at,
                late=deadlines.is_late(author_id, created_at),
                question=bool(question),
                voters=tuple(voters.get(note_id, ())),
            )
        )
    replies_where = sa.and_(
        Annotation.classroom_id == classroom_id,
        Annotation.document_id == document_id,
        Reply.deleted_at.is_(None),
    )
    if user_ids is not None:
        replies_where = sa.and_(replies_where, Reply.author_id.in_(user_ids))
    for reply_id, author_id, body, created_at in session.execute(
        sa.select(Reply.id, Reply.author_id, Reply.body_markdown, Reply.created_at)
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .where(replies_where)
    ):
        facts.setdefault(author_id, []).append(
            rubrics.Fact(
                rubrics.REPLY,
                reply_id,
                count_words(body),
                created_at,
                late=deadlines.is_late(author_id, created_at),
            )
        )
    return facts


@dataclass
class StudentScore:
    user_id: int
    username: str
    score: rubrics.Score
    override: ScoreOverride | None = None

    @property
    def final(self) -> int:
        return self.override.points if self.override is not None else self.score.computed


def overrides_of(
    session: Session, assignment_ids: list[int]
) -> dict[tuple[int, int], ScoreOverride]:
    if not assignment_ids:
        return {}
    return {
        (o.assignment_id, o.user_id): o
        for o in session.scalars(
            sa.select(ScoreOverride).where(ScoreOverride.assignment_id.in_(assignment_ids))
        )
    }


def class_scores(
    session: Session, classroom: Classroom, assignment: Assignment
) -> list[StudentScore]:
    """Every student's score for one assignment, by name."""
    if assignment.classroom_id != classroom.id:
        raise ValueError("That assignment belongs to another class.")
    rubric = rubric_for(session, assignment)
    facts = facts_for(session, assignment)
    overrides = overrides_of(session, [assignment.id])
    return [
        StudentScore(
            user_id,
            name,
            rubrics.score(rubric, user_id, facts.get(user_id, [])),
            overrides.get((assignment.id, user_id)),
        )
        for user_id, name in students_of(session, classroom)
    ]


def student_score(session: Session, assignment: Assignment, user_id: int, username: str):
    rubric = rubric_for(session, assignment)
    facts = facts_for(session, assignment, [user_id]).get(user_id, [])
    override = overrides_of(session, [assignment.id]).get((assignment.id, user_id))
    return StudentScore(user_id, username, rubrics.score(rubric, user_id, facts), override)


def parse_override(points: str | None, reason: str | None) -> tuple[int | None, str]:
    """(points, reason) from the override form: empty points take the override away; a
    score needs a reason."""
    raw = (points or "").strip()
    reason = " ".join((reason or "").split())
    if not raw:
        return None, ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or int(raw) > rubrics.LIMIT:
        raise GradingError(f"A score is a whole number from 0 to {rubrics.LIMIT}.")
    if not reason:
        raise GradingError("Say why the score is changed: the reason is kept beside it.")
    if len(reason) > MAX_REASON:
        raise GradingError(f"A reason has at most {MAX_REASON} characters.")
    return int(raw), reason


def set_override(
    session: Session,
    assignment: Assignment,
    user_id: int,
    points: int | None,
    reason: str,
    by: User,
) -> ScoreOverride | None:
    values = None if points is None else {"points": points, "reason": reason, "by_id": by.id}
    return set_student_row(session, ScoreOverride, assignment, user_id, values)


def gradebook(session: Session, classroom: Classroom, assignments: list[Assignment]):
    """(header, rows) for the grade book: a row per student, a column per assignment (the
    final score: an override where there is one), then the total."""
    students = students_of(session, classroom)
    scores: dict[int, dict[int, int]] = {}
    for assignment in assignments:
        for row in class_scores(session, classroom, assignment):
            scores.setdefault(row.user_id, {})[assignment.id] = row.final
    header = ["student"]
    titles = [
        version.title if (version := a.document.current_version) else a.document.slug
        for a in assignments
    ]
    for assignment, title in zip(assignments, titles, strict=True):
        if titles.count(title) > 1:  # two articles of one title: their addresses tell them apart
            title = f"{title} [{assignment.document.slug}]"
        header.append(f"{title} (of {rubric_for(session, assignment).most})")
    header.append("total")
    rows = []
    for user_id, name in students:
        marks = [scores.get(user_id, {}).get(a.id, 0) for a in assignments]
        rows.append([name, *marks, sum(marks)])
    return header, rows


@dataclass
class WorkItem:
    """One note or reply of a student, for the drill-down list."""

    kind: str  # rubric.NOTE or rubric.REPLY
    annotation: Annotation  # the note, or the note the reply is under
    reply: Reply | None
    late: bool

    @property
    def id(self) -> int:
        return self.reply.id if self.reply is not None else self.annotation.id

    @property
    def created_at(self):
        return (self.reply or self.annotation).created_at

    @property
    def body_html(self) -> str:
        return (self.reply or self.annotation).body_html


def student_work(session: Session, assignment: Assignment, user_id: int) -> list[WorkItem]:
    """The student's notes and replies for the assignment, oldest first (what counts for
    the score: see facts_for)."""
    from sqlalchemy.orm import selectinload

    deadlines = Deadlines.load(session, assignment)
    notes = session.scalars(
        sa.select(Annotation)
        .options(selectinload(Annotation.tags))
        .where(
            class_notes(assignment.classroom_id, assignment.document_id),
            Annotation.author_id == user_id,
        )
    )
    items = [
        WorkItem(rubrics.NOTE, note, None, deadlines.is_late(user_id, note.created_at))
        for note in notes
    ]
    replies = session.scalars(
        sa.select(Reply)
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .options(selectinload(Reply.annotation))
        .where(
            Annotation.classroom_id == assignment.classroom_id,
            Annotation.document_id == assignment.document_id,
            Reply.deleted_at.is_(None),
            Reply.author_id == user_id,
        )
    )
    items += [
        WorkItem(
            rubrics.REPLY, reply.annotation, reply, deadlines.is_late(user_id, reply.created_at)
        )
        for reply in replies
    ]
    return sorted(items, key=lambda item: (item.created_at, item.kind, item.id))
