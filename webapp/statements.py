"""Run a built Core statement on a Connection's DBAPI connection, without SQLAlchemy's
execution machinery: for the statements every note's write and every signed-in page runs,
where a Connection.execute (an execution context, a result object and its metadata) costs
several times what the driver spends on the statement itself.

A statement is compiled once per dialect and parameter names (kept in a bounded cache),
then each run does what Connection.execute would: bind values through the types' bind
processors in the dialect's parameter style, the engine's before/after_cursor_execute
events (statement counters, traces, tests), result values through the result columns'
processors (a SQLite DateTime string made a datetime, ...), and a driver error handled
and raised as SQLAlchemy's (its handle_error events included: busy, read-only and the
other faults are answered as before). Rows come back as plain tuples.

It runs inside the transaction the Connection has begun (session.connection(): our BEGIN
or BEGIN IMMEDIATE, database.py); anything it does not handle exactly as SQLAlchemy would
(expanding IN parameters, literal_execute, Python-side column defaults, execution options,
a Connection not in a transaction, echo) goes through Connection.execute unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sqlalchemy.engine import Connection

# Compiled statements kept: (statement, dialect, parameter names) -> _Plan, or None when
# the statement goes through Connection.execute. The hot statements are built once (module
# level or lru_cache'd per user or class), so this holds as many as those caches do.
MAX_PLANS = 2048
_plans: dict[tuple, _Plan | None] = {}
_plans_guard = threading.Lock()

# Connection execution options that change nothing of how a statement runs.
_HARMLESS_OPTIONS = frozenset({"writer_lock"})


class _Plan:
    """A statement compiled for one dialect: its SQL, how to make the driver's parameters,
    and (from its first run's cursor description) its result processors."""

    __slots__ = ("compiled", "sql", "positional", "processors", "escaped", "results")

    def __init__(self, compiled) -> None:
        self.compiled = compiled
        self.sql = compiled.string
        self.positional = compiled.positiontup if compiled.positional else None
        self.processors = compiled._bind_processors
        self.escaped = compiled.escaped_bind_names
        self.results: tuple | None = None  # one processor (or None) per result column

    def parameters(self, values: Mapping, dialect):
        """The driver's parameters for `values`, as SQLAlchemy's execution context makes
        them (DefaultExecutionContext._init_compiled)."""
        given = self.compiled.construct_params(values, escape_names=False)
        processors = self.processors
        if self.positional is not None:
            return dialect.execute_sequence_format(
                [
                    processors[key](given[key]) if key in processors else given[key]
                    for key in self.positional
                ]
            )
        escaped = self.escaped
        return {
            (escaped.get(key, key) if escaped else key): (
                processors[key](value) if key in processors else value
            )
            for key, value in given.items()
        }

    def result_processors(self, cursor, dialect) -> tuple:
        """The result columns' processors, as CursorResult's metadata finds them for a
        compiled statement whose columns come in order (matched by position)."""
        if self.results is None:
            description = cursor.description
            columns = self.compiled._result_columns
            if len(columns) != len(description):
                raise RuntimeError(
                    f"statements: {len(description)} columns came for the"
                    f" {len(columns)} compiled ones of: {self.sql}"
                )
            self.results = tuple(
                column[3]._cached_result_processor(dialect, described[1])
                for column, described in zip(columns, description, strict=True)
            )
        return self.results


def _plan_of(statement, dialect, keys: tuple) -> _Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if (
        compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.schema_translate_map
        or compiled.for_executemany
        or compiled.isplaintext
        or compiled.implicit_returning
        or not compiled._ordered_columns
        or compiled._textual_ordered_columns
        or compiled._ad_hoc_textual
        or compiled._loose_column_name_matching
        or statement._execution_options
    ):
        return None
    return _Plan(compiled)


def _usable_plan(connection: Connection, statement, values: Mapping) -> _Plan | None:
    if (
        not connection.in_transaction()
        or connection.invalidated
        or connection._echo
        or not _HARMLESS_OPTIONS.issuperset(connection._execution_options)
    ):
        return None
    dialect = connection.dialect
    if dialect.dispatch.do_execute:
        return None
    key = (statement, dialect, tuple(sorted(values)))
    try:
        return _plans[key]
    except KeyError:
        pass
    plan = _plan_of(statement, dialect, key[2])
    with _plans_guard:
        if len(_plans) >= MAX_PLANS:
            _plans.pop(next(iter(_plans)))  # the oldest
        _plans[key] = plan
    return plan


def rows(connection: Connection, statement, values: Mapping | None = None) -> list[tuple]:
    """Every row of `statement` run with `values` on `connection`, as plain tuples with
    the values Connection.execute(statement, values) would give."""
    values = values or {}
    plan = _usable_plan(connection, statement, values)
    if plan is None:
        return [tuple(row) for row in connection.execute(statement, values)]
    return _run(connection, plan, values, all_rows=True)


def first(connection: Connection, statement, values: Mapping | None = None) -> tuple | None:
    """The first row of `statement` run with `values` on `connection` (the others are
    dropped), or None: as Connection.execute(statement, values).first()."""
    values = values or {}
    plan = _usable_plan(connection, statement, values)
    if plan is None:
        row = connection.execute(statement, values).first()
        return None if row is None else tuple(row)
    return _run(connection, plan, values, all_rows=False)


def _run(connection: Connection, plan: _Plan, values: Mapping, all_rows: bool):
    dialect = connection.dialect
    sql = plan.sql
    parameters = plan.parameters(values, dialect)
    events = None
    if connection._has_events or connection.engine._has_events:
        events = connection.dispatch
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        try:
            if events is not None and events.before_cursor_execute:
                for listener in events.before_cursor_execute:  # (as Connection's: each
                    # returns the statement and parameters, changed or not)
                    sql, parameters = listener(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            if events is not None and events.after_cursor_execute:
                for listener in events.after_cursor_execute:
                    listener(connection, cursor, sql, parameters, None, False)
            if cursor.description is None:
                return [] if all_rows else None
            fetched = cursor.fetchall() if all_rows else cursor.fetchone()
            processors = plan.result_processors(cursor, dialect)
        except BaseException as error:
            # A cursor left open would keep a statement (on SQLite: the file) open under
            # a connection the handling below may close (database.py's read-only case).
            cursor.close()
            connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
    finally:
        cursor.close()
    if not all_rows:
        return None if fetched is None else _processed(fetched, processors)
    if not any(processors):
        return [tuple(row) for row in fetched]
    return [_processed(row, processors) for row in fetched]


def _processed(row, processors: tuple) -> tuple:
    pairs = zip(row, processors, strict=True)
    return tuple(value if process is None else process(value) for value, process in pairs)
