"""Who may see and do what: the one place every read path and every permission check uses.

- A private annotation (no class) is seen by its author only.
- A class annotation is seen by members of that class; a hidden one only by the class's
  instructors and its author.
- Groups: on an article the class reads "in groups" (its assignment's mode), a student sees
  only the notes of their own group's members and of the class's instructors (a student in
  no group: their own and the instructors'). Instructors see every group.
- An archived class is read-only: its members read everything they read before, and no
  one writes in it (the views answer 403 with ARCHIVED).
- A reply is seen by whoever sees its annotation; a hidden reply only by the class's
  instructors and its author.
- Reading contexts narrow this further: "private" shows one's private notes, "class-N"
  the notes of class N and, beside them, one's own bare highlights (a highlight without
  a comment, question or tags is private wherever it is made: it must not vanish from the
  class view it was made in).

Articles (documents):
- A public article (no owner: the seeds, the command line) is read by everyone.
- An article added in the browser is read by its owner, by the members of the classes it is
  assigned to, and by whoever opened its share link while the link is on (the tokens they
  hold are passed in as `shares`).
- An archived article leaves every library; it is read only by its owner and by the
  authors of annotations on it (their notes stay readable and exportable), and no one
  annotates it any more.
- Everyone else is told it does not exist (404), like a missing article.
- Only the owner edits, shares, archives, restores or deletes an article; an instructor
  assigns public articles and their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import (
    Annotation,
    Assignment,
    AssignmentMode,
    Classroom,
    Document,
    GroupMember,
    Membership,
    Notification,
    Reply,
    Role,
    User,
)
from webapp.routing import parse_row_id
from webapp.row_objects import columns_of, object_of

PRIVATE = "private"
ARCHIVED = "This class is archived: it is read-only. An instructor can restore it."
NOT_A_MEMBER = "You are not a member of that class."


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user known by id alone, for a clause built without loading the user
    (the idle live poll, after its login session was checked in the same statement)."""

    id: int
    is_authenticated: bool = True


def _signed_in(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


def member_of(user: User | SignedIn):
    """The ids of the classes `user` is a member of (a subquery)."""
    return _member_of(user)


def _member_of(user: User):
    return sa.select(Membership.classroom_id).where(Membership.user_id == user.id)


def _teaches(user: User):
    return _member_of(user).where(Membership.role == Role.INSTRUCTOR.value)


# Aliases of their own: the outer query may be on these tables too (notifications join
# assignments, replies are listed with their notes), and only Annotation is correlated.
# Made once per process: building an alias (and its columns) anew per clause cost more
# than the query it went into.
_GROUP_ASSIGNMENT = aliased(Assignment)
_GROUP_TEACHER = aliased(Membership)
_GROUP_MINE = aliased(GroupMember)
_GROUP_THEIRS = aliased(GroupMember)
_THREAD_REPLY = aliased(Reply)


def _group_rule(user: User):
    """The groups rule as a WHERE clause on Annotation (class notes only): true unless the
    note's article is read in groups by its class and neither the reader teaches that
    class, nor the note's author is one of its instructors or in the reader's group."""
    assignment, teacher = _GROUP_ASSIGNMENT, _GROUP_TEACHER
    mine, theirs = _GROUP_MINE, _GROUP_THEIRS
    read_in_groups = (
        sa.select(assignment.id)
        .where(
            assignment.classroom_id == Annotation.classroom_id,
            assignment.document_id == Annotation.document_id,
            assignment.mode == AssignmentMode.GROUPS.value,
        )
        .correlate(Annotation)
        .exists()
    )
    author_teaches = (
        sa.select(teacher.id)
        .where(
            teacher.classroom_id == Annotation.classroom_id,
            teacher.user_id == Annotation.author_id,
            teacher.role == Role.INSTRUCTOR.value,
        )
        .correlate(Annotation)
        .exists()
    )
    same_group = (
        sa.select(mine.id)
        .join(theirs, theirs.group_id == mine.group_id)
        .where(
            mine.classroom_id == Annotation.classroom_id,
            mine.user_id == user.id,
            theirs.user_id == Annotation.author_id,
        )
        .correlate(Annotation)
        .exists()
    )
    return sa.or_(
        ~read_in_groups,
        Annotation.classroom_id.in_(_teaches(user)),
        author_teaches,
        same_group,
    )


def visible_annotations(
    user: User | None, with_deleted_threads: bool = False, with_deleted: bool = False
):
    """A WHERE clause selecting the annotations `user` may see.

    Deleted annotations are left out, except (with_deleted_threads) those whose thread
    still has live replies: the thread stays readable, marked as deleted. with_deleted
    keeps every deleted one that would be visible were it not deleted (to restore it).
    """
    if not _signed_in(user):
        return sa.false()
    return _visible_annotations(user.id, with_deleted_threads, with_deleted)


# The clauses depend on the user's id alone, and clauses are immutable: built once per user
# (and kind) and reused, as building one cost about a millisecond, several per request.
@lru_cache(maxsize=512)  # about 13 KiB each
def _visible_annotations(user_id: int, with_deleted_threads: bool, with_deleted: bool):
    user = SignedIn(user_id)
    live = Annotation.deleted_at.is_(None)
    if with_deleted:
        live = sa.true()
    elif with_deleted_threads:
        thread = _THREAD_REPLY  # its own alias: the outer query may be on replies too
        live = sa.or_(
            live,
            sa.exists().where(thread.annotation_id == Annotation.id, thread.deleted_at.is_(None)),
        )
    own = Annotation.author_id == user.id
    class_visible = sa.and_(
        Annotation.classroom_id.in_(_member_of(user)),
        sa.or_(Annotation.hidden.is_(False), Annotation.classroom_id.in_(_teaches(user))),
        _group_rule(user),
    )
    return sa.and_(live, sa.or_(own, class_visible))


def _live_or_threaded():
    """Not deleted, or deleted with a thread that lives on (with_deleted_threads)."""
    thread = _THREAD_REPLY
    return sa.or_(
        Annotation.deleted_at.is_(None),
        sa.exists().where(thread.annotation_id == Annotation.id, thread.deleted_at.is_(None)),
    )


def shown_to_students(classroom_id: int):
    """The notes of class `classroom_id` that every member who does not teach it sees, on an
    article the class does not read in groups (deleted ones whose threads live on included):
    visible_annotations with_deleted_threads of such a member, less their own hidden notes
    (own_beside_class adds those). The same for all of them: the reader shares it."""
    return sa.and_(
        _live_or_threaded(),
        Annotation.classroom_id == classroom_id,
        Annotation.hidden.is_(False),
    )


def own_beside_class(user_id: int, classroom_id: int) -> tuple:
    """What a student's class view holds beyond shown_to_students, as two clauses, each
    for a SELECT of its own (joined by UNION ALL): their own bare highlights (private,
    shown in the class view: ReadingContext.clause), and their own notes hidden by an
    instructor. Apart, each finds its few rows by (author, article, class, hidden) in
    ix_annotations_author_document_class_hidden; one OR of the two read every note the
    student wrote on the article."""
    return (
        sa.and_(
            Annotation.author_id == user_id,
            Annotation.classroom_id.is_(None),
            Annotation.bare_highlight(),
            _live_or_threaded(),
        ),
        sa.and_(
            Annotation.author_id == user_id,
            Annotation.classroom_id == classroom_id,
            Annotation.hidden.is_(True),
            _live_or_threaded(),
        ),
    )


def _assigned_to_classes_of(user: User):
    return sa.select(Assignment.document_id).where(Assignment.classroom_id.in_(_member_of(user)))


def visible_documents(user: User | None, shares: Iterable[str] = ()):
    """A WHERE clause selecting the documents `user` may open (holding these share tokens)."""
    tokens = [token for token in shares if token]
    current = [Document.owner_id.is_(None)]
    if tokens:
        current.append(Document.share_token.in_(tokens))
    if not _signed_in(user):
        return sa.and_(Document.archived_at.is_(None), sa.or_(*current))
    current.append(Document.id.in_(_assigned_to_classes_of(user)))
    annotated = sa.select(Annotation.document_id).where(Annotation.author_id == user.id)
    return sa.or_(
        Document.owner_id == user.id,
        sa.and_(Document.archived_at.is_(None), sa.or_(*current)),
        sa.and_(Document.archived_at.is_not(None), Document.id.in_(annotated)),
    )


def can_read_document(user: User | None, document: Document, shares: Iterable[str] = ()) -> bool:
    if document.owner_id is None and document.archived_at is None:
        return True  # the public library: no query needed
    return (
        db.session.scalar(
            sa.select(Document.id).where(
                Document.id == document.id, visible_documents(user, shares)
            )
        )
        is not None
    )


def owns(user: User | None, document: Document) -> bool:
    """The owner edits, shares, archives, restores and deletes the article."""
    return _signed_in(user) and document.owner_id is not None and document.owner_id == user.id


def can_annotate_document(document: Document) -> bool:
    """Anyone who reads an article annotates it, unless it is archived."""
    return document.archived_at is None


def library_shelves(user: User | None) -> dict[str, sa.ColumnElement[bool]]:
    """The library's tabs as WHERE clauses: public, mine, assigned to my classes, and my
    archived articles (to restore). Each lies within visible_documents."""
    shelves = {"public": sa.and_(Document.owner_id.is_(None), Document.archived_at.is_(None))}
    if _signed_in(user):
        shelves["mine"] = sa.and_(Document.owner_id == user.id, Document.archived_at.is_(None))
        shelves["assigned"] = sa.and_(
            Document.archived_at.is_(None), Document.id.in_(_assigned_to_classes_of(user))
        )
        shelves["archived"] = sa.and_(
            Document.owner_id == user.id, Document.archived_at.is_not(None)
        )
    return shelves


def assignable_documents(user: User | None):
    """A WHERE clause for the articles an instructor may assign: public ones and their own."""
    if not _signed_in(user):
        return sa.false()
    return sa.and_(
        Document.archived_at.is_(None),
        sa.or_(Document.owner_id.is_(None), Document.owner_id == user.id),
    )


def may_assign(user: User | None, document: Document) -> bool:
    return (
        db.session.scalar(
            sa.select(Document.id).where(Document.id == document.id, assignable_documents(user))
        )
        is not None
    )


def visible_replies(user: User | None):
    """A WHERE clause (on Reply joined to its Annotation) for the replies `user` may see."""
    if not _signed_in(user):
        return sa.false()
    return _visible_replies(user.id)


@lru_cache(maxsize=512)  # about 13 KiB each
def _visible_replies(user_id: int):
    user = SignedIn(user_id)
    audience = _visible_annotations(user_id, True, False)
    reply_visible = sa.or_(
        Reply.hidden.is_(False),
        Reply.author_id == user.id,
        Annotation.classroom_id.in_(_teaches(user)),
    )
    return sa.and_(Reply.deleted_at.is_(None), audience, reply_visible)


def visible_notifications(user: User | None):
    """A WHERE clause for the notifications `user` may see: their own, and only while what
    each is about is still visible to them (a note hidden or deleted since, a class left).

    The query must outer-join Annotation on Notification.annotation_id, Reply on
    Notification.reply_id and Assignment on Notification.assignment_id.
    """
    if not _signed_in(user):
        return sa.false()
    return sa.and_(
        Notification.user_id == user.id,
        sa.or_(
            Notification.annotation_id.is_(None),
            visible_annotations(user, with_deleted_threads=True),
        ),
        sa.or_(Notification.reply_id.is_(None), visible_replies(user)),
        sa.or_(
            Notification.assignment_id.is_(None),
            Assignment.classroom_id.in_(_member_of(user)),
        ),
    )


@dataclass(frozen=True)
class ReadingContext:
    """What the reader page shows: one's private notes, or one class's."""

    classroom: Classroom | None = None
    membership: Membership | None = None

    @property
    def key(self) -> str:
        return f"class-{self.classroom.id}" if self.classroom else PRIVATE

    @property
    def is_instructor(self) -> bool:
        return bool(self.membership and self.membership.is_instructor)

    def contains(self, annotation: Annotation) -> bool:
        if self.classroom is None:
            return annotation.classroom_id is None
        if annotation.classroom_id is None:
            mine = annotation.author_id == self.membership.user_id
            return mine and annotation.is_bare_highlight
        return annotation.classroom_id == self.classroom.id

    def clause(self):
        """Narrows visible_annotations to this context."""
        if self.classroom is None:
            return Annotation.classroom_id.is_(None)
        own_highlights = sa.and_(
            Annotation.classroom_id.is_(None),
            Annotation.author_id == self.membership.user_id,
            Annotation.bare_highlight(),
        )
        return sa.or_(Annotation.classroom_id == self.classroom.id, own_highlights)

    def parts(self, user_id: int) -> list:
        """clause() for a reader `user_id` (within visible_annotations of that reader), as
        disjoint parts whose union it is, each with equalities an index finds: the class's
        notes by (document, class), one's own by (author, document). A private note is
        visible to its author only, so the private context is the reader's own notes."""
        own = sa.and_(Annotation.classroom_id.is_(None), Annotation.author_id == user_id)
        if self.classroom is None:
            return [own]
        return [Annotation.classroom_id == self.classroom.id, sa.and_(own, self.clause())]


class ContextError(LookupError):
    """A context the user may not read in."""


def membership(user: User | None, classroom_id: int) -> Membership | None:
    """The user's membership of a class, its class loaded with it (reading_context needs
    it): one statement, its row made into the objects by row_objects (cheaper than an ORM
    query with an eager load)."""
    if not _signed_in(user):
        return None
    parameters = {"user_id": user.id, "classroom_id": classroom_id}
    row = db.session.connection().execute(_MEMBERSHIP, parameters).first()
    return None if row is None else membership_of(row)


MEMBERSHIP_WIDTH = len(columns_of(Membership))
MEMBERSHIP_AND_CLASS_WIDTH = MEMBERSHIP_WIDTH + len(columns_of(Classroom))


def membership_of(row) -> Membership:
    """A membership's columns followed by its class's (columns_of each), made into the
    session's objects, the class loaded with it."""
    classroom = object_of(db.session, Classroom, row[MEMBERSHIP_WIDTH:MEMBERSHIP_AND_CLASS_WIDTH])
    return object_of(db.session, Membership, row[:MEMBERSHIP_WIDTH], classroom=classroom)


# The statements below are asked on most requests: built once (building one costs more
# than running it).
_MEMBERSHIP = (
    sa.select(*columns_of(Membership), *columns_of(Classroom))
    .join(Classroom, Classroom.id == Membership.classroom_id)
    .where(
        Membership.user_id == sa.bindparam("user_id"),
        Membership.classroom_id == sa.bindparam("classroom_id"),
    )
)


def teaches_student(user: User | None, classroom_id: int, student_id: int) -> bool:
    """Whether `user` is an instructor of the class and `student_id` a student in it (who
    may then be given a password reset link by them)."""
    mine = membership(user, classroom_id)
    if mine is None or not mine.is_instructor or student_id == user.id:
        return False
    role = db.session.scalar(
        sa.select(Membership.role).where(
            Membership.classroom_id == classroom_id, Membership.user_id == student_id
        )
    )
    return role == Role.STUDENT.value


def reading_context(user: User | None, key: str | None) -> ReadingContext:
    """Parse "private" or "class-N"; a class the user is not in is refused."""
    if not key or key == PRIVATE:
        return ReadingContext()
    classroom_id = parse_row_id(key[6:]) if key.startswith("class-") else None
    if classroom_id is None:
        raise ContextError(f"Unknown reading context {key[:30]!r}.")
    found = membership(user, classroom_id)
    if found is None:
        raise ContextError(NOT_A_MEMBER)
    return ReadingContext(found.classroom, found)


def can_see(
    user: User | None, annotation: Annotation, with_deleted_threads=False, with_deleted=False
) -> bool:
    return (
        db.session.scalar(
            sa.select(Annotation.id).where(
                Annotation.id == annotation.id,
                visible_annotations(user, with_deleted_threads, with_deleted),
            )
        )
        is not None
    )


def can_see_reply(user: User | None, reply: Reply) -> bool:
    return (
        db.session.scalar(
            sa.select(Reply.id)
            .join(Annotation, Annotation.id == Reply.annotation_id)
            .where(Reply.id == reply.id, visible_replies(user))
        )
        is not None
    )


@dataclass(frozen=True)
class Viewer:
    """A user's permissions, with their class roles read once per request."""

    user: User | None
    roles: dict[int, str]
    archived: frozenset[int] = frozenset()  # the user's classes that are archived

    @property
    def signed_in(self) -> bool:
        return _signed_in(self.user)

    def writes_in(self, classroom_id: int | None) -> bool:
        """Whether anything may be written in this class (None: one's private notes)."""
        return classroom_id is None or (
            classroom_id in self.roles and classroom_id not in self.archived
        )

    def is_instructor_in(self, classroom_id: int | None) -> bool:
        return self.roles.get(classroom_id) == Role.INSTRUCTOR.value

    def can_edit(self, item: Annotation | Reply) -> bool:
        """Only the author edits or deletes an annotation or a reply; in a class, only
        while still a member (a removed student cannot rewrite what the class reads)."""
        if not self.signed_in or item.author_id != self.user.id:
            return False
        classroom_id = (
            item.classroom_id if isinstance(item, Annotation) else item.annotation.classroom_id
        )
        return self.writes_in(classroom_id)

    def can_moderate(self, annotation: Annotation) -> bool:
        """Instructors of the annotation's class pin, hide and see flags (not once the
        class is archived)."""
        return self.is_instructor_in(annotation.classroom_id) and self.writes_in(
            annotation.classroom_id
        )

    def can_take_part(self, annotation: Annotation) -> bool:
        """Class members reply, vote and flag; on a private note, only its author replies."""
        if annotation.classroom_id is None:
            return self.can_edit(annotation)
        return self.writes_in(annotation.classroom_id)

    def can_vote(self, annotation: Annotation) -> bool:
        """Class members upvote class notes, other than their own."""
        return (
            annotation.classroom_id is not None
            and self.writes_in(annotation.classroom_id)
            and annotation.author_id != self.user.id
        )

    def can_mark_answered(self, annotation: Annotation) -> bool:
        return self.can_edit(annotation) or self.can_moderate(annotation)


def viewer_of(user: User | None) -> Viewer:
    if not _signed_in(user):
        return Viewer(None, {})
    rows = db.session.execute(_ROLES, {"user_id": user.id}).all()
    return Viewer(
        user,
        {classroom_id: role for classroom_id, role, _ in rows},
        frozenset(classroom_id for classroom_id, _, archived in rows if archived is not None),
    )


_ROLES = (
    sa.select(Membership.classroom_id, Membership.role, Classroom.archived_at)
    .join(Classroom, Classroom.id == Membership.classroom_id)
    .where(Membership.user_id == sa.bindparam("user_id"))
)


def is_archived(classroom_id: int | None) -> bool:
    """Whether this class is archived (read-only); False for private notes (None)."""
    if classroom_id is None:
        return False
    return (
        db.session.scalar(
            sa.select(Classroom.id).where(
                Classroom.id == classroom_id, Classroom.archived_at.is_not(None)
            )
        )
        is not None
    )


def instructors_of(classroom_ids: Iterable[int | None]) -> dict[int, set[int]]:
    """The instructors' user ids of these classes (for the "Instructor" badge)."""
    ids = {i for i in classroom_ids if i is not None}
    if not ids:
        return {}
    found: dict[int, set[int]] = {}
    for classroom_id, user_id in db.session.execute(_INSTRUCTORS, {"ids": sorted(ids)}):
        found.setdefault(classroom_id, set()).add(user_id)
    return found


_INSTRUCTORS = sa.select(Membership.classroom_id, Membership.user_id).where(
    Membership.classroom_id.in_(sa.bindparam("ids", expanding=True)),
    Membership.role == Role.INSTRUCTOR.value,
)
