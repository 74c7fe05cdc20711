"""Database tables. Schema changes go through Alembic migrations in migrations/versions/."""

from __future__ import annotations

import enum
import unicodedata
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def username_key(username: str) -> str:
    """The one form in which usernames are compared: sign-up, login and login limits.

    NFKC then case folding (NFKC again, as folding can produce unnormalised text), so
    "Kate" spelt with the Kelvin sign, or fullwidth "ｋａｔｅ", is the same name as "kate".
    """
    text = unicodedata.normalize("NFKC", (username or "").strip())
    return unicodedata.normalize("NFKC", text.casefold()).strip()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed at sign-up, for display.
    username: Mapped[str] = mapped_column(sa.String(40), unique=True, index=True)
    # The name as sign-up, login and the login limits compare it; set with `username`.
    username_key: Mapped[str] = mapped_column(sa.String(40), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optional, lower case; where notifications and "forgot password" links go.
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)

    # The login session this request came with (set by the user loader, not stored here).
    session_token = None
    loaded_with = ()  # what was read with the user's row (accounts.load_session)

    def get_id(self) -> str | None:
        """Flask-Login's id for the session and remember cookies: "<id>:<session token>"."""
        return f"{self.id}:{self.session_token}" if self.session_token else None

    def __eq__(self, other: object) -> bool:
        # Flask-Login's UserMixin compares get_id(), which now carries the session token.
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__  # as before; one instance per row in a session

    @validates("username")
    def _set_username_key(self, _field: str, username: str) -> str:
        self.username_key = username_key(username)
        return username

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class LoginSession(db.Model):
    """One login on one browser; deleting it ends that session and its remember cookie.

    Only a hash of the token is kept, so a copy of the database opens no sessions.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    user: Mapped[User] = relationship()


class Role(enum.StrEnum):
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class Classroom(db.Model):
    """A class (named Classroom: `class` is a Python keyword)."""

    __tablename__ = "classrooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    join_code: Mapped[str] = mapped_column(sa.String(16), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while the class is archived: read-only, listed apart, restorable.
    archived_at: Mapped[datetime | None]
    # An IANA time zone name (zoneinfo): due dates are typed and shown in it.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    # What each highlight colour means in this class, where its instructors changed the
    # default ({"blue": "Source?"}); webapp/services/purposes.py reads and writes it.
    colour_purposes: Mapped[dict | None] = mapped_column(sa.JSON)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan"
    )


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("classroom_id", "user_id"),
        # A class's instructors (and students), found without reading every member's row.
        sa.Index("ix_memberships_classroom_role_user", "classroom_id", "role", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(sa.ForeignKey("classrooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.STUDENT.value)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    classroom: Mapped[Classroom] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR.value


class AssignmentMode(enum.StrEnum):
    CLASS = "class"  # everyone in the class reads everyone's notes
    GROUPS = "groups"  # a student reads their group's notes and the instructors'


class Assignment(db.Model):
    """An article a class reads, with an optional due date and time (`due_at`: an instant,
    naive UTC like every timestamp; shown in the class's time zone or the reader's);
    `mode` says who reads whose notes on it (webapp/visibility.py)."""

    __tablename__ = "assignments"
    __table_args__ = (sa.UniqueConstraint("classroom_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(sa.ForeignKey("classrooms.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mode: Mapped[str] = mapped_column(
        sa.String(10), default=AssignmentMode.CLASS.value, server_default=AssignmentMode.CLASS.value
    )

    classroom: Mapped[Classroom] = relationship(back_populates="assignments")

    @property
    def in_groups(self) -> bool:
        return self.mode == AssignmentMode.GROUPS.value

    document: Mapped[Document] = relationship()


class ClassGroup(db.Model):
    """A group of students within a class (a student is in at most one group per class)."""

    __tablename__ = "class_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classrooms.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupMember(db.Model):
    """One student in one group; `classroom_id` repeats the group's class so that the
    unique constraint keeps a student in one group per class."""

    __tablename__ = "group_members"
    __table_args__ = (
        sa.UniqueConstraint("classroom_id", "user_id", name="uq_group_members_classroom_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("class_groups.id", ondelete="CASCADE"), index=True
    )
    classroom_id: Mapped[int] = mapped_column(sa.ForeignKey("classrooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)

    group: Mapped[ClassGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Extension(db.Model):
    """A later deadline for one student on one assignment (naive UTC)."""

    __tablename__ = "extensions"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rubric(db.Model):
    """How an assignment is scored, from plain counts (webapp/services/rubric.py).

    No row: the default rubric. Each criterion is met by a count and earns its points.
    """

    __tablename__ = "rubrics"

    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    comments_needed: Mapped[int]
    comment_words: Mapped[int]
    comment_points: Mapped[int]
    replies_needed: Mapped[int]
    reply_points: Mapped[int]
    questions_needed: Mapped[int]
    question_points: Mapped[int]
    upvotes_needed: Mapped[int]
    upvote_points: Mapped[int]
    cap: Mapped[int]
    count_late: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class ScoreOverride(db.Model):
    """An instructor's score for one student on one assignment, replacing the computed
    one, with the reason shown beside it."""

    __tablename__ = "score_overrides"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(500))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])


class Document(db.Model):
    """An article. `owner_id` None: public (seeds, command line); else added in the browser
    and seen as webapp/visibility.py says. `share_token` is set while its share link is on."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True, index=True)
    source_name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_versions.id", use_alter=True, name="fk_documents_current_version")
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", name="fk_documents_owner_id_users"), index=True
    )
    archived_at: Mapped[datetime | None]
    share_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    @property
    def is_public(self) -> bool:
        return self.owner_id is None


class DocumentVersion(db.Model):
    """One imported revision of an article: metadata, sanitized HTML and canonical text."""

    __tablename__ = "document_versions"
    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(500))
    byline: Mapped[str | None] = mapped_column(sa.String(500))
    published: Mapped[date | None]
    published_text: Mapped[str | None] = mapped_column(sa.String(100))
    source_url: Mapped[str | None] = mapped_column(sa.String(2000))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who made this version in the browser (None: imported), and what changed, in a line.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", name="fk_document_versions_created_by_id_users")
    )
    summary: Mapped[str | None] = mapped_column(sa.String(500))

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


def _same_as(column: str):
    """A default that copies another column of the same insert."""
    return lambda context: context.get_current_parameters().get(column) or ""


class DocumentAsset(db.Model):
    """An image copied into an article at import, served by the app at /media/<digest>.

    Keyed by the SHA-256 of its bytes, so versions (and articles) that show the same image
    share one row. The type is sniffed from the bytes, never taken from the source.
    """

    __tablename__ = "document_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VersionAsset(db.Model):
    """Which images a document version shows (so unused ones can be found and removed)."""

    __tablename__ = "version_assets"

    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_versions.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def has_note(body: str, question: bool, tags) -> bool:
    """A comment, a question or tags make a note, which may be shared with a class. Without
    them an annotation is a bare highlight: its author's own, wherever it is made."""
    return bool(body or question or tags)


class Annotation(db.Model):
    """A highlight (with an optional comment) on a passage of a document.

    `start`/`end` index the canonical text of `version`; `exact`/`prefix`/`suffix` are the
    quote there, which re-anchors it when the document is edited. `original_*` keep the quote
    it was made on: an orphan is looked for again by it in every later version.
    `version_id` is None for an orphan.
    """

    __tablename__ = "annotations"
    __table_args__ = (
        sa.Index("ix_annotations_document_position", "document_id", "start"),
        sa.Index("uq_annotations_author_idempotency", "author_id", "idempotency_key", unique=True),
        # The reader's marks and the notes a write redraws, found by position: a class's
        # notes, and one's own (private notes, bare highlights) by author. With `end`, the
        # overlap test (start < hi AND end > lo) is decided in the index: the table is read
        # for the notes that overlap only, not for every one starting before the span's end.
        sa.Index(
            "ix_annotations_document_class_start", "document_id", "classroom_id", "start", "end"
        ),
        sa.Index(
            "ix_annotations_author_document_start", "author_id", "document_id", "start", "end"
        ),
        # A student's own notes that their class view shows beside the class's (their bare
        # highlights, their notes hidden by an instructor: visibility.own_beside_class),
        # found without reading every note they wrote on the article.
        sa.Index(
            "ix_annotations_author_document_class_hidden",
            "author_id",
            "document_id",
            "classroom_id",
            "hidden",
        ),
        # The write-rate check counts one's recent notes.
        sa.Index("ix_annotations_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_versions.id", ondelete="SET NULL")
    )
    # (no index of its own: each of the table's indexes naming the author starts with it)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    classroom_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classrooms.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[int]
    end: Mapped[int]
    exact: Mapped[str] = mapped_column(sa.Text)
    prefix: Mapped[str] = mapped_column(sa.String(200), default="")
    suffix: Mapped[str] = mapped_column(sa.String(200), default="")
    original_exact: Mapped[str] = mapped_column(sa.Text, default=_same_as("exact"))
    original_prefix: Mapped[str] = mapped_column(sa.String(200), default=_same_as("prefix"))
    original_suffix: Mapped[str] = mapped_column(sa.String(200), default=_same_as("suffix"))
    colour: Mapped[str] = mapped_column(sa.String(16), default="yellow")
    body_markdown: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))
    pinned: Mapped[bool] = mapped_column(default=False)
    is_question: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The key the reader's page sent with the request that made it: a repeat of that
    # request (a retry, a double send) is answered with this note instead of a second one.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    document: Mapped[Document] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    tags: Mapped[list[AnnotationTag]] = relationship(
        cascade="all, delete-orphan", order_by="AnnotationTag.name"
    )

    @property
    def is_orphan(self) -> bool:
        return self.version_id is None

    @property
    def is_bare_highlight(self) -> bool:
        return not has_note(self.body_markdown, self.is_question, self.tags)

    @classmethod
    def bare_highlight(cls):
        """is_bare_highlight as a WHERE clause."""
        return sa.and_(
            cls.body_markdown == "",
            cls.is_question.is_(False),
            ~sa.exists().where(AnnotationTag.annotation_id == cls.id),
        )


class FailedAttempt(db.Model):
    """A failed login or join-code attempt, kept briefly to slow down guessing (shared by all
    workers and hosts). `subject` is the username key (login) or the user id (join);
    `client` the client's address (an IPv6 client's /64)."""

    __tablename__ = "failed_attempts"
    __table_args__ = (
        sa.Index("ix_failed_attempts_kind_subject_at", "kind", "subject", "at"),
        sa.Index("ix_failed_attempts_kind_client_at", "kind", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    subject: Mapped[str] = mapped_column(sa.String(40))
    client: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AnnotationTag(db.Model):
    __tablename__ = "annotation_tags"
    __table_args__ = (sa.UniqueConstraint("annotation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40), index=True)


class Reply(db.Model):
    """A reply in an annotation's thread; `parent_id` threads replies to replies."""

    __tablename__ = "replies"
    __table_args__ = (
        sa.Index("ix_replies_author_created", "author_id", "created_at"),
        sa.Index("uq_replies_author_idempotency", "author_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replies.id", ondelete="CASCADE"))
    # (no index of its own: each of the table's indexes naming the author starts with it)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))  # as on Annotation

    author: Mapped[User] = relationship()
    annotation: Mapped[Annotation] = relationship()


class Vote(db.Model):
    """One upvote per person per annotation (the unique constraint makes it so)."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("annotation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(db.Model):
    """A member's report of an annotation or a reply, for the class's instructors."""

    __tablename__ = "flags"
    __table_args__ = (sa.UniqueConstraint("annotation_id", "reply_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("replies.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Reviewed by an instructor: when, by whom, and what they did ("hidden" or "kept").
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_flags_resolved_by_id_users")
    )
    outcome: Mapped[str | None] = mapped_column(sa.String(10))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    annotation: Mapped[Annotation] = relationship()
    reply: Mapped[Reply | None] = relationship()


class Change(db.Model):
    """One row per write that readers of a document should see live.

    Its `seq` (the document's change counter, taken at commit: see webapp/services/live.py)
    is the cursor a sidebar polls with: it lives in the database, so every worker and every
    host answers the same. `classroom_id` is None for private annotations.
    """

    __tablename__ = "changes"
    __table_args__ = (sa.Index("ix_changes_document_id_seq", "document_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int]
    classroom_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classrooms.id", ondelete="CASCADE")
    )
    annotation_id: Mapped[int] = mapped_column(sa.ForeignKey("annotations.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeCounter(db.Model):
    """The last `Change.seq` given out per document; writers take the next one under its
    row lock, so seq order is commit order."""

    __tablename__ = "change_counters"

    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)


class PageRevision(db.Model):
    """One row: a counter the database itself bumps (triggers, migration i11anon_page_revision)
    on every insert, update or delete in `documents` and `document_versions`.

    What a visitor who is not signed in sees (the library, an article) is made of those two
    tables alone, so a page rendered at one revision is the same page while the revision
    stays: the anonymous page cache (webapp/page_cache.py) reads it, one primary-key
    lookup, in place of rendering. Triggers see every write, the ORM's, bulk statements,
    the command line's and raw SQL. A migration that rebuilds either table (batch mode on
    SQLite copies it and drops the old one, triggers with it) must create them again.
    """

    __tablename__ = "page_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)


class ArticleDraft(db.Model):
    """An article between its preview and its publication (or a new version before it is
    confirmed): what was extracted, kept briefly so a large upload is sent only once.

    Seen by its owner only, through its random token; old drafts are swept away.
    """

    __tablename__ = "article_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # For a new version of an existing article: which one, and the version it was based on.
    document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    base_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_versions.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # How it came in ("text", "file", "url"), and what was given, to go back to the form.
    way: Mapped[str] = mapped_column(sa.String(10))
    input_text: Mapped[str | None] = mapped_column(sa.Text)
    input_name: Mapped[str | None] = mapped_column(sa.String(2000))
    # The extracted article (webapp.text.extract.ExtractedArticle), images in the rows below.
    kind: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str | None] = mapped_column(sa.String(500))
    byline: Mapped[str | None] = mapped_column(sa.String(500))
    date_text: Mapped[str | None] = mapped_column(sa.String(100))
    source_url: Mapped[str | None] = mapped_column(sa.String(2000))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    notes: Mapped[str] = mapped_column(sa.Text, default="")  # what was left out, a line each

    images: Mapped[list[ArticleDraftImage]] = relationship(
        cascade="all, delete-orphan", order_by="ArticleDraftImage.id"
    )


class ArticleDraftImage(db.Model):
    __tablename__ = "article_draft_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        sa.ForeignKey("article_drafts.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    alt: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Notification(db.Model):
    """Something that happened to one person's work or class: a reply, an answer, a pin,
    an assignment, a deadline. `event` names it (webapp/services/notifications.py EVENTS);
    the item it is about is shown only while the person may still see it.

    `in_app`: listed in the person's notifications (their settings may want e-mail only).
    `dedupe_key`: at most one notification per person and key (one deadline reminder per
    assignment, one "answered" per question).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    annotation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("replies.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    in_app: Mapped[bool] = mapped_column(default=True)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    annotation: Mapped[Annotation | None] = relationship()
    reply: Mapped[Reply | None] = relationship()
    assignment: Mapped[Assignment | None] = relationship()


class NotificationSetting(db.Model):
    """One person's choice for one kind of notification; no row means both on."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)


class OutboxMessage(db.Model):
    """An e-mail to send outside the request (webapp/services/outbox.py): a notification's,
    or an account message. Senders claim rows for a while (`claimed_until`); a row claimed
    by a sender that died is claimed again once that time has passed."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    user: Mapped[User] = relationship()
    notification: Mapped[Notification | None] = relationship()


class PasswordReset(db.Model):
    """A one-time link to set a new password (only a hash of its token is kept)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The instructor who issued it; None when asked for by e-mail.
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
