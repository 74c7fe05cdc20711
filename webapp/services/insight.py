"""Where a class is confused about an assignment: notes, questions and unanswered questions
per sentence of the article (a heat map), the most discussed passages and the oldest
unanswered questions; and every note and reply of the assignment for a CSV.

The heat map's counts come from GROUP BY queries over the notes' ranges (one row per
distinct passage, not per note), spread over the sentences each passage covers.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp.models import Annotation, Assignment, DocumentVersion, Reply, User, Vote
from webapp.services.deadlines import Deadlines
from webapp.services.grading import class_notes
from webapp.text.document import Layout

LEVELS = 4
TOP = 10


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    text: str
    notes: int = 0
    questions: int = 0
    unanswered: int = 0
    replies: int = 0
    first_note: int | None = None  # the oldest note that covers it, to link to

    @property
    def discussed(self) -> int:
        return self.notes + self.replies

    def summary(self) -> str:
        """The counts in words (for screen readers, and the ranked list)."""
        parts = [f"{self.notes} note{'' if self.notes == 1 else 's'}"]
        parts.append(f"{self.replies} repl{'y' if self.replies == 1 else 'ies'}")
        parts.append(f"{self.questions} question{'' if self.questions == 1 else 's'}")
        parts.append(f"{self.unanswered} unanswered")
        return ", ".join(parts)


@dataclass
class HeatBlock:
    id: str
    tag: str
    sentences: list[Sentence] = field(default_factory=list)


@dataclass
class HeatMap:
    blocks: list[HeatBlock]
    sentences: list[Sentence]
    most: int  # the largest count of notes on one sentence

    def level(self, sentence: Sentence) -> int:
        if not sentence.notes or not self.most:
            return 0
        return max(1, -(-LEVELS * sentence.notes // self.most))

    def most_discussed(self, limit: int = TOP) -> list[Sentence]:
        chosen = [s for s in self.sentences if s.discussed]
        chosen.sort(key=lambda s: (-s.discussed, -s.unanswered, s.start))
        return chosen[:limit]


def sentences_of(layout: Layout) -> list[HeatBlock]:
    blocks = []
    index = 0
    for block in layout.blocks:
        starts = [s for s in block.sentences if block.start <= s < block.end] or [block.start]
        heat = HeatBlock(block.id, block.tag)
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else block.end
            text = layout.text[start:end]
            if text.strip():
                heat.sentences.append(Sentence(index, start, end, text))
                index += 1
        blocks.append(heat)
    return blocks


def heat_map(
    session: Session, assignment: Assignment, version: DocumentVersion, layout: Layout
) -> HeatMap:
    blocks = sentences_of(layout)
    sentences = [s for b in blocks for s in b.sentences]
    starts = [s.start for s in sentences]
    notes_where = sa.and_(
        class_notes(assignment.classroom_id, assignment.document_id),
        Annotation.version_id == version.id,
    )

    def covered(start: int, end: int) -> list[Sentence]:
        first = max(0, bisect.bisect_right(starts, start) - 1)
        found = []
        for sentence in sentences[first:]:
            if sentence.start >= max(end, start + 1):
                break
            if sentence.end > start:
                found.append(sentence)
        return found

    unanswered = sa.and_(Annotation.is_question.is_(True), Annotation.answered_at.is_(None))
    for start, end, notes, questions, open_questions, first in session.execute(
        sa.select(
            Annotation.start,
            Annotation.end,
            sa.func.count(Annotation.id),
            sa.func.sum(sa.case((Annotation.is_question.is_(True), 1), else_=0)),
            sa.func.sum(sa.case((unanswered, 1), else_=0)),
            sa.func.min(Annotation.id),
        )
        .where(notes_where)
        .group_by(Annotation.start, Annotation.end)
    ):
        for sentence in covered(start, end):
            sentence.notes += notes
            sentence.questions += questions or 0
            sentence.unanswered += open_questions or 0
            if sentence.first_note is None or first < sentence.first_note:
                sentence.first_note = first
    for start, end, replies in session.execute(
        sa.select(Annotation.start, Annotation.end, sa.func.count(Reply.id))
        .join(Reply, Reply.annotation_id == Annotation.id)
        .where(notes_where, Reply.deleted_at.is_(None))
        .group_by(Annotation.start, Annotation.end)
    ):
        for sentence in covered(start, end):
            sentence.replies += replies
    most = max((s.notes for s in sentences), default=0)
    return HeatMap(blocks, sentences, most)


def oldest_unanswered(session: Session, assignment: Assignment, limit: int = TOP):
    """The assignment's oldest open questions (the note and its author)."""
    return session.execute(
        sa.select(Annotation, User.username)
        .join(User, User.id == Annotation.author_id)
        .where(
            class_notes(assignment.classroom_id, assignment.document_id),
            Annotation.is_question.is_(True),
            Annotation.answered_at.is_(None),
        )
        .order_by(Annotation.created_at, Annotation.id)
        .limit(limit)
    ).all()


NOTE_COLUMNS = (
    "kind",
    "id",
    "note",
    "quote",
    "comment",
    "author",
    "time (UTC)",
    "tags",
    "votes",
    "question",
    "answered",
    "hidden",
    "late",
    "link",
)


def notes_table(session: Session, assignment: Assignment, link_for) -> list[tuple]:
    """Every note and reply of the assignment (not deleted; hidden ones included, marked),
    each note followed by its replies, in the order of the text. `link_for(annotation,
    reply)` gives the address of its place."""
    deadlines = Deadlines.load(session, assignment)
    where = class_notes(assignment.classroom_id, assignment.document_id)
    notes = list(
        session.scalars(
            sa.select(Annotation)
            .options(selectinload(Annotation.tags), selectinload(Annotation.author))
            .where(where)
            .order_by(
                Annotation.version_id.is_(None), Annotation.start, Annotation.end, Annotation.id
            )
        )
    )
    votes = dict(
        session.execute(
            sa.select(Vote.annotation_id, sa.func.count(Vote.id))
            .join(Annotation, Annotation.id == Vote.annotation_id)
            .where(where, Vote.user_id != Annotation.author_id)
            .group_by(Vote.annotation_id)
        ).all()
    )
    replies: dict[int, list[Reply]] = {}
    for reply in session.scalars(
        sa.select(Reply)
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .options(selectinload(Reply.author))
        .where(where, Reply.deleted_at.is_(None))
        .order_by(Reply.created_at, Reply.id)
    ):
        replies.setdefault(reply.annotation_id, []).append(reply)
    rows = []
    for note in notes:
        rows.append(
            (
                "note",
                note.id,
                note.id,
                note.exact,
                note.body_markdown,
                note.author.username,
                note.created_at,
                " ".join(tag.name for tag in note.tags),
                votes.get(note.id, 0),
                note.is_question,
                note.answered_at is not None if note.is_question else None,
                note.hidden,
                deadlines.is_late(note.author_id, note.created_at),
                link_for(note, None),
            )
        )
        for reply in replies.get(note.id, []):
            rows.append(
                (
                    "reply",
                    reply.id,
                    note.id,
                    note.exact,
                    reply.body_markdown,
                    reply.author.username,
                    reply.created_at,
                    "",
                    None,
                    None,
                    None,
                    reply.hidden,
                    deadlines.is_late(reply.author_id, reply.created_at),
                    link_for(note, reply),
                )
            )
    return rows
