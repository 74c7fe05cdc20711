"""The idle live poll: answered from one indexed statement, before anything is loaded.

A sidebar asks every two seconds whether its view changed; nearly always nothing did. The
answer "nothing" needs neither the user, nor the class, nor the article as objects: one
statement checks the login session from the cookie (exactly as every request's login is,
accounts.live_session), that the article is readable (visibility.visible_documents) and
the class the reader's, and looks at the change log's (document_id, seq) index. Anything
else, including a failed check, takes the full path through the visibility rule.

That statement is built and compiled once per process (and shape: with or without a
class) and run as its SQL on a DBAPI connection (database.fetch_one; on SQLite one the
thread keeps, out of the pool): building the clause, SQLAlchemy's cache key, an ORM
session, even a Core connection and its result, or the pool's checkout and return, cost
several times what the query does. On SQLite it runs without a BEGIN: one SELECT reads
one consistent snapshot by itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.database import fetch_one
from webapp.models import Change, Document, LoginSession, Membership, utcnow
from webapp.services.accounts import live_session_where, token_hash
from webapp.visibility import SignedIn, member_of, visible_documents


def _statement(with_class: bool) -> sa.Select:
    """The poll's statement with bind parameters: viewer_id, token_hash, now, slug,
    cursor and (with a class) classroom_id."""
    viewer_id = sa.bindparam("viewer_id", type_=sa.Integer)
    user = SignedIn(viewer_id)
    audience = sa.and_(Change.classroom_id.is_(None), Change.actor_id == viewer_id)
    if with_class:
        audience = sa.or_(Change.classroom_id == sa.bindparam("classroom_id"), audience)
    newer = (
        sa.select(Change.seq)
        .where(Change.document_id == Document.id, Change.seq > sa.bindparam("cursor"), audience)
        .limit(1)
        .scalar_subquery()
    )
    now = sa.bindparam("now", type_=LoginSession.__table__.c.expires_at.type)
    checks = [
        Document.slug == sa.bindparam("slug", type_=sa.String),
        Document.current_version_id.is_not(None),
        visible_documents(user, ()),
        sa.exists().where(live_session_where(viewer_id, sa.bindparam("token_hash"), now)),
    ]
    if with_class:
        # As EXISTS on (classroom_id, user_id), not `? IN (member_of)`: SQLite would build
        # the user's classes into a temporary index on every poll (a third of the statement).
        member = member_of(user).where(Membership.classroom_id == sa.bindparam("classroom_id"))
        checks.append(member.exists())
    return sa.select(Document.id, newer).where(*checks)


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect: its SQL, the order of its parameters (for
    positional driver styles), and how the expiry time is handed to the driver."""

    sql: str
    defaults: dict
    order: tuple[str, ...] | None
    time_to_driver: object

    @classmethod
    def compile(cls, statement: sa.Select, dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        now_type = LoginSession.__table__.c.expires_at.type.dialect_impl(dialect)
        return cls(
            sql=compiled.string,
            # Values the compiler itself bound (LIMIT 1); ours are given per request.
            defaults={
                name: bind.value for bind, name in compiled.bind_names.items() if not bind.required
            },
            order=tuple(compiled.positiontup) if compiled.positional else None,
            time_to_driver=now_type.bind_processor(dialect),
        )

    def parameters(self, values: dict):
        values = {**self.defaults, **values}
        if self.time_to_driver is not None:
            values["now"] = self.time_to_driver(values["now"])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)


_prepared: dict[tuple, Prepared] = {}
_lock = threading.Lock()


def prepared(dialect, with_class: bool) -> Prepared:
    key = (dialect.name, dialect.driver, dialect.paramstyle, with_class)
    if (found := _prepared.get(key)) is None:
        with _lock:
            found = _prepared.setdefault(key, Prepared.compile(_statement(with_class), dialect))
    return found


def anything_since(
    engine: Engine,
    slug: str,
    classroom_id: int | None,
    viewer: tuple[int, str],
    shares: list[str],
    cursor: int,
) -> bool | None:
    """Whether the audience of `live.changed_since` has anything after `cursor` on the
    article at `slug`, in one statement: the login session `viewer` (user id, token) is
    live, the article is one that user may read (visible_documents), the class is theirs,
    and then the change log's (document_id, seq) index.

    None when any check fails or it cannot tell (the full path then answers: 404, or 204
    for a session that is not live, or the database's fault as a 503); otherwise True or
    False. Share tokens held by the browser take the full path too (rare: a link opened)."""
    if shares:
        return None
    user_id, token = viewer
    statement = prepared(engine.dialect, classroom_id is not None)
    values = {
        "viewer_id": user_id,
        "token_hash": token_hash(token),
        "now": utcnow(),
        "slug": slug,
        "cursor": cursor,
    }
    if classroom_id is not None:
        values["classroom_id"] = classroom_id
    try:
        row = fetch_one(engine, statement.sql, statement.parameters(values))
    except Exception:  # noqa: BLE001 - the full path meets the same fault and answers it
        return None
    if row is None:
        return None
    return row[1] is not None
