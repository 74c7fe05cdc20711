"""Objects made from Core rows (webapp/row_objects.py) behave as the ORM's own: one per
row in the session, changes flushed, relationships loaded on use, expired ones refilled."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import Document, DocumentVersion, User
from webapp.row_objects import columns_of, object_of


def make_engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    db.metadata.create_all(engine)
    with Session(engine) as session:
        user = User(username="reader", password_hash="x")
        session.add(user)
        session.flush()
        document = Document(slug="a", source_name="a.md", owner_id=user.id)
        session.add(document)
        session.flush()
        version = DocumentVersion(
            document_id=document.id,
            number=1,
            title="A",
            body_markdown="a",
            body_html="<p>a</p>",
            text="a",
            content_hash="h",
        )
        session.add(version)
        session.flush()
        document.current_version_id = version.id
        session.commit()
    return engine


def count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_an_object_of_a_row_is_the_sessions_own(tmp_path):
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        row = session.execute(sa.select(*columns_of(User))).one()
        statements = count_statements(engine)
        user = object_of(session, User, row)
        assert sa.inspect(user).persistent
        assert object_of(session, User, row) is user
        assert session.get(User, user.id) is user
        assert user.username == "reader" and user.username_key == "reader"
        assert statements == []  # nothing read again
        user.email = "reader@example.org"
        user_id = user.id
        session.commit()
    with Session(engine) as session:
        assert session.get(User, user_id).email == "reader@example.org"


def test_relationships_given_are_loaded_and_others_load_on_use(tmp_path):
    engine = make_engine(tmp_path)
    width = len(columns_of(Document))
    with Session(engine) as session:
        row = session.execute(
            sa.select(*columns_of(Document), *columns_of(DocumentVersion)).join(
                DocumentVersion, DocumentVersion.id == Document.current_version_id
            )
        ).one()
        statements = count_statements(engine)
        version = object_of(session, DocumentVersion, row[width:])
        document = object_of(session, Document, row[:width], current_version=version)
        assert document.current_version is version
        assert version.document is document  # from the identity map
        assert statements == []
        assert document.owner.username == "reader"  # read when asked for
        assert len(statements) == 1


def test_an_expired_object_is_filled_from_the_row(tmp_path):
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        row = session.execute(sa.select(*columns_of(User))).one()
        user = object_of(session, User, row)
        session.commit()  # expires it
        statements = count_statements(engine)
        assert object_of(session, User, row) is user
        assert user.username == "reader"
        assert statements == []


def test_a_held_object_gets_the_relationships_given_when_not_loaded(tmp_path):
    """As a query's eager load: an object read before without the relationship has it
    filled from the row; one that has it keeps its own."""
    engine = make_engine(tmp_path)
    width = len(columns_of(Document))
    with Session(engine) as session:
        document = session.scalar(sa.select(Document))
        assert "current_version" not in document.__dict__
        row = session.execute(
            sa.select(*columns_of(Document), *columns_of(DocumentVersion)).join(
                DocumentVersion, DocumentVersion.id == Document.current_version_id
            )
        ).one()
        statements = count_statements(engine)
        version = object_of(session, DocumentVersion, row[width:])
        assert object_of(session, Document, row[:width], current_version=version) is document
        assert document.current_version is version
        assert statements == []
        assert object_of(session, Document, row[:width], current_version=None) is document
        assert document.current_version is version  # loaded already: kept
