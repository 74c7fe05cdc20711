"""A ready-made classroom to look around in: `flask --app webapp demo`.

An instructor, three students, a class reading the seed article, and a short discussion in
its margins (comments, a question, replies, a reply to a reply, votes, a pinned note). Made
with the same services the app uses, so it is what a real class would look like.

Running it again changes nothing: existing demo accounts keep their passwords and the class
is not filled twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import (
    Annotation,
    Classroom,
    Document,
    DocumentVersion,
    Membership,
    Role,
    User,
    utcnow,
)
from webapp.services.accounts import create_user, find_user
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, assignments_of, create_class, join_class
from webapp.services.discussion import add_reply, set_pinned, toggle_vote
from webapp.services.documents import import_directory

INSTRUCTOR = "demo-teacher"
STUDENTS = ("demo-ana", "demo-ben", "demo-chloe")
PASSWORD = "demo-password"
CLASS_NAME = "Demo class"
DUE_IN_DAYS = 7


class DemoError(RuntimeError):
    """The demo cannot be set up; the message says why."""


@dataclass(frozen=True)
class Note:
    """One annotation of the demo discussion, by the index of its author (0 is the
    instructor), with replies (author, text, index of the reply it answers or None)."""

    author: int
    phrase: str
    colour: str
    body: str = ""
    question: bool = False
    tags: str = ""
    replies: tuple[tuple[int, str, int | None], ...] = ()
    voters: tuple[int, ...] = ()
    pinned: bool = False


# Passages of the seed article ("Russian Military Needed in Syria Long Term, Assad Says").
NOTES = (
    Note(
        1,
        "Hmeimim military base",
        "yellow",
        "Forty years is a very long time for a base agreement. When was it signed, and "
        "can a future government in Damascus end it?",
        question=True,
        tags="russia, bases",
        replies=(
            (
                0,
                "Good question. It was signed in August 2015, a month before Russia's air "
                'campaign began, and extended in 2017. Read it next to "until the global '
                'political balance changes" in the second paragraph.',
                None,
            ),
            (1, 'Thanks! So "over 40 years" is really "as long as Moscow wants".', 0),
        ),
        voters=(2, 3),
    ),
    Note(
        2,
        "The rapid return of refugees to Syria",
        "green",
        "Return to what, though? Whole neighbourhoods were destroyed, and the article "
        "never says where people would live.",
        tags="refugees",
        replies=((3, "Some who go back are also called up for military service.", None),),
        voters=(0,),
    ),
    Note(
        3,
        "White Helmets",
        "blue",
        "The same group, two descriptions: *credited with saving thousands* (the West) and "
        "*a cover for militant groups* (Assad). Whose words does the article use first?",
        tags="framing",
        replies=((2, "And Assad is only quoted through Interfax and TASS, both Russian.", None),),
        voters=(1,),
    ),
    Note(1, "balance in our region", "pink"),
    Note(
        0,
        "lay down their arms and use the amnesty",
        "purple",
        'For Thursday: what does "be liquidated" tell us about how this amnesty would work?',
        tags="discussion",
        pinned=True,
    ),
)


@dataclass(frozen=True)
class Demo:
    classroom: Classroom
    document: Document
    instructor: str
    students: tuple[str, ...]
    password: str
    created: bool


def seed_document(session: Session, seeds_dir: Path) -> Document:
    """The seed article: imported from the seeds folder when the library is empty."""
    if session.scalar(sa.select(Document.id).limit(1)) is None:
        if not seeds_dir.is_dir():
            raise DemoError(f"The library is empty and there is no seeds folder at {seeds_dir}.")
        import_directory(session, seeds_dir)
    names = sorted(p.name for p in seeds_dir.iterdir()) if seeds_dir.is_dir() else []
    query = sa.select(Document).where(Document.current_version_id.is_not(None))
    document = None
    if names:
        seeded = query.where(Document.source_name.in_(names)).order_by(Document.id)
        document = session.scalar(seeded)
    document = document or session.scalar(query.order_by(Document.id))
    if document is None:
        raise DemoError("There is no article to assign: import one first.")
    return document


def _user(session: Session, username: str) -> User:
    return find_user(session, username) or create_user(session, username, PASSWORD)


def _existing_class(session: Session, instructor: User) -> Classroom | None:
    return session.scalar(
        sa.select(Classroom)
        .join(Membership, Membership.classroom_id == Classroom.id)
        .where(
            Classroom.name == CLASS_NAME,
            Membership.user_id == instructor.id,
            Membership.role == Role.INSTRUCTOR.value,
        )
        .order_by(Classroom.id)
    )


def passage(text: str, phrase: str, fallback: int) -> tuple[int, str]:
    """Where `phrase` is in the canonical text; for another article, the first words of
    one of its paragraphs instead."""
    start = text.find(phrase)
    if start >= 0:
        return start, phrase
    paragraphs = [p for p in text.split("\n") if len(p.split()) >= 6]
    if not paragraphs:
        raise DemoError("The article is too short for a demo discussion.")
    chosen = paragraphs[fallback % len(paragraphs)]
    words = " ".join(chosen.split()[:5])
    if words not in text:  # unusual spacing: take the paragraph's start as it is
        words = chosen[:30]
    return text.find(words), words


def _discuss(
    session: Session, classroom: Classroom, version: DocumentVersion, people: list[User]
) -> list[Annotation]:
    annotations = []
    for index, note in enumerate(NOTES):
        start, exact = passage(version.text, note.phrase, index)
        form = {
            "start": str(start),
            "end": str(start + len(exact)),
            "exact": exact,
            "colour": note.colour,
            "body": note.body,
            "intent": "comment" if note.body else "highlight",
            "audience": f"class-{classroom.id}",
            "tags": note.tags,
        }
        if note.question:
            form["question"] = "on"
        annotation = create_annotation(session, people[note.author], version, form)
        replies = []
        for author, body, parent in note.replies:
            parent_id = str(replies[parent].id) if parent is not None else None
            replies.append(add_reply(session, people[author], annotation, body, parent_id))
        for voter in note.voters:
            toggle_vote(session, people[voter], annotation)
        if note.pinned:
            set_pinned(session, annotation, people[0], True)
        annotations.append(annotation)
    return annotations


def set_up_demo(session: Session, seeds_dir: Path, now: datetime | None = None) -> Demo:
    """Create (or find) the demo class and its people; the caller commits."""
    document = seed_document(session, seeds_dir)
    instructor = _user(session, INSTRUCTOR)
    students = [_user(session, name) for name in STUDENTS]
    classroom = _existing_class(session, instructor)
    created = classroom is None
    if classroom is None:
        classroom = create_class(session, instructor, CLASS_NAME)
    for student in students:
        join_class(session, student, classroom.join_code)
    assigned = assignments_of(session, classroom)
    if assigned:
        document = assigned[0].document
    else:
        day = ((now or utcnow()) + timedelta(days=DUE_IN_DAYS)).date()
        assign(session, classroom, document, datetime.combine(day, time(23, 59)))
    if created:
        _discuss(session, classroom, document.current_version, [instructor, *students])
    session.flush()
    return Demo(
        classroom=classroom,
        document=document,
        instructor=instructor.username,
        students=tuple(s.username for s in students),
        password=PASSWORD,
        created=created,
    )
