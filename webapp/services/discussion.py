"""Class discussion around an annotation: replies, votes, questions, moderation, flags.

Permission checks live in webapp.visibility; these functions assume the caller made them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from webapp.models import Annotation, Flag, Reply, User, Vote, utcnow
from webapp.routing import parse_row_id
from webapp.services import notifications
from webapp.services.annotations import AnnotationInputError, check_comment, idempotency_key
from webapp.services.idempotency import insert_once, saved_before
from webapp.services.live import record_change
from webapp.text.sanitize import render_comment
from webapp.visibility import visible_replies

MAX_REASON = 500
MAX_REPLY_DEPTH = 4


def add_reply(
    session: Session,
    author: User,
    annotation: Annotation,
    body: str,
    parent_id: str | None,
    key: str | None = None,
) -> Reply:
    """A new reply; a `key` this author used before answers with the reply saved then."""
    key = idempotency_key(key)
    repeated = saved_before(session, Reply, author.id, key)
    if repeated is not None:
        return repeated
    text = check_comment(body, required=True, what="reply")
    parent = None
    if parent_id:
        parent_key = parse_row_id(parent_id)
        if parent_key is None:
            raise AnnotationInputError("The reply you answered is not a valid reply id.")
        # A reply the author may not see is answered exactly as one that does not exist.
        parent = session.scalar(
            sa.select(Reply)
            .join(Annotation, Annotation.id == Reply.annotation_id)
            .where(
                Reply.id == parent_key,
                Reply.annotation_id == annotation.id,
                visible_replies(author),
            )
        )
        if parent is None:
            raise AnnotationInputError("The reply you answered is no longer in this thread.")
    now = utcnow()
    reply = Reply(
        annotation_id=annotation.id,
        parent_id=parent.id if parent else None,
        author_id=author.id,
        body_markdown=text,
        body_html=render_comment(text),
        created_at=now,
        updated_at=now,
        idempotency_key=key,
    )
    reply, new = insert_once(session, reply)
    if not new:
        return reply
    record_change(session, annotation, author, "replied")
    notifications.reply_added(session, reply, annotation, author)
    return reply


def update_reply(session: Session, reply: Reply, actor: User, body: str) -> Reply:
    text = check_comment(body, required=True, what="reply")
    reply.body_markdown = text
    reply.body_html = render_comment(text)
    reply.updated_at = utcnow()
    record_change(session, reply.annotation, actor, "reply-updated")
    return reply


def delete_reply(session: Session, reply: Reply, actor: User) -> None:
    reply.deleted_at = utcnow()
    record_change(session, reply.annotation, actor, "reply-deleted")


def thread_of(session: Session, viewer: User | None, annotation_ids: list[int]):
    """Visible replies of several annotations, as {annotation_id: [(reply, depth), ...]}
    in thread order (each reply followed by its answers)."""
    if not annotation_ids:
        return {}
    replies = session.scalars(
        sa.select(Reply)
        .join(Annotation, Annotation.id == Reply.annotation_id)
        .options(selectinload(Reply.author))
        .where(Reply.annotation_id.in_(annotation_ids), visible_replies(viewer))
        .order_by(Reply.created_at, Reply.id)
    ).all()
    children: dict[tuple[int, int | None], list[Reply]] = {}
    present = {reply.id for reply in replies}
    for reply in replies:
        parent = reply.parent_id if reply.parent_id in present else None
        children.setdefault((reply.annotation_id, parent), []).append(reply)
    threads: dict[int, list[tuple[Reply, int]]] = {}

    def walk(annotation_id: int, parent: int | None, depth: int) -> None:
        for reply in children.get((annotation_id, parent), []):
            threads.setdefault(annotation_id, []).append((reply, min(depth, MAX_REPLY_DEPTH)))
            walk(annotation_id, reply.id, depth + 1)

    for annotation_id in annotation_ids:
        walk(annotation_id, None, 0)
    return threads


def toggle_vote(session: Session, user: User, annotation: Annotation) -> bool:
    """Upvote, or take the upvote back; returns whether the user now votes for it.

    The unique constraint makes a double click or two tabs count once.
    """
    existing = session.scalar(
        sa.select(Vote).where(Vote.annotation_id == annotation.id, Vote.user_id == user.id)
    )
    if existing is not None:
        session.delete(existing)
        voted = False
    else:
        try:
            with session.begin_nested():
                session.add(Vote(annotation_id=annotation.id, user_id=user.id))
        except IntegrityError:
            pass  # another request of the same person voted first: one vote still
        voted = True
    record_change(session, annotation, user, "voted")
    return voted


def vote_counts(session: Session, annotation_ids: list[int]) -> dict[int, int]:
    """Upvotes per annotation. A vote of the author for their own note (possible before
    self-votes were refused) is not counted, here as in participation."""
    if not annotation_ids:
        return {}
    rows = session.execute(
        sa.select(Vote.annotation_id, sa.func.count())
        .join(Annotation, Annotation.id == Vote.annotation_id)
        .where(Vote.annotation_id.in_(annotation_ids), Vote.user_id != Annotation.author_id)
        .group_by(Vote.annotation_id)
    )
    return dict(rows.all())


def voted_by(session: Session, user: User | None, annotation_ids: list[int]) -> set[int]:
    if user is None or not user.is_authenticated or not annotation_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Vote.annotation_id).where(
                Vote.user_id == user.id, Vote.annotation_id.in_(annotation_ids)
            )
        )
    )


def set_answered(session: Session, annotation: Annotation, actor: User, answered: bool) -> None:
    if not annotation.is_question:
        raise AnnotationInputError("Only a question can be marked answered.")
    annotation.answered_at = utcnow() if answered else None
    annotation.answered_by_id = actor.id if answered else None
    record_change(session, annotation, actor, "answered")
    if answered:
        notifications.question_answered(session, annotation, actor)


def set_pinned(session: Session, annotation: Annotation, actor: User, pinned: bool) -> None:
    annotation.pinned = pinned
    record_change(session, annotation, actor, "pinned")
    if pinned:
        notifications.note_pinned(session, annotation, actor)


def check_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise AnnotationInputError(f"A reason has at most {MAX_REASON} characters.")
    return reason


def set_hidden(
    session: Session,
    item: Annotation | Reply,
    annotation: Annotation,
    actor: User,
    hidden: bool,
    reason: str | None,
) -> None:
    item.hidden = hidden
    item.hidden_reason = (check_reason(reason) or None) if hidden else None
    record_change(session, annotation, actor, "hidden")


def flag(
    session: Session, user: User, annotation: Annotation, reply: Reply | None, reason: str | None
) -> bool:
    """Flag for the instructors; returns False when this person had flagged it already."""
    reply_id = reply.id if reply else None
    existing = session.scalar(
        sa.select(Flag.id).where(
            Flag.annotation_id == annotation.id,
            Flag.reply_id.is_(None) if reply_id is None else Flag.reply_id == reply_id,
            Flag.user_id == user.id,
        )
    )
    if existing is not None:
        return False
    session.add(
        Flag(
            annotation_id=annotation.id,
            reply_id=reply_id,
            user_id=user.id,
            reason=check_reason(reason),
        )
    )
    record_change(session, annotation, user, "flagged")
    return True


def open_flags(session: Session, annotation_ids: list[int]) -> dict[int, list[Flag]]:
    if not annotation_ids:
        return {}
    flags = session.scalars(
        sa.select(Flag)
        .options(selectinload(Flag.user))
        .where(Flag.annotation_id.in_(annotation_ids), Flag.resolved_at.is_(None))
        .order_by(Flag.created_at)
    ).all()
    grouped: dict[int, list[Flag]] = {}
    for item in flags:
        grouped.setdefault(item.annotation_id, []).append(item)
    return grouped
