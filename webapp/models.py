"""Database tables. Schema changes go through Alembic migrations in migrations/versions/."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


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

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan"
    )


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("classroom_id", "user_id"),)

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


class Assignment(db.Model):
    """An article a class reads, with an optional due date."""

    __tablename__ = "assignments"
    __table_args__ = (sa.UniqueConstraint("classroom_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(sa.ForeignKey("classrooms.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    classroom: Mapped[Classroom] = relationship(back_populates="assignments")
    document: Mapped[Document] = relationship()


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True, index=True)
    source_name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_versions.id", use_alter=True, name="fk_documents_current_version")
    )

    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


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

    document: Mapped[Document] = relationship(foreign_keys=[document_id])


def has_note(body: str, question: bool, tags) -> bool:
    """A comment, a question or tags make a note, which may be shared with a class. Without
    them an annotation is a bare highlight: its author's own, wherever it is made."""
    return bool(body or question or tags)


class Annotation(db.Model):
    """A highlight (with an optional comment) on a passage of a document.

    `start`/`end` index the canonical text of `version`; `exact`/`prefix`/`suffix` are the
    quote that re-anchors it when the document is edited. `version_id` is None for an orphan.
    """

    __tablename__ = "annotations"
    __table_args__ = (sa.Index("ix_annotations_document_position", "document_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_versions.id", ondelete="SET NULL")
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    classroom_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classrooms.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[int]
    end: Mapped[int]
    exact: Mapped[str] = mapped_column(sa.Text)
    prefix: Mapped[str] = mapped_column(sa.String(200), default="")
    suffix: Mapped[str] = mapped_column(sa.String(200), default="")
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


class LoginAttempt(db.Model):
    """A failed login, kept briefly to slow down password guessing (shared by all workers)."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40))
    remote_addr: Mapped[str] = mapped_column(sa.String(64), default="")
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

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replies.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))

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
    reply_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Change(db.Model):
    """One row per write that readers of a document should see live.

    Its id is the cursor a sidebar polls with: it lives in the database, so every worker
    and every host answers the same. `classroom_id` is None for private annotations.
    """

    __tablename__ = "changes"
    __table_args__ = (sa.Index("ix_changes_document_id_id", "document_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    classroom_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classrooms.id", ondelete="CASCADE")
    )
    annotation_id: Mapped[int] = mapped_column(sa.ForeignKey("annotations.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
