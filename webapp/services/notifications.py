"""Notifications: who is told what, their settings, and the list each person reads.

Events (what happened) fall into kinds (what a person switches on or off, in the app and
by e-mail separately). The rules, in one place:

- Nobody is told about their own action.
- Nobody is told about something they cannot see: the visibility rule is asked for the
  recipient when the notification is made, and again whenever it is shown or e-mailed
  (webapp.visibility.visible_notifications), so a note hidden or deleted since, or a class
  left since, takes its notifications out of sight.
- A reply tells the note's author (as an instructor's comment when an instructor of the
  note's class wrote it) and the author of the reply it answers.
- "Answered" and "pinned" tell the note's author once per note; a new assignment tells the
  class's members once; a deadline within 24 hours reminds each student once per
  assignment (`dedupe_key`, unique per person).

The e-mails are sent outside the request from these rows (webapp/services/outbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, selectinload

from webapp.models import (
    Annotation,
    Assignment,
    Document,
    Extension,
    Membership,
    Notification,
    NotificationSetting,
    Reply,
    Role,
    User,
    utcnow,
)
from webapp.visibility import (
    SignedIn,
    can_see,
    can_see_reply,
    viewer_of,
    visible_notifications,
)

# Kinds, in the order the settings page lists them.
KINDS = {
    "reply": "Replies to my notes and to my replies",
    "answered": "My questions marked answered",
    "instructor": "An instructor comments on or pins my note",
    "assignment": "New assignments in my classes",
    "deadline": "A deadline in the next 24 hours",
}
# Event -> kind.
EVENTS = {
    "reply": "reply",
    "reply_to_reply": "reply",
    "answered": "answered",
    "instructor_reply": "instructor",
    "pinned": "instructor",
    "assigned": "assignment",
    "due_soon": "deadline",
}
DEADLINE_WINDOW = timedelta(hours=24)
PAGE_SIZE = 50


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    in_app: bool = True
    email: bool = True


def settings_of(session: Session, user_id: int) -> dict[str, Choice]:
    """Every kind's choice for this person (both on where they chose nothing)."""
    chosen = {kind: Choice() for kind in KINDS}
    for row in session.scalars(
        sa.select(NotificationSetting).where(NotificationSetting.user_id == user_id)
    ):
        if row.kind in chosen:
            chosen[row.kind] = Choice(row.in_app, row.email)
    return chosen


def _settings_of_many(session: Session, user_ids: set[int]) -> dict[int, dict[str, Choice]]:
    found: dict[int, dict[str, Choice]] = {uid: {k: Choice() for k in KINDS} for uid in user_ids}
    if user_ids:
        for row in session.scalars(
            sa.select(NotificationSetting).where(NotificationSetting.user_id.in_(user_ids))
        ):
            if row.kind in KINDS:
                found[row.user_id][row.kind] = Choice(row.in_app, row.email)
    return found


def save_setting(session: Session, user_id: int, kind: str, choice: Choice) -> None:
    row = session.get(NotificationSetting, (user_id, kind))
    if row is None:
        session.add(
            NotificationSetting(
                user_id=user_id, kind=kind, in_app=choice.in_app, email=choice.email
            )
        )
    else:
        row.in_app, row.email = choice.in_app, choice.email


def save_settings(session: Session, user_id: int, chosen: dict[str, Choice]) -> None:
    for kind in KINDS:
        save_setting(session, user_id, kind, chosen.get(kind, Choice(False, False)))


def stop_email(session: Session, user_id: int, kind: str) -> None:
    """Turn off e-mail for one kind (the unsubscribe link), keeping the in-app choice."""
    current = settings_of(session, user_id)[kind]
    save_setting(session, user_id, kind, Choice(current.in_app, False))


# --- making notifications ----------------------------------------------------------------------


def _insert(session: Session, rows: list[dict]) -> None:
    """Insert notifications; one whose (person, dedupe_key) exists already is skipped, also
    when another request inserts it at the same moment."""
    if not rows:
        return
    session.flush()  # the rows they point at first
    postgres = session.connection().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    session.execute(insert(Notification.__table__).values(rows).on_conflict_do_nothing())


def _row(event: str, user_id: int, choice: Choice, now: datetime, **fields) -> dict:
    return {
        "user_id": user_id,
        "event": event,
        "actor_id": fields.get("actor_id"),
        "annotation_id": fields.get("annotation_id"),
        "reply_id": fields.get("reply_id"),
        "assignment_id": fields.get("assignment_id"),
        "dedupe_key": fields.get("dedupe_key"),
        "in_app": choice.in_app,
        "created_at": now,
        "read_at": None,
    }


def _notify(session: Session, recipients: dict[int, str], **fields) -> None:
    """One notification per recipient (user id -> event), as their settings want it."""
    settings = _settings_of_many(session, set(recipients))
    now = utcnow()
    rows = []
    for user_id, event in recipients.items():
        choice = settings[user_id][EVENTS[event]]
        if choice.in_app or choice.email:
            rows.append(_row(event, user_id, choice, now, **fields))
    _insert(session, rows)


def reply_added(session: Session, reply: Reply, annotation: Annotation, actor: User) -> None:
    """Tell the note's author and the author of the answered reply (not the replier)."""
    recipients: dict[int, str] = {}
    if annotation.author_id != actor.id:
        by_instructor = viewer_of(actor).can_moderate(annotation)
        recipients[annotation.author_id] = "instructor_reply" if by_instructor else "reply"
    if reply.parent_id is not None:
        parent = session.get(Reply, reply.parent_id)
        if parent is not None and parent.author_id not in (actor.id, *recipients):
            recipients[parent.author_id] = "reply_to_reply"
    for user_id in list(recipients):
        if not can_see_reply(session.get(User, user_id), reply):
            del recipients[user_id]
    _notify(
        session,
        recipients,
        actor_id=actor.id,
        annotation_id=annotation.id,
        reply_id=reply.id,
    )


def _tell_author(session: Session, annotation: Annotation, actor: User, event: str) -> None:
    if annotation.author_id == actor.id:
        return
    if not can_see(session.get(User, annotation.author_id), annotation):
        return
    _notify(
        session,
        {annotation.author_id: event},
        actor_id=actor.id,
        annotation_id=annotation.id,
        dedupe_key=f"{event}:{annotation.id}",
    )


def question_answered(session: Session, annotation: Annotation, actor: User) -> None:
    _tell_author(session, annotation, actor, "answered")


def note_pinned(session: Session, annotation: Annotation, actor: User) -> None:
    _tell_author(session, annotation, actor, "pinned")


def article_assigned(session: Session, assignment: Assignment, actor: User | None) -> None:
    """Tell the class's members (not the instructor who assigned it)."""
    members = session.scalars(
        sa.select(Membership.user_id).where(Membership.classroom_id == assignment.classroom_id)
    )
    recipients = {uid: "assigned" for uid in members if actor is None or uid != actor.id}
    _notify(
        session,
        recipients,
        actor_id=actor.id if actor else None,
        assignment_id=assignment.id,
        dedupe_key=f"assigned:{assignment.id}",
    )


def _deadline_key(assignment_id):
    return sa.literal("due_soon:") + sa.cast(assignment_id, sa.String)


def due_soon_missing(session: Session, now: datetime, user_id: int | None = None):
    """(student id, assignment id) pairs whose deadline is within 24 hours and who have no
    reminder for it yet (for one person, or for everyone). A student's extension is their
    deadline."""
    query = _due_soon_missing(user_id is not None)
    window = {"now": now, "until": now + DEADLINE_WINDOW, "user_id": user_id}
    return session.execute(query, window).all()


@lru_cache(maxsize=2)
def _due_soon_missing(for_one: bool):
    """due_soon_missing's statement, built once (each signed-in page asks it)."""
    reminded = aliased(Notification)
    deadline = sa.func.coalesce(Extension.due_at, Assignment.due_at)
    now = sa.bindparam("now", type_=sa.DateTime())
    query = (
        sa.select(Membership.user_id, Assignment.id)
        .join(Assignment, Assignment.classroom_id == Membership.classroom_id)
        .outerjoin(
            Extension,
            sa.and_(
                Extension.assignment_id == Assignment.id,
                Extension.user_id == Membership.user_id,
            ),
        )
        .where(
            Membership.role == Role.STUDENT.value,
            deadline > now,
            deadline <= sa.bindparam("until", type_=sa.DateTime()),
            ~sa.exists().where(
                reminded.user_id == Membership.user_id,
                reminded.dedupe_key == _deadline_key(Assignment.id),
            ),
        )
    )
    if for_one:
        query = query.where(Membership.user_id == sa.bindparam("user_id"))
    return query


def due_and_unread(session: Session, now: datetime, user_id: int) -> tuple[bool, int]:
    """What every signed-in page asks of the person's notifications, in one statement:
    whether a deadline reminder is missing (due_soon_missing) and the unread count."""
    window = due_and_unread_values(now, user_id)
    missing, unread = session.execute(_due_and_unread(user_id), window).one()
    return bool(missing), unread


@lru_cache(maxsize=512)
def _due_and_unread(user_id: int):
    return sa.select(*due_and_unread_columns(user_id))


@lru_cache(maxsize=512)
def due_and_unread_columns(user_id: int) -> tuple:
    """due_and_unread's two values as columns, for a statement that reads the person's row
    anyway (services/accounts.load_session); their parameters: due_and_unread_values."""
    return (_due_soon_missing(True).exists(), _unread_count(user_id).scalar_subquery())


def due_and_unread_values(now: datetime, user_id: int) -> dict:
    return {"now": now, "until": now + DEADLINE_WINDOW, "user_id": user_id}


def remind_deadlines(session: Session, now: datetime | None = None, user_id=None) -> int:
    """Make the missing deadline reminders (idempotent: one per student and assignment);
    how many were missing."""
    now = now or utcnow()
    missing = due_soon_missing(session, now, user_id)
    settings = _settings_of_many(session, {uid for uid, _ in missing})
    rows = []
    for uid, assignment_id in missing:
        choice = settings[uid]["deadline"]
        if choice.in_app or choice.email:
            key = f"due_soon:{assignment_id}"
            fields = {"assignment_id": assignment_id, "dedupe_key": key}
            rows.append(_row("due_soon", uid, choice, now, **fields))
    _insert(session, rows)
    return len(missing)


# --- reading them ------------------------------------------------------------------------------


def _visible_query(user: User, in_app: bool = True):
    query = (
        sa.select(Notification)
        .outerjoin(Annotation, Annotation.id == Notification.annotation_id)
        .outerjoin(Reply, Reply.id == Notification.reply_id)
        .outerjoin(Assignment, Assignment.id == Notification.assignment_id)
        .where(visible_notifications(user))
    )
    return query.where(Notification.in_app.is_(True)) if in_app else query


def listed(
    session: Session, user: User, before: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Notification], int | None]:
    """A page of the person's notifications, newest first, and the id to continue before."""
    query = _visible_query(user).options(
        selectinload(Notification.actor),
        selectinload(Notification.annotation)
        .selectinload(Annotation.document)
        .selectinload(Document.current_version),
        selectinload(Notification.annotation).selectinload(Annotation.classroom),
        selectinload(Notification.reply),
        selectinload(Notification.assignment).selectinload(Assignment.classroom),
        selectinload(Notification.assignment)
        .selectinload(Assignment.document)
        .selectinload(Document.current_version),
    )
    if before is not None:
        query = query.where(Notification.id < before)
    found = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = found[limit - 1].id if len(found) > limit else None
    return found[:limit], more


def unread_count(session: Session, user: User) -> int:
    return session.scalar(_unread_count(user.id))


# Asked on every signed-in page (the header's badge): the statement depends on the user's
# id alone, so it is built once per user (as visibility's clauses are), not per request.
@lru_cache(maxsize=512)
def _unread_count(user_id: int):
    return (
        _visible_query(SignedIn(user_id))
        .where(Notification.read_at.is_(None))
        .with_only_columns(sa.func.count(Notification.id))
    )


def is_visible(session: Session, user: User, notification_id: int, in_app: bool = True) -> bool:
    """Whether the person may see this notification now (in the app; or at all, for its
    e-mail, with in_app=False)."""
    return (
        session.scalar(
            _visible_query(user, in_app)
            .where(Notification.id == notification_id)
            .with_only_columns(Notification.id)
        )
        is not None
    )


def mark_read(session: Session, user: User, notification_id: int) -> bool:
    """Mark one of the person's notifications read; False when they have no such one."""
    if not is_visible(session, user, notification_id):
        return False
    session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return True


def mark_all_read(session: Session, user: User) -> None:
    session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


# --- what one says -----------------------------------------------------------------------------


def kind_of(notification: Notification) -> str:
    return EVENTS.get(notification.event, "reply")


def document_of(notification: Notification) -> Document | None:
    if notification.annotation is not None:
        return notification.annotation.document
    if notification.assignment is not None:
        return notification.assignment.document
    return None


def title_of(notification: Notification) -> str:
    document = document_of(notification)
    if document is None:
        return ""
    version = document.current_version
    return version.title if version is not None else document.slug


def context_of(notification: Notification) -> str:
    """The reading context its link opens: the note's class, or one's private notes."""
    if notification.annotation is not None:
        classroom_id = notification.annotation.classroom_id
    elif notification.assignment is not None:
        classroom_id = notification.assignment.classroom_id
    else:
        classroom_id = None
    return f"class-{classroom_id}" if classroom_id else "private"


def summary(notification: Notification) -> str:
    """One sentence saying what happened, for the list and the e-mail's subject."""
    actor = notification.actor.username if notification.actor else "Someone"
    title = title_of(notification)
    assignment = notification.assignment
    classroom = assignment.classroom.name if assignment is not None else ""
    return {
        "reply": f"{actor} replied to your note on “{title}”",
        "reply_to_reply": f"{actor} replied to your reply on “{title}”",
        "instructor_reply": f"{actor}, an instructor, commented on your note on “{title}”",
        "pinned": f"{actor}, an instructor, pinned your note on “{title}”",
        "answered": f"{actor} marked your question on “{title}” answered",
        "assigned": f"New in {classroom}: “{title}”",
        "due_soon": f"“{title}” is due within 24 hours ({classroom})",
    }.get(notification.event, f"Something happened on “{title}”")


def excerpt(notification: Notification, limit: int = 300) -> str:
    """The words it is about: the reply, else the note's comment, else its quote."""
    if notification.reply is not None:
        text = notification.reply.body_markdown
    elif notification.annotation is not None:
        text = notification.annotation.body_markdown or notification.annotation.exact
    else:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
