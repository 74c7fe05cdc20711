"""Mapped objects made from the row of a Core statement, for the hottest reads.

Loading an object through an ORM query (`select(User)`) costs two to three times the
indexed lookup itself: the ORM's execution context, its loading machinery and the result's
objects, per statement. The rows of the requests every page makes (the signed-in user, the
article and its version, the reader's classes) are read as plain columns instead and made
into objects here: the same objects of the same session as the query would give (persistent,
in its identity map, nothing loaded or expired that the query would not have), at a fraction
of the cost. An object the session holds already is returned, its expired attributes (and
the relationships given, when not loaded) filled from the row, as a query would.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import instance_state


@cache
def _loaded(model: type) -> tuple[tuple[str, ...], tuple[sa.Column, ...], tuple[int, ...]]:
    """The attributes a query of `model` loads (its columns that are not deferred), their
    table columns, and where its primary key is among them."""
    mapper = sa.inspect(model)
    names, columns = [], []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        own = isinstance(column, sa.Column) and column.table is mapper.local_table
        if prop.deferred or not own:
            continue
        names.append(prop.key)
        columns.append(column)
    key = tuple(columns.index(column) for column in mapper.primary_key)
    return tuple(names), tuple(columns), key


def session_of(session: Session | scoped_session) -> Session:
    """The Session itself: a scoped session's for this thread, or the one given."""
    return session() if isinstance(session, scoped_session) else session


def columns_of(model: type) -> tuple[sa.Column, ...]:
    """The columns to select for `object_of`: those a query of `model` loads, in order."""
    return _loaded(model)[1]


def object_of(session: Session, model: type, values: Sequence, **related) -> object:
    """The persistent `model` object of a row of `columns_of(model)` (`values`, in their
    order), in `session`; `related`: relationships loaded with it (as an eager load would),
    by name. The one the session holds already, if it does."""
    names, _, key = _loaded(model)
    mapper = sa.inspect(model)
    identity = mapper.identity_key_from_primary_key([values[i] for i in key])
    real = session_of(session)
    found = real.identity_map.get(identity)
    if found is not None:
        # As a query does: what was expired (by a commit) is filled from the row, and a
        # relationship given that is not loaded, as an eager load fills it.
        state = sa.inspect(found)
        if expired := state.expired_attributes:
            for name, value in zip(names, values, strict=True):
                if name in expired:
                    set_committed_value(found, name, value)
        for name, value in related.items():
            if name not in found.__dict__ or name in expired:
                set_committed_value(found, name, value)
        return found
    instance = mapper.class_manager.new_instance()
    # As the ORM's loading does: straight into the new object's dict, no history.
    instance.__dict__.update(zip(names, values, strict=True))
    instance.__dict__.update(related)
    listened = mapper.class_manager.dispatch.load or real.dispatch.loaded_as_persistent
    attach_as_loaded(real, instance, identity, public=bool(listened))
    return instance


# SQLAlchemy's own listener for a mapped object's construction: it configures the mappers
# when they are not yet (and sets a polymorphic identity), which new_row asks for itself.
_CONFIGURES_ON_INIT = getattr(
    importlib.import_module("sqlalchemy.orm.mapper"), "_event_on_init", None
)


def new_row(model: type, **values) -> object:
    """`model(**values)`, a transient object to insert, its columns set as the ORM's
    loading sets them: straight into its dict, without an attribute event each (a tenth of
    the cost, for a note's fifteen columns). The constructor itself when it is given
    anything but columns, the model validates an attribute or someone listens for its
    construction."""
    mapper = sa.inspect(model)
    manager = mapper.class_manager
    if (
        not values.keys() <= _column_keys(model)  # (a relationship, a property, a typo)
        or mapper.validators
        or not mapper.configured
        or mapper.polymorphic_on is not None
        or any(listener is not _CONFIGURES_ON_INIT for listener in manager.dispatch.init)
        or manager.dispatch.init_failure
    ):
        return model(**values)
    instance = manager.new_instance()
    instance.__dict__.update(values)
    return instance


@cache
def _column_keys(model: type) -> frozenset[str]:
    return frozenset(prop.key for prop in sa.inspect(model).column_attrs)


def attach_as_loaded(session: Session, instance: object, identity: tuple, public=False) -> None:
    """Make a transient `instance`, its columns all set (none of its relationships is
    loaded but those set as loaded), persistent in `session` under `identity`, as if a
    query had read it: what it was given so far is its committed state, nothing to flush.

    What the ORM's own loading does to attach a new object of a row (loading._instance):
    a third of make_transient_to_detached and add, which walk every relationship. When
    someone listens for attachments (`public`, or the session's attach events), the public
    way (which sends no load event either). `session` may be a scoped session."""
    session = session_of(session)
    dispatch = session.dispatch
    if public or dispatch.before_attach or dispatch.after_attach or dispatch.detached_to_persistent:
        make_transient_to_detached(instance)  # its identity from its key
        session.add(instance)
        return
    state = instance_state(instance)
    if state.session_id or state.key:
        raise sa.exc.InvalidRequestError("Given object must be transient")
    state._commit_all(state.dict)  # what it was given is as loaded: no history, not modified
    state.key = identity
    try:
        # As add() does, another object under the same key is refused (the session holds
        # one of a row whose id SQLite gave again).
        session.identity_map.add(state)
    except BaseException:
        state.key = None
        raise
    state.session_id = session.hash_key


def register_inserted(session: Session, *instances: object) -> None:
    """Record attached `instances` whose rows this transaction inserted, as the unit of
    work records a row its flush inserted: the rollback of the transaction, or of the
    savepoint they were made in, expunges them (transient again, their columns kept), and
    a savepoint's release hands them to the transaction around it. Without this a
    rollback would keep them as loaded though their rows are gone. `session` may be a
    scoped session."""
    transaction = session_of(session)._transaction  # (the innermost: an open savepoint's)
    if transaction is not None:
        for instance in instances:
            transaction._new[instance_state(instance)] = True
