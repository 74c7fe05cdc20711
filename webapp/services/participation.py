"""Who took part in a class's discussion of one assigned article, and how much.

The rules, in one place:

- A row per member of the class with the student role, activity or not; instructors are
  counted the same way but kept apart (`Participation.instructors`), not graded.
- Annotations: the member's class notes on the assignment's document (any version,
  orphans included, hidden ones included: hiding is moderation, the work was done), not
  deleted. A note has a comment, a question or tags: a bare highlight is not shared work
  and never counts (it is private since it is made; older ones may sit in a class).
  Questions: those of them marked as questions.
- Replies: the member's replies, not deleted, in threads of the class's annotations on
  the document (a reply under a since-deleted annotation still counts: the thread stays).
- Words: the words of those annotations' comments and of those replies (see count_words).
- Upvotes received: votes by other people on those notes (a vote for one's own note
  does not count).
- First and last activity: the earliest and latest creation time among those annotations
  and replies (UTC, naive, as stored).
- Late: those annotations and replies made after the member's deadline (their extension's,
  else the assignment's; see webapp/services/deadlines.py). No due date: none is late.

Each measure is one query over the whole class, never a query per student.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import (
    Annotation,
    Assignment,
    Classroom,
    Membership,
    Reply,
    Role,
    User,
    Vote,
)
from webapp.services.deadlines import Deadlines

# Scripts written without spaces between words: each character counts as a word, as word
# processors count them (Han ideographs, kana, and the CJK compatibility ranges).
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
# A letter or digit of any other script (not "_", which \w also matches).
_LETTER = rf"(?:(?![{_CJK}])[^\W_])"
# A word: letters and digits, optionally joined by an apostrophe or a hyphen
# ("don't", "long-term", "l'homme"); or one CJK character.
WORD = re.compile(rf"[{_CJK}]|{_LETTER}+(?:['\u2019\-]{_LETTER}+)*")
# Markdown link targets and bare URLs are not words someone wrote.
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?|mailto|ftp):\S+", re.IGNORECASE)
# Combining marks (Arabic harakat, Hebrew points, Indic vowel signs, accents typed
# separately) and format characters (ZWJ, ZWNJ, bidi marks) belong to the word they sit in.
_JOINING_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})


def count_words(text: str | None) -> int:
    """Words in a comment's Markdown, in any script.

    Runs of letters and digits are words; marks and zero-width joiners inside a word do not
    split it; each Han or kana character is a word; a link counts by its text, a bare URL
    as one word; punctuation, Markdown syntax and emoji are not words.
    """
    if not text:
        return 0
    text = _LINK_TARGET.sub("]", text)
    text = _URL.sub(" url ", text)
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if unicodedata.category(ch) not in _JOINING_CATEGORIES
    )
    return sum(1 for _ in WORD.finditer(text))


@dataclass
class ParticipationRow:
    """One member's part in the discussion of one assignment."""

    user_id: int
    username: str
    role: str
    annotations: int = 0
    replies: int = 0
    words: int = 0
    questions: int = 0
    upvotes: int = 0
    late: int = 0
    first_activity: datetime | None = None
    last_activity: datetime | None = None

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR.value

    @property
    def active(self) -> bool:
        return self.first_activity is not None

    def _saw(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_activity is None or when < self.first_activity:
            self.first_activity = when
        if self.last_activity is None or when > self.last_activity:
            self.last_activity = when


@dataclass
class Participation:
    classroom: Classroom
    assignment: Assignment
    students: list[ParticipationRow] = field(default_factory=list)
    instructors: list[ParticipationRow] = field(default_factory=list)

    def totals(self) -> ParticipationRow:
        """The students' rows added up (activity: the earliest first, the latest last)."""
        total = ParticipationRow(0, "", Role.STUDENT.value)
        for row in self.students:
            total.annotations += row.annotations
            total.replies += row.replies
            total.words += row.words
            total.questions += row.questions
            total.upvotes += row.upvotes
            total.late += row.late
            total._saw(row.first_activity)
            total._saw(row.last_activity)
        return total


COLUMNS = (
    "class",
    "article",
    "student",
    "annotations",
    "replies",
    "words",
    "questions",
    "upvotes received",
    "first activity (UTC)",
    "last activity (UTC)",
    "late",
)


def as_table(report: Participation) -> list[tuple]:
    """The students' rows in COLUMNS order, for a CSV: each row names its class and
    article, so exports of several assignments can be put together."""
    document = report.assignment.document
    title = document.current_version.title if document.current_version else document.slug
    return [
        (
            report.classroom.name,
            title,
            row.username,
            row.annotations,
            row.replies,
            row.words,
            row.questions,
            row.upvotes,
            row.first_activity,
            row.last_activity,
            row.late,
        )
        for row in report.students
    ]


def participation(session: Session, classroom: Classroom, assignment: Assignment) -> Participation:
    """Per-member measures for one assignment of a class (students apart from instructors)."""
    if assignment.classroom_id != classroom.id:
        raise ValueError("That assignment belongs to another class.")
    members = session.execute(
        sa.select(User.id, User.username, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.classroom_id == classroom.id)
        .order_by(sa.func.lower(User.username), User.id)
    ).all()
    rows = {user_id: ParticipationRow(user_id, name, role) for user_id, name, role in members}
    deadlines = Deadlines.load(session, assignment)
    member_ids = sa.select(Membership.user_id).where(Membership.classroom_id == classroom.id)

    class_annotations = sa.and_(
        Annotation.classroom_id == classroom.id,
        Annotation.document_id == assignment.document_id,
    )
    notes = sa.and_(class_annotations, ~Annotation.bare_highlight())

    annotations = session.execute(
        sa.select(
            Annotation.author_id,
            Annotation.is_question,
            Annotation.created_at,
            Annotation.body_markdown,
        ).where(
            notes,
            Annotation.deleted_at.is_(None),
            Annotation.author_id.in_(member_ids),
        )
    )
    for author_id, is_question, created_at, body in annotations:
        row = rows[author_id]
        row.annotations += 1
        row.questions += int(bool(is_question))
        row.words += count_words(body)
        row.late += int(deadlines.is_late(author_id, created_at))
        row._saw(created_at)

    replies = session.execute(
        sa.select(Reply.author_id, Reply.created_at, Reply.body_markdown)
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .where(class_annotations, Reply.deleted_at.is_(None), Reply.author_id.in_(member_ids))
    )
    for author_id, created_at, body in replies:
        row = rows[author_id]
        row.replies += 1
        row.words += count_words(body)
        row.late += int(deadlines.is_late(author_id, created_at))
        row._saw(created_at)

    upvotes = session.execute(
        sa.select(Annotation.author_id, sa.func.count(Vote.id))
        .join(Vote, Vote.annotation_id == Annotation.id)
        .where(
            notes,
            Annotation.deleted_at.is_(None),
            Annotation.author_id.in_(member_ids),
            Vote.user_id != Annotation.author_id,
        )
        .group_by(Annotation.author_id)
    )
    for author_id, count in upvotes:
        rows[author_id].upvotes = count

    report = Participation(classroom, assignment)
    for row in rows.values():
        (report.instructors if row.is_instructor else report.students).append(row)
    return report
