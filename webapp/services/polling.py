"""The idle live poll: answered from one indexed statement, before anything is loaded.

A sidebar asks every two seconds whether its view changed; nearly always nothing did. The
answer "nothing" needs neither the user, nor the class, nor the article as objects: the
login session from the cookie (checked exactly as every request's login is, see
accounts.live_session) and the change log's (document_id, seq) index say it. Anything
else, including a session that is not live, takes the full path through the visibility
rule.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Change, Document
from webapp.services.accounts import live_session


def anything_since(
    session: Session,
    slug: str,
    classroom_id: int | None,
    viewer: tuple[int, str],
    cursor: int,
) -> bool:
    """Whether the audience of `changed_since` has anything after `cursor`, for the login
    session `viewer` (user id, token) if it is live: one statement on the (document_id,
    seq) index, no user, class or article loaded. False also for a session that is not
    live (an anonymous poll gets nothing either); True means: take the full path."""
    user_id, token = viewer
    audience = sa.and_(Change.classroom_id.is_(None), Change.actor_id == user_id)
    if classroom_id is not None:
        audience = sa.or_(Change.classroom_id == classroom_id, audience)
    found = session.scalar(
        sa.select(Change.seq)
        .join(Document, Document.id == Change.document_id)
        .where(
            Document.slug == slug,
            Change.seq > cursor,
            audience,
            sa.exists().where(live_session(user_id, token)),
        )
        .limit(1)
    )
    return found is not None
