"""A class to test roles, archiving, moderation and groups with: built through the
services, with a client signed in as any of its people (no password forms)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from tests.conftest import SEED_SLUG, session_id_for
from tests.functional.helpers import select
from webapp.models import Annotation, Classroom, Document, Membership, Reply, User
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, create_class, join_class
from webapp.services.discussion import add_reply

PEOPLE = ("teacher", "ann", "ben", "cal", "dee", "outsider")


@dataclass
class ClassWorld:
    db: object
    client: object
    users: dict[str, User]
    classroom_id: int
    assignment_id: int
    notes: dict[str, int] = field(default_factory=dict)  # author name -> their class note
    replies: dict[str, int] = field(default_factory=dict)  # author name -> reply on ann's note

    def sign_in(self, name: str | None):
        """The client, signed in as `name` (None: signed out)."""
        with self.client.session_transaction() as session:
            session.clear()
            if name is not None:
                session["_user_id"] = session_id_for(self.db, self.users[name])
                session["_fresh"] = True
        return self.client

    @property
    def classroom(self) -> Classroom:
        self.db.session.expire_all()
        return self.db.session.get(Classroom, self.classroom_id)

    @property
    def url(self) -> str:
        return f"/classes/{self.classroom_id}"

    def role(self, name: str) -> str | None:
        self.db.session.expire_all()
        return self.db.session.scalar(
            sa.select(Membership.role).where(
                Membership.classroom_id == self.classroom_id,
                Membership.user_id == self.users[name].id,
            )
        )

    def note(self, name: str) -> Annotation:
        self.db.session.expire_all()
        return self.db.session.get(Annotation, self.notes[name])

    def reply(self, name: str) -> Reply:
        self.db.session.expire_all()
        return self.db.session.get(Reply, self.replies[name])

    def add_note(self, name: str, phrase: str, body: str) -> int:
        session = self.db.session
        document = session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
        version = document.current_version
        form = {
            **select(version.text, phrase),
            "body": body,
            "audience": f"class-{self.classroom_id}",
        }
        note = create_annotation(session, self.users[name], version, form)
        session.commit()
        self.notes[name] = note.id
        return note.id


PHRASES = {
    "teacher": "Hmeimim military base",
    "ann": "White Helmets volunteers",
    "ben": "main issue being discussed",
    "cal": "needed for balance in our region",
}


def build_class_world(db, client) -> ClassWorld:
    """teacher teaches "History 10" (the seed article assigned); ann, ben, cal and dee are
    students; outsider is in no class. teacher, ann, ben and cal each wrote a class note
    (their names in capitals in it); ben and teacher replied to ann's note."""
    session = db.session
    users = {}
    for name in PEOPLE:
        users[name] = User(username=name, password_hash="!not-a-password")
        session.add(users[name])
    session.flush()
    classroom = create_class(session, users["teacher"], "History 10")
    for name in ("ann", "ben", "cal", "dee"):
        join_class(session, users[name], classroom.join_code)
    document = session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))
    assignment = assign(session, classroom, document, None)
    session.commit()
    world = ClassWorld(db, client, users, classroom.id, assignment.id)
    for name, phrase in PHRASES.items():
        world.add_note(name, phrase, f"Note by {name.upper()}")
    for name in ("ben", "teacher"):
        reply = add_reply(session, users[name], world.note("ann"), f"Reply by {name.upper()}", None)
        session.commit()
        world.replies[name] = reply.id
    return world
