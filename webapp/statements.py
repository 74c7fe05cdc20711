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

    __slots__ = (
        "compiled",
        "sql",
        "positional",
        "processors",
        "escaped",
        "defaults",
        "results",
        "binds",
    )

    def __init__(self, compiled) -> None:
        self.compiled = compiled
        self.sql = compiled.string
        self.positional = compiled.positiontup if compiled.positional else None
        self.processors = compiled._bind_processors
        self.escaped = compiled.escaped_bind_names
        # Python-side column defaults of an INSERT's columns not given (as SQLAlchemy's
        # _process_execute_defaults): (parameter name, column, value or function, callable)
        self.defaults = ()
        if compiled.insert_prefetch:
            key_of = compiled._within_exec_param_key_getter
            self.defaults = tuple(
                (key_of(column), column, column._default_description_tuple)
                for column in compiled.insert_prefetch
            )
        if compiled.literal_execute_params:
            # Rendered into the SQL once: their values are the statement's own (a
            # function's separator), never one of the parameters given (see _plan_of).
            expanded = compiled._process_parameters_for_postcompile(
                compiled.construct_params(escape_names=False, _check=False)
            )
            self.sql = expanded.statement
            self.positional = expanded.positiontup if compiled.positional else None
            self.processors = {**compiled._bind_processors, **expanded.processors}
        self.results: tuple | None = None  # one processor (or None) per result column
        # What construct_params reads of each bind parameter on every run, read once: its
        # name, its key, and its own value (an _Own when required, or when its callable
        # makes it on each run). None with a literal-execute parameter, or values given
        # with the statement (.params(): SQLAlchemy 2.1 collects them at compile time).
        self.binds = None
        if not compiled.literal_execute_params and not getattr(compiled, "_collected_params", None):
            self.binds = tuple(
                (name, bind.key, _own_value(bind)) for bind, name in compiled.bind_names.items()
            )

    def parameters(self, values: Mapping, connection):
        """The driver's parameters for `values`, as SQLAlchemy's execution context makes
        them (DefaultExecutionContext._init_compiled)."""
        given = self._given(values)
        if self.defaults:
            _fill_defaults(given, self.defaults, connection, self.compiled)
        processors = self.processors
        if self.positional is not None:
            return connection.dialect.execute_sequence_format(
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

    def _given(self, values: Mapping) -> dict:
        """compiled.construct_params(values, escape_names=False): each bind parameter's
        value by name, from `values` (by its key, else its name) or its own, without
        looking at the parameter again on every run. A required one missing is left to
        construct_params, which raises as SQLAlchemy does."""
        binds = self.binds
        if binds is None or not values:
            return self.compiled.construct_params(values, escape_names=False)
        given = {}
        for name, key, own in binds:
            if key in values:
                given[name] = values[key]
            elif name in values:
                given[name] = values[name]
            elif own.__class__ is _Own:
                if own.bind is None:  # required
                    return self.compiled.construct_params(values, escape_names=False)
                given[name] = own.bind.effective_value
            else:
                given[name] = own
        return given

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


class _Own:
    """A bind parameter's value that is not a constant: required (bind None) or made by
    its callable on every run."""

    __slots__ = ("bind",)

    def __init__(self, bind) -> None:
        self.bind = bind


def _own_value(bind):
    if bind.required:
        return _Own(None)
    if bind.callable:
        return _Own(bind)
    return bind.value


class _DefaultsContext:
    """What a Python-side column default function is given in place of SQLAlchemy's
    execution context: the row's parameters so far (get_current_parameters: a column that
    copies another's) and the column; the connection and its dialect."""

    def __init__(self, connection, compiled, parameters: dict) -> None:
        self.connection = self.root_connection = connection
        self.dialect = connection.dialect
        self.compiled = compiled
        self.current_parameters = parameters
        self.current_column = None

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict:
        return self.current_parameters


def _fill_defaults(given: dict, defaults: tuple, connection, compiled) -> None:
    context = None
    for key, column, (value, is_scalar, _callable, _sentinel) in defaults:
        if is_scalar:
            given[key] = value
        else:  # (callable: _plan_of leaves the other kinds to Connection.execute)
            if context is None:
                context = _DefaultsContext(connection, compiled, given)
            context.current_column = column
            given[key] = value(context)


def _plan_of(statement, dialect, keys: tuple) -> _Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    given = set(keys)
    if (
        compiled.post_compile_params
        or any(
            bind.key in given or bind.callable or compiled.bind_names[bind] in given
            for bind in compiled.literal_execute_params
        )
        or any(
            is_sentinel or not (is_scalar or is_callable)
            for _, is_scalar, is_callable, is_sentinel in (
                column._default_description_tuple for column in compiled.insert_prefetch
            )
        )
        or compiled.update_prefetch
        or compiled.schema_translate_map
        or compiled.for_executemany
        or compiled.isplaintext
        or compiled.implicit_returning
        or not compiled._ordered_columns
        or compiled._textual_ordered_columns
        or compiled._ad_hoc_textual
        or compiled._loose_column_name_matching
        or getattr(compiled.compile_state, "_has_multi_parameters", False)
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
    parameters = plan.parameters(values, connection)
    # The engine's listeners (the Connection's own too, when it has any: then its
    # dispatch, which joins the engine's; asking the joined one costs more).
    events = connection.dispatch if connection._has_events else connection.engine.dispatch
    cursor = connection.connection.dbapi_connection.cursor()
    fetched = processors = None
    try:
        if events.before_cursor_execute:
            for listener in events.before_cursor_execute:  # (as Connection's: each
                # returns the statement and parameters, changed or not)
                sql, parameters = listener(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        if events.after_cursor_execute:
            for listener in events.after_cursor_execute:
                listener(connection, cursor, sql, parameters, None, False)
        if cursor.description is not None:
            fetched = cursor.fetchall() if all_rows else cursor.fetchone()
            processors = plan.result_processors(cursor, dialect)
    except BaseException as error:
        # Closed first, and only here: the handling below may close the connection
        # (database.py's read-only case), and a cursor closed after its connection raises
        # an error of its own in place of this one.
        cursor.close()
        if isinstance(error, Exception) and not isinstance(error, dialect.loaded_dbapi.Error):
            raise  # as Connection.execute raises it (its handle_error events aside)
        # A driver's error, or an exit (a worker's timeout: the connection is dropped,
        # as Connection.execute drops it).
        connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
        raise  # (the handling above raises it, wrapped)
    cursor.close()
    if processors is None:
        return [] if all_rows else None
    if not all_rows:
        return None if fetched is None else _processed(fetched, processors)
    if not any(processors):
        return [tuple(row) for row in fetched]
    return [_processed(row, processors) for row in fetched]


def _processed(row, processors: tuple) -> tuple:
    pairs = zip(row, processors, strict=True)
    return tuple(value if process is None else process(value) for value, process in pairs)
