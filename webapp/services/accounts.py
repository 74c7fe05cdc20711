"""Accounts: usernames and their comparison key, credentials, login sessions, e-mail
addresses, password changes and one-time reset links, and deleting an account."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import statements
from webapp.models import (
    Annotation,
    Classroom,
    LoginSession,
    Membership,
    PasswordReset,
    Reply,
    Role,
    User,
    Vote,
    username_key,
    utcnow,
)
from webapp.row_objects import columns_of, object_of
from webapp.services.live import record_change

# ASCII only, on purpose: letters of other scripts that look alike ("а" and "a") stay
# different after any normalisation, so they would let one person pass for another.
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200

# Checked when the username matches no account, so that a login costs one password hash
# whether or not the account exists (the time a login takes tells nothing).
DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A reason a sign-up or login cannot go ahead, in words for the person."""


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(User.username_key == username_key(username)))


def create_user(session: Session, username: str, password: str) -> User:
    username = (username or "").strip()
    taken = AccountError(f"The username {username!r} is taken; choose another.")
    # First, so that another's name in disguise (a Kelvin sign for the K) says so.
    if username and find_user(session, username) is not None:
        raise taken
    if not USERNAME.match(username):
        raise AccountError(
            "A username has 3 to 40 characters: letters a-z or A-Z, digits, '.', '_' or '-'."
        )
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise AccountError(
            f"A password has at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})."
        )
    user = User(username=username)
    user.set_password(password)
    try:
        # A savepoint: two sign-ups racing for one name meet the unique index, not a 500.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise taken from None
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = find_user(session, username)
    stored = user.password_hash if user is not None else DUMMY_HASH
    if not check_password_hash(stored, password or "") or user is None:
        raise AccountError("That username and password do not match an account.")
    return user


# --- login sessions --------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """What is stored of a login session's token (LoginSession.token_hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, lifetime: timedelta) -> str:
    """Open a login session for `user`; returns its token (also set on `user`)."""
    now = utcnow()
    session.execute(sa.delete(LoginSession).where(LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    user.session_token = token
    return token


def parse_session_id(session_id: str | None) -> tuple[int, str] | None:
    """(user id, token) from "<user id>:<login session token>" (User.get_id), or None."""
    user_id, _, token = (session_id or "").partition(":")
    if not token or not user_id.isascii() or not user_id.isdigit() or len(user_id) > 18:
        return None  # also the id of sessions from before login sessions were recorded
    return int(user_id), token


def live_session(user_id: int, token: str):
    """A WHERE clause on LoginSession: this user's login session with this token, not
    expired. What every request's login is checked against."""
    return live_session_where(user_id, token_hash(token), utcnow())


def live_session_where(user_id, hashed_token, now):
    """live_session with each value given (or a bind parameter, for a prepared statement)."""
    return sa.and_(
        LoginSession.token_hash == hashed_token,
        LoginSession.user_id == user_id,
        LoginSession.expires_at > now,
    )


# Every signed-in request's first statement: built once, with bind parameters. The user's
# columns, made into the User by row_objects (cheaper than an ORM query of User).
_LOAD_SESSION = (
    sa.select(*columns_of(User))
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        live_session_where(
            sa.bindparam("user_id", type_=sa.Integer),
            sa.bindparam("token_hash", type_=sa.String),
            sa.bindparam("now", type_=LoginSession.__table__.c.expires_at.type),
        )
    )
)


def load_session(
    session: Session, session_id: str, also: Callable[[int], tuple] | None = None
) -> User | None:
    """The user of a live session, from the id in the session or remember cookie.

    `also(user_id)`: more columns to read in the same statement (each built once per
    user) and a function of the time of the read giving their parameters; their values
    are then the user's `loaded_with`."""
    parsed = parse_session_id(session_id)
    if parsed is None:
        return None
    user_id, token = parsed
    now = utcnow()
    values = {"user_id": user_id, "token_hash": token_hash(token), "now": now}
    if also is None:
        row = statements.first(session.connection(), _LOAD_SESSION, values)
    else:
        columns, parameters = also(user_id)
        statement = _load_session_with(columns)
        row = statements.first(session.connection(), statement, {**parameters(now), **values})
    if row is None:
        return None
    width = len(columns_of(User))
    user = object_of(session, User, row[:width])
    extra = tuple(row[width:])
    user.session_token = token
    user.loaded_with = extra
    return user


@lru_cache(maxsize=512)
def _load_session_with(columns: tuple):
    return _LOAD_SESSION.add_columns(*columns)


def end_session(session: Session, token: str | None) -> None:
    """Close one login session: its session and remember cookies stop working."""
    if token:
        session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def end_other_sessions(session: Session, user: User, keep_token: str | None) -> None:
    """Close every login session of `user` but the one with `keep_token` (None: all)."""
    query = sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_token:
        query = query.where(LoginSession.token_hash != token_hash(keep_token))
    session.execute(query)


# --- e-mail address and password ---------------------------------------------------------------

MAX_EMAIL = 254
# One address, nothing that a mail header would read as a list, a name or a comment.
_ADDRESS_CHARACTER = r"[^@\s,;:<>\"()\[\]\\]"
EMAIL = re.compile(rf"^{_ADDRESS_CHARACTER}+@{_ADDRESS_CHARACTER}+\.{_ADDRESS_CHARACTER}+$")


def check_password(user: User, password: str) -> None:
    if not user.check_password(password or ""):
        raise AccountError("That is not your current password.")


def check_new_password(password: str, confirm: str) -> str:
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise AccountError(
            f"A password has at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})."
        )
    if password != confirm:
        raise AccountError("The two new passwords differ: type the same one twice.")
    return password


def normalize_email(value: str | None) -> str | None:
    """An e-mail address in lower case, or None for none; AccountError when it is not one."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_EMAIL or not EMAIL.match(value):
        raise AccountError("That is not an e-mail address (it looks like name@example.org).")
    return value.lower()


def set_email(session: Session, user: User, password: str, email: str | None) -> str | None:
    """Set or clear the address after checking the password (an address opens "forgot
    password", so someone holding only a session cannot point it elsewhere)."""
    check_password(user, password)
    user.email = normalize_email(email)
    return user.email


def change_password(
    session: Session, user: User, current: str, new: str, confirm: str, keep_token: str | None
) -> None:
    """Set a new password; every other login session of the user ends, and unused reset
    links stop working."""
    check_password(user, current)
    user.set_password(check_new_password(new, confirm))
    end_other_sessions(session, user, keep_token)
    _drop_resets(session, user)


# --- one-time reset links ----------------------------------------------------------------------

RESET_BY_INSTRUCTOR = timedelta(hours=24)
RESET_BY_EMAIL = timedelta(hours=2)
BAD_RESET_LINK = (
    "This password reset link does not work: it was used already, it has expired, or it "
    "was replaced by a newer one. Ask for a new link."
)


def _drop_resets(session: Session, user: User) -> None:
    session.execute(
        sa.delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    )


def issue_reset(
    session: Session, user: User, lifetime: timedelta, issued_by: User | None = None
) -> str:
    """A new one-time reset link's token for `user` (only its hash is stored); earlier
    unused links stop working."""
    _drop_resets(session, user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_hash(token),
            issued_by_id=issued_by.id if issued_by else None,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def find_reset(session: Session, token: str) -> PasswordReset | None:
    """The unused, unexpired reset this token opens, if any."""
    return session.scalar(
        sa.select(PasswordReset).where(
            PasswordReset.token_hash == token_hash(token or ""),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )


def use_reset(session: Session, token: str, new: str, confirm: str) -> User:
    """Set a new password through a reset link, once: the link is spent (two requests at
    once: one wins), every login session of the user ends."""
    reset = find_reset(session, token)
    if reset is None:
        raise AccountError(BAD_RESET_LINK)
    password = check_new_password(new, confirm)
    spent = session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise AccountError(BAD_RESET_LINK)
    user = reset.user
    user.set_password(password)
    end_other_sessions(session, user, None)
    return user


def accounts_for_reset(session: Session, identifier: str) -> list[User]:
    """The accounts "forgot password" would write to: by e-mail address or by username,
    those that have an address."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        try:
            email = normalize_email(identifier)
        except AccountError:
            return []
        return list(session.scalars(sa.select(User).where(User.email == email)))
    user = find_user(session, identifier)
    return [user] if user is not None and user.email else []


# --- deleting an account -----------------------------------------------------------------------

FORMER_MEMBER = "a former member"  # has a space: no one can sign up with it
# Foreign keys to users whose rows go with the account although they cascade otherwise:
# the change log keeps its entries (a live page still learns of the deletions).
_KEPT_ON_CASCADE = {("changes", "actor_id")}


def former_member(session: Session) -> User:
    """The one account that anonymised notes are attributed to; it cannot log in."""
    key = username_key(FORMER_MEMBER)
    found = session.scalar(sa.select(User).where(User.username_key == key))
    if found is not None:
        return found
    placeholder = User(username=FORMER_MEMBER, password_hash="!")  # matches no password
    try:
        with session.begin_nested():
            session.add(placeholder)
    except IntegrityError:  # another deletion made it at the same moment
        return session.scalar(sa.select(User).where(User.username_key == key))
    return placeholder


def classes_blocking_deletion(session: Session, user: User) -> list[str]:
    """Names of the classes the user is the only instructor of while others are members."""
    mine = sa.select(Membership.classroom_id).where(
        Membership.user_id == user.id, Membership.role == Role.INSTRUCTOR.value
    )
    other_instructor = sa.exists().where(
        Membership.classroom_id == Classroom.id,
        Membership.role == Role.INSTRUCTOR.value,
        Membership.user_id != user.id,
    )
    other_member = sa.exists().where(
        Membership.classroom_id == Classroom.id, Membership.user_id != user.id
    )
    return list(
        session.scalars(
            sa.select(Classroom.name)
            .where(Classroom.id.in_(mine), ~other_instructor, other_member)
            .order_by(Classroom.name)
        )
    )


def delete_account(session: Session, user: User, password: str, keep_notes: bool) -> None:
    """Delete the account. Class notes and replies stay, attributed to "a former member",
    when `keep_notes`; otherwise they are deleted and their text erased (a thread that has
    others' replies stays, its note marked deleted). Private notes always go, and so do
    classes the user was alone in, votes, flags, settings and login sessions."""
    check_password(user, password)
    blocking = classes_blocking_deletion(session, user)
    if blocking:
        raise AccountError(
            "You are the only instructor of "
            + ", ".join(blocking)
            + ": remove its students or make someone else an instructor first."
        )
    placeholder = former_member(session)
    now = utcnow()
    # Classes with no other member, then private notes: nobody else can see them.
    member_of = sa.select(Membership.classroom_id).where(Membership.user_id == user.id)
    others = sa.exists().where(
        Membership.classroom_id == Classroom.id, Membership.user_id != user.id
    )
    session.execute(
        sa.delete(Classroom)
        .where(Classroom.id.in_(member_of), ~others)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.delete(Annotation)
        .where(Annotation.author_id == user.id, Annotation.classroom_id.is_(None))
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    # Every class note whose card changes (its author's name, a reply's, an upvote gone)
    # goes in the change log, as the live poll and the reader's shared views follow it.
    touched = {
        annotation.id: annotation
        for annotation in session.scalars(
            sa.select(Annotation).where(
                Annotation.classroom_id.is_not(None),
                sa.or_(
                    Annotation.author_id == user.id,
                    Annotation.id.in_(
                        sa.select(Reply.annotation_id).where(Reply.author_id == user.id)
                    ),
                    Annotation.id.in_(sa.select(Vote.annotation_id).where(Vote.user_id == user.id)),
                ),
            )
        )
    }
    if not keep_notes:
        for annotation in session.scalars(
            sa.select(Annotation).where(Annotation.author_id == user.id)
        ):
            annotation.body_markdown = annotation.body_html = ""
            annotation.tags = []
            annotation.hidden_reason = None
            annotation.deleted_at = annotation.deleted_at or now
            record_change(session, annotation, placeholder, "deleted")
        for reply in session.scalars(sa.select(Reply).where(Reply.author_id == user.id)):
            reply.body_markdown = reply.body_html = ""
            reply.hidden_reason = None
            reply.deleted_at = reply.deleted_at or now
            record_change(session, reply.annotation, placeholder, "reply-deleted")
            touched.pop(reply.annotation_id, None)
    for annotation in touched.values():
        if keep_notes or annotation.author_id != user.id:
            record_change(session, annotation, placeholder, "updated")
    session.flush()
    _reassign_references(session, user, placeholder)
    session.execute(sa.delete(User).where(User.id == user.id))
    session.expire_all()


def _reassign_references(session: Session, user: User, placeholder: User) -> None:
    """Point every reference to `user` that is not the user's own (cascading) row at the
    placeholder: authors, who answered, actors. Found from the schema, so a table added
    later that names a user is covered too."""
    for table in User.metadata.sorted_tables:
        if table is User.__table__:
            continue
        for key in table.foreign_keys:
            if key.column.table is not User.__table__:
                continue
            column = key.parent
            if key.ondelete == "CASCADE" and (table.name, column.name) not in _KEPT_ON_CASCADE:
                continue
            session.execute(
                sa.update(table).where(column == user.id).values({column.name: placeholder.id})
            )
