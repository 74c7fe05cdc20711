"""Objects made from Core rows (webapp/row_objects.py) behave as the ORM's own: one per
row in the session, changes flushed, relationships loaded on use, expired ones refilled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import Document, DocumentVersion, User
from webapp.row_objects import attach_as_loaded, columns_of, new_row, object_of


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


def _row_written_by_hand(session) -> tuple[User, tuple]:
    """A user made through its constructor (its attributes' history kept) and inserted by
    a Core statement, as insert_once does: (the object, its identity)."""
    user = User(username="writer", password_hash="y")
    values = {"username": "writer", "username_key": "writer", "password_hash": "y"}
    found = session.execute(sa.insert(User).values(**values).returning(User.id, User.created_at))
    user.id, user.created_at = found.one()
    user.username_key = "writer"
    return user, sa.inspect(User).identity_key_from_primary_key([user.id])


def test_an_attached_row_is_persistent_with_nothing_to_flush(tmp_path):
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        user, identity = _row_written_by_hand(session)
        attach_as_loaded(session, user, identity)
        state = sa.inspect(user)
        assert state.persistent and not state.modified and not state.committed_state
        assert session.get(User, user.id) is user
        assert user not in session.new and user not in session.dirty
        statements = count_statements(engine)
        session.flush()
        assert statements == []  # no second INSERT
        user.email = "writer@example.org"  # a change after it is flushed as an UPDATE
        session.commit()
        assert [s.split()[0] for s in statements] == ["UPDATE"]
        user_id = user.id
    with Session(engine) as session:
        assert session.get(User, user_id).email == "writer@example.org"


def test_an_attachment_listened_for_goes_the_public_way(tmp_path):
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        attached = []
        event.listen(session, "after_attach", lambda _session, instance: attached.append(instance))
        user, identity = _row_written_by_hand(session)
        attach_as_loaded(session, user, identity)
        assert attached == [user]
        assert sa.inspect(user).persistent and session.get(User, user.id) is user


def test_only_a_transient_object_is_attached(tmp_path):
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        user = session.scalars(sa.select(User)).one()
        identity = sa.inspect(user).key
        with pytest.raises(sa.exc.InvalidRequestError):
            attach_as_loaded(session, user, identity)


def test_a_new_row_is_what_its_constructor_makes(tmp_path):
    engine = make_engine(tmp_path)
    values = {"slug": "b", "source_name": "b.md", "owner_id": 1}
    sa.orm.configure_mappers()
    made, built = new_row(Document, **values), Document(**values)
    assert sa.inspect(made).transient
    # Set as loading sets them, not through the attributes (the constructor's history).
    assert not sa.inspect(made).attrs.slug.history.added
    assert sa.inspect(built).attrs.slug.history.added == ["b"]
    assert {k: made.__dict__[k] for k in values} == {k: built.__dict__[k] for k in values}
    with Session(engine) as session:
        session.add(made)
        session.commit()  # the unit of work inserts it whole, as it would the constructor's
        assert session.scalars(sa.select(Document.owner_id).where(Document.slug == "b")).one() == 1
    # A model that validates an attribute is built by its constructor: validators run.
    assert new_row(User, username="Reader", password_hash="x").username_key == "reader"
    # So is anything given but columns: a relationship gets its history, a typo its error.
    version = DocumentVersion(number=1, title="B", body_markdown="b", body_html="", text="b")
    with_version = new_row(Document, slug="c", source_name="c.md", current_version=version)
    assert sa.inspect(with_version).attrs.current_version.history.added == [version]
    with pytest.raises(TypeError):
        new_row(Document, slugg="d")


def test_a_second_object_under_a_held_key_is_refused(tmp_path):
    # As Session.add refuses it: the session's own object of that row stays, untouched.
    engine = make_engine(tmp_path)
    with Session(engine) as session:
        held = session.scalars(sa.select(User)).one()
        other = User(username="reader", password_hash="x")
        other.id = held.id
        with pytest.raises(sa.exc.InvalidRequestError, match="already present"):
            attach_as_loaded(session, other, sa.inspect(held).key)
        assert session.get(User, held.id) is held and sa.inspect(other).transient
