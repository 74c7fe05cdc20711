"""The idle live poll: answered from one indexed statement, before anything is loaded.

A sidebar asks every two seconds whether its view changed; nearly always nothing did. The
answer "nothing" needs neither the user, nor the class, nor the article as objects: one
statement checks the login session from the cookie (exactly as every request's login is,
accounts.live_session), that the article is readable (visibility.visible_documents) and
the class the reader's, and looks at the change log's (document_id, seq) index. Anything
else, including a failed check, takes the full path through the visibility rule.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Change, Document
from webapp.services.accounts import live_session
from webapp.visibility import SignedIn, member_of, visible_documents


def anything_since(
    session: Session,
    slug: str,
    classroom_id: int | None,
    viewer: tuple[int, str],
    shares: list[str],
    cursor: int,
) -> bool | None:
    """Whether the audience of `live.changed_since` has anything after `cursor` on the
    article at `slug`, in one statement: the login session `viewer` (user id, token) is
    live, the article is one that user may read (visible_documents, with the share tokens
    held), the class is theirs, and then the change log's (document_id, seq) index.

    None when any check fails (the full path then answers: 404, or 204 for a session
    that is not live); otherwise True or False."""
    user_id, token = viewer
    user = SignedIn(user_id)
    audience = sa.and_(Change.classroom_id.is_(None), Change.actor_id == user_id)
    if classroom_id is not None:
        audience = sa.or_(Change.classroom_id == classroom_id, audience)
    newer = (
        sa.select(Change.seq)
        .where(Change.document_id == Document.id, Change.seq > cursor, audience)
        .limit(1)
        .scalar_subquery()
    )
    checks = [
        Document.slug == slug,
        Document.current_version_id.is_not(None),
        visible_documents(user, shares),
        sa.exists().where(live_session(user_id, token)),
    ]
    if classroom_id is not None:
        checks.append(sa.literal(classroom_id).in_(member_of(user)))
    row = session.execute(sa.select(Document.id, newer).where(*checks)).first()
    if row is None:
        return None
    return row[1] is not None
