"""The statement runner (webapp/statements.py) gives what Connection.execute gives, on a
real SQLite file and a real PostgreSQL: processed values, RETURNING, the cursor events,
the statements it leaves to SQLAlchemy, and driver errors raised as SQLAlchemy's."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.functional.test_postgres import postgres_url  # noqa: F401 - a fixture
from webapp import statements
from webapp.database import BUSY, READ_ONLY, configure_engine, unavailable_kind, write_intent

metadata = sa.MetaData()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(50), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("deleted_at", sa.DateTime, nullable=True),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("extra", sa.JSON, nullable=True),
    # Python-side defaults, as the models': a value, a function, a copy of another column.
    sa.Column("colour", sa.String(10), nullable=False, default="yellow"),
    sa.Column("edited_at", sa.DateTime, nullable=False, default=lambda: WHEN),
    sa.Column(
        "original", sa.String(50), default=lambda context: context.get_current_parameters()["body"]
    ),
)
WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, 890000)

BY_ID = sa.select(
    notes.c.id,
    notes.c.body,
    notes.c.created_at,
    notes.c.deleted_at,
    notes.c.public,
    notes.c.extra,
    notes.c.deleted_at.is_(None),
).where(notes.c.id == sa.bindparam("id"))
SINCE = (
    sa.select(notes.c.id, notes.c.created_at)
    .where(notes.c.created_at >= sa.bindparam("since", type_=sa.DateTime), notes.c.public)
    .order_by(notes.c.id)
)
INSERT = (
    sa.insert(notes)
    .returning(notes.c.id, notes.c.created_at, notes.c.public)
    .values(public=sa.bindparam("public", type_=sa.Boolean))
)
INSERT_WITH_DEFAULTS = sa.insert(notes).returning(
    notes.c.id, notes.c.colour, notes.c.edited_at, notes.c.original
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        made = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
        configure_engine(made, busy_timeout_ms=20)
    else:
        url = request.getfixturevalue("postgres_url")
        made = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    metadata.create_all(made)
    with made.begin() as connection:
        connection.execute(
            notes.insert(),
            [
                {
                    "body": "one",
                    "created_at": WHEN,
                    "deleted_at": None,
                    "public": True,
                    "extra": {"a": [1]},
                },
                {
                    "body": "two",
                    "created_at": WHEN + dt.timedelta(days=1),
                    "deleted_at": WHEN,
                    "public": False,
                    "extra": None,
                },
            ],
        )
    yield made
    made.dispose()


def test_rows_have_the_values_connection_execute_gives(engine):
    with engine.begin() as connection:
        for note_id in (1, 2, 3):
            expected = connection.execute(BY_ID, {"id": note_id}).first()
            found = statements.first(connection, BY_ID, {"id": note_id})
            assert found == (None if expected is None else tuple(expected))
        assert statements.first(connection, BY_ID, {"id": 1}) == (
            1, "one", WHEN, None, True, {"a": [1]}, True
        )  # fmt: skip
        two = statements.first(connection, BY_ID, {"id": 2})
        assert type(two[2]) is dt.datetime and two[3] == WHEN and two[4] is False
        assert two[5] is None and two[6] is False
        # A DateTime parameter is bound as SQLAlchemy binds it (on SQLite: its string).
        since = {"since": WHEN - dt.timedelta(seconds=1)}
        assert statements.rows(connection, SINCE, since) == [(1, WHEN)]
        assert statements.rows(connection, SINCE, {"since": WHEN + dt.timedelta(days=2)}) == []
        assert statements.rows(connection, SINCE, since) == [
            tuple(row) for row in connection.execute(SINCE, since)
        ]


def test_insert_returning_gives_the_new_row(engine):
    later = WHEN + dt.timedelta(hours=3)
    with engine.begin() as connection:
        row = statements.first(
            connection, INSERT, {"body": "three", "created_at": later, "public": False}
        )
        assert row == (3, later, False)
        stored = connection.execute(BY_ID, {"id": 3}).first()
        assert stored.created_at == later and stored.public is False and stored.extra is None


def test_python_side_column_defaults_are_filled_in(engine):
    with engine.begin() as connection:
        values = {"body": "five", "created_at": WHEN, "public": True}
        assert statements.first(connection, INSERT_WITH_DEFAULTS, values) == (
            3, "yellow", WHEN, "five"
        )  # fmt: skip
        given = {**values, "body": "six", "colour": "blue", "original": "first"}
        assert statements.first(connection, INSERT_WITH_DEFAULTS, given)[1:] == (
            "blue", WHEN, "first"
        )  # fmt: skip
        expected = connection.execute(INSERT_WITH_DEFAULTS, {**values, "body": "seven"}).first()
        assert tuple(expected)[1:] == ("yellow", WHEN, "seven")


def test_a_functions_own_literal_is_rendered_once(engine):
    # aggregate_strings' separator is rendered into the SQL on SQLite (literal_execute).
    statement = sa.select(
        sa.func.aggregate_strings(notes.c.body, ","), sa.func.max(notes.c.created_at)
    ).where(notes.c.created_at >= sa.bindparam("since", type_=sa.DateTime))
    with engine.begin() as connection:
        for since in (WHEN, WHEN + dt.timedelta(days=1), WHEN + dt.timedelta(days=2)):
            found = statements.first(connection, statement, {"since": since})
            assert found == tuple(connection.execute(statement, {"since": since}).first())
        assert sorted(statements.first(connection, statement, {"since": WHEN})[0].split(",")) == [
            "one", "two"
        ]  # fmt: skip


def test_the_cursor_events_see_each_statement(engine):
    seen = []

    def before(conn, _cursor, statement, parameters, context, _many):
        seen.append(("before", conn, statement, parameters, context))

    def after(conn, _cursor, statement, parameters, context, _many):
        seen.append(("after", conn, statement, parameters, context))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        with engine.begin() as connection:
            seen.clear()  # (the BEGIN)
            statements.first(connection, BY_ID, {"id": 1})
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    assert [entry[0] for entry in seen] == ["before", "after"]
    assert seen[0][1] is connection
    assert seen[0][2].lstrip().upper().startswith("SELECT") and "notes" in seen[0][2]
    assert 1 in (seen[0][3].values() if isinstance(seen[0][3], dict) else seen[0][3])
    assert seen[0][4] is None  # run by the runner, not by an execution context


def test_a_connections_own_listeners_see_its_statements(engine):
    seen = []
    with engine.begin() as connection:
        sa.event.listen(connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
        statements.first(connection, BY_ID, {"id": 1})
    assert len(seen) == 1 and "notes" in seen[0]


def test_expanding_parameters_go_through_connection_execute(engine):
    statement = (
        sa.select(notes.c.id, notes.c.created_at)
        .where(notes.c.id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(notes.c.id)
    )
    contexts = []

    def before(_conn, _cursor, _statement, _parameters, context, _many):
        contexts.append(context)

    with engine.begin() as connection:
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            found = statements.rows(connection, statement, {"ids": [1, 2, 9]})
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
    assert found == [(1, WHEN), (2, WHEN + dt.timedelta(days=1))]
    assert len(contexts) == 1 and contexts[0] is not None  # SQLAlchemy's execution


def test_outside_a_transaction_it_leaves_the_statement_to_connection_execute(engine):
    with engine.connect() as connection:
        assert statements.first(connection, BY_ID, {"id": 1})[:2] == (1, "one")
        assert connection.in_transaction()  # SQLAlchemy began one, as it does
        connection.rollback()


def test_a_driver_error_is_raised_as_sqlalchemys(engine):
    with engine.connect() as connection, connection.begin():
        with pytest.raises(sa.exc.IntegrityError) as info:
            values = {"body": "one", "created_at": WHEN, "public": True}
            statements.first(connection, INSERT, values)
        assert "INSERT INTO notes" in str(info.value) and info.value.orig is not None
        assert unavailable_kind(info.value) is None  # a bug: a 500, not a 503


def test_a_busy_database_is_unavailable(engine, tmp_path):
    if engine.dialect.name == "sqlite":
        token = write_intent.set(True)
        other = sa.create_engine(engine.url)
        configure_engine(other, busy_timeout_ms=20)
        try:
            with other.connect() as holder, holder.begin():  # BEGIN IMMEDIATE elsewhere
                write_intent.set(False)
                with engine.connect() as connection, connection.begin():
                    values = {"body": "four", "created_at": WHEN, "public": True}
                    with pytest.raises(sa.exc.OperationalError) as info:
                        statements.first(connection, INSERT, values)
        finally:
            write_intent.reset(token)
            other.dispose()
    else:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SET LOCAL statement_timeout = 50")
            slow = sa.select(sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float)))
            with pytest.raises(sa.exc.OperationalError) as info:
                statements.first(connection, slow, {"seconds": 2})
    assert unavailable_kind(info.value) == BUSY


def test_a_read_only_database_is_unavailable_though_its_connection_is_closed(engine):
    """database.py's handling closes a connection refused a write as read-only: the error
    raised is still the driver's, wrapped (not the closed cursor's own)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a read-only SQLite file; PostgreSQL's read-only case is test_faults'")
    path = engine.url.database
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    configure_engine(read_only, busy_timeout_ms=20)
    token = write_intent.set(True)
    try:
        with read_only.connect() as connection:
            connection.begin()
            values = {"body": "five", "created_at": WHEN, "public": True}
            with pytest.raises(sa.exc.OperationalError) as info:
                statements.first(connection, INSERT, values)
            assert connection.invalidated  # (closed, as database.py asks)
            connection.rollback()
    finally:
        write_intent.reset(token)
        read_only.dispose()
    assert unavailable_kind(info.value) == READ_ONLY


_calls = iter(range(1, 10**6))
CONSTANT_AND_CALLABLE = sa.select(notes.c.id).where(
    notes.c.body == sa.bindparam("body"),
    notes.c.public == sa.true(),
    notes.c.colour == "yellow",  # a literal: the bind parameter's own value
    # asked on every run: a new value each time
    notes.c.created_at < sa.bindparam("made", callable_=lambda: WHEN + dt.timedelta(next(_calls))),
    notes.c.id.in_(sa.select(notes.c.id).where(notes.c.id > sa.bindparam("after", 0))),
)


@pytest.mark.parametrize(
    "statement, values",
    [
        (BY_ID, {"id": 1}),
        (SINCE, {"since": WHEN}),
        (INSERT, {"body": "x", "created_at": WHEN, "public": True}),
        (INSERT_WITH_DEFAULTS, {"body": "x", "created_at": WHEN, "public": False}),
        (CONSTANT_AND_CALLABLE, {"body": "one"}),
        (CONSTANT_AND_CALLABLE, {"body": "one", "made": WHEN, "after": 5}),
    ],
)
def test_a_plans_parameters_are_the_ones_construct_params_makes(engine, statement, values):
    # Read once per plan instead of on every run: the same names and values (literals,
    # defaults of bind parameters, callables asked each time, values given by key).
    plan = statements._plan_of(statement, engine.dialect, tuple(sorted(values)))
    assert plan is not None and plan.binds is not None
    for _ in range(2):  # (a callable's value is a new one on each run, on both sides)
        given = plan._given(values)
        constructed = plan.compiled.construct_params(values, escape_names=False)
        if "made" in given and "made" not in values:
            assert given.pop("made") + dt.timedelta(1) == constructed.pop("made")
        assert given == constructed


def test_a_required_parameter_missing_is_refused_as_sqlalchemy_refuses_it(engine):
    plan = statements._plan_of(BY_ID, engine.dialect, ("other",))
    with pytest.raises(sa.exc.InvalidRequestError, match="A value is required for bind"):
        plan._given({"other": 1})
