"""Engine settings: SQLite pragmas, BEGIN IMMEDIATE for writes, and which database errors
mean "unavailable, try again later" (busy, read-only, disk full, unreachable) and so a 503.

On SQLite a transaction that reads and then writes under a plain (deferred) BEGIN fails at
once with "database is locked" when another writer holds the lock, whatever the busy
timeout. Requests that write take the write lock up front with BEGIN IMMEDIATE instead.
A request writes in one transaction: once it commits, what it reads to draw the answer
starts a plain BEGIN, which in WAL mode never waits for a writer. So nothing after a commit
can fail for want of the lock.

A hot write may instead read first (@reads_first: a note's create): its reads, checks and
rendering run in a plain BEGIN, so that other workers' writes go on meanwhile, and
start_writing() then ends that read transaction and begins the write transaction (BEGIN
IMMEDIATE) on the same connection. It is never the read transaction that writes. What
was read is then a snapshot that may be stale: the write re-reads, under the lock, what
must hold when it commits (the article's current version, the class still open, ...).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
import weakref

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from webapp.row_objects import session_of

write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
# Whether the current request has committed: what goes wrong afterwards must not say that
# nothing was changed.
committed: contextvars.ContextVar[bool] = contextvars.ContextVar("committed", default=False)

# What kind of "unavailable" an error is decides what the answer says and when to try again.
BUSY = "busy"  # contention, or a connection lost mid-request: trying again at once may work
READ_ONLY = "read-only"  # the file, its folder or the PostgreSQL database refuses writes
DISK_FULL = "disk full"
DISK_ERROR = "disk error"  # the disk fails to read or write
UNREACHABLE = "unreachable"  # the server is down or the database was dropped or cannot be opened
FILE_GONE = "file gone"  # the SQLite file was deleted or replaced under the server

# SQLite primary result codes (the low byte of the extended code).
_SQLITE_FAULTS = {5: BUSY, 6: BUSY, 8: READ_ONLY, 10: DISK_ERROR, 13: DISK_FULL, 14: UNREACHABLE}
# PostgreSQL SQLSTATEs. Busy: lock_not_available, serialization_failure, deadlock_detected,
# query_canceled (lock or statement timeout), admin and crash shutdown (a terminated
# connection: the next one works), cannot_connect_now, too_many_connections.
_POSTGRES_FAULTS = {
    **dict.fromkeys(["55P03", "40001", "40P01", "57014", "57P01", "57P02", "57P03", "53300"], BUSY),
    "25006": READ_ONLY,  # read_only_sql_transaction: a standby, default_transaction_read_only
    "53100": DISK_FULL,
    "3D000": UNREACHABLE,  # invalid_catalog_name: the database does not exist (any more)
}


def fetch_one(engine: Engine, sql: str, parameters=()) -> tuple | None:
    """The first row of one read-only statement, run on a DBAPI connection without
    SQLAlchemy's execution machinery: for the hottest reads (the idle poll, the anonymous
    page cache's revision), where a Connection, an execution context and a result object
    cost four times the indexed lookup itself. `sql` is in the driver's parameter style and
    nothing is converted. No transaction is begun: on SQLite a lone SELECT reads one
    snapshot by itself (on a file, on a connection this thread keeps for such reads,
    _kept_reader); elsewhere the pool rolls back as the connection returns. The engine's
    cursor events still see the statement (statement counters, traces); faults are raised
    as the driver's, without SQLAlchemy's handling (callers fall back to the ordinary
    path, which meets them again and answers them)."""
    connection, kept = _kept_reader(engine)
    try:
        return _first_row(engine, connection, sql, parameters)
    except BaseException:
        if kept:
            _drop_kept_reader(engine)  # whatever went wrong, the next read opens anew
        raise
    finally:
        if not kept:
            connection.close()  # back to its pool


def _first_row(engine: Engine, connection, sql: str, parameters) -> tuple | None:
    cursor = connection.cursor()
    try:
        events = engine.dispatch
        if events.before_cursor_execute:
            events.before_cursor_execute(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, sql, parameters, None, False)
        return row
    finally:
        cursor.close()  # and with it the statement: its read snapshot ends here


class _Reader:
    """A DBAPI connection taken out of an engine's pool for fetch_one, with what cursor
    events are given of a pooled one (`info`, `dbapi_connection`). It refers to its pool
    only weakly: the pool's listeners refer to the engine, which must stay collectable."""

    __slots__ = ("dbapi_connection", "info", "pool", "faults")

    def __init__(self, fairy, pool) -> None:
        self.dbapi_connection = fairy.dbapi_connection
        self.info = fairy.info
        self.pool = weakref.ref(pool)
        self.faults = _read_only_faults

    def cursor(self):
        return self.dbapi_connection.cursor()

    def close(self) -> None:
        self.dbapi_connection.close()


class _KeptReaders(threading.local):
    """Per thread, per engine: a _Reader. The pool's checkout and return (its events, the
    reset, the bookkeeping) cost the idle poll about as much as its statement; a SQLite
    connection between statements holds no lock and no snapshot, so one is kept for these
    reads. Detached from the pool, it counts against no pool's size (a threaded server's
    threads cannot starve the requests of connections).

    It goes when its pool does (engine.dispose(): a database file replaced, a restore),
    after any fault of its own, and after a read-only fault on any connection of this
    process (drop_read_only_connections: kept, a connection that has the WAL's shared
    memory read-only would keep it so for every later connection of this process, and its
    reads would never fail to say so). One opened read-only is not kept at all: it goes
    back to the pool, which uses it once."""

    def __init__(self) -> None:
        self.by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_kept_readers = _KeptReaders()
_read_only_faults = 0  # read-only faults met in this process (drop_read_only_connections)
# Connections a forked child inherited from the forking thread: never used, and never
# closed by it (closing a SQLite connection copied by fork may checkpoint or remove the
# WAL the parent uses). The servers here fork before any request, so there are none.
_inherited_readers: list = []


def _kept_reader(engine: Engine) -> tuple:
    """The connection to read on, and whether it is this thread's kept one (False: a
    pooled one, returned after the read)."""
    reader = _kept_readers.by_engine.get(engine)
    if reader is not None:
        if reader.pool() is engine.pool and reader.faults == _read_only_faults:
            return reader, True
        _drop_kept_reader(engine)
    fairy = engine.raw_connection()
    # Only a file's connection is kept: an in-memory database lives in its one pooled
    # connection, and one opened read-only is for one use.
    if (
        engine.dialect.name != "sqlite"
        or sqlite_file(engine) is None
        or fairy.info.get("read_only")
    ):
        return fairy, False
    pool = engine.pool
    fairy.detach()
    reader = _Reader(fairy, pool)
    _kept_readers.by_engine[engine] = reader
    return reader, True


def _drop_kept_reader(engine: Engine) -> None:
    reader = _kept_readers.by_engine.pop(engine, None)
    if reader is not None:
        with contextlib.suppress(Exception):
            reader.close()


def _forget_kept_readers_after_fork() -> None:
    _inherited_readers.extend(_kept_readers.by_engine.values())
    _kept_readers.by_engine = weakref.WeakKeyDictionary()


os.register_at_fork(after_in_child=_forget_kept_readers_after_fork)


def start_request(writes: bool) -> None:
    """A new request: take the write lock up front if it writes; nothing committed yet."""
    write_intent.set(writes)
    committed.set(False)


def reads_first(view):
    """Mark a view that writes as one that reads before it writes (start_writing): its
    request begins without the write lock. Put it below the route's other decorators
    (functools.wraps carries the mark to them)."""
    view.reads_first = True
    return view


def start_writing(session) -> None:
    """In a @reads_first request: end the read transaction, keeping what it loaded, and
    begin the write transaction with the write lock. The read transaction must have
    written nothing: its COMMIT would write, and on SQLite a read transaction that writes
    fails at once under contention.

    It happens under the session's transaction, on its connection: a COMMIT there, then
    the engine's `begin` events as for a new transaction (on SQLite: the writers' lock and
    BEGIN IMMEDIATE, the file's identity checked; on PostgreSQL the next statement begins
    one). The session and its connection go on as they were: no Session.commit with its
    events, no connection given back to the pool and taken again. What the write commits
    or rolls back later ends this write transaction, as any other (the lock let go right
    after)."""
    real = session_of(session)
    if real.new or real.dirty or real.deleted:
        raise RuntimeError("start_writing: the read transaction has unsaved changes")
    if write_intent.get():
        return  # the transaction is a write one already, or the next one begins as one
    if not real.in_transaction():
        write_intent.set(True)  # nothing read yet: the next statement begins writing
        return
    if real.in_nested_transaction():
        raise RuntimeError("start_writing: a savepoint is open")
    connection = real.connection()
    try:
        connection.connection.dbapi_connection.commit()
    except Exception as error:
        connection._handle_dbapi_exception(error, "COMMIT", None, None, None)
    write_intent.set(True)
    connection.dispatch.begin(connection)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    # A savepoint released (begin_nested: a vote, an idempotent insert) is no commit: the
    # request's transaction, and its write lock, go on.
    if session.in_nested_transaction():
        return
    write_intent.set(False)
    committed.set(True)


def commit_keeping_loaded(session) -> None:
    """Commit, leaving the objects loaded as they are instead of expiring them: an answer
    drawn from what the request itself just wrote (a note's card and blocks) needs no
    second read of each of them (the user, the article, the class, the note)."""
    real = session_of(session)
    keep = real.expire_on_commit
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = keep


def unavailable_kind(error: BaseException) -> str | None:
    """The kind of fault when `error` says the database cannot be used for now (busy,
    read-only, disk full, unreachable, file gone): the transaction did not commit, and
    trying again later may work. None for anything else (a missing table, a bug)."""
    if isinstance(error, DatabaseFileError):
        return FILE_GONE
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return BUSY
    if not isinstance(error, exc.DBAPIError):
        return None
    if kind := _driver_kind(error.orig):
        return kind
    if error.connection_invalidated:
        return BUSY  # the connection was lost: the next request opens a new one
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(original, sqlite3.Error):
        return None
    if sqlstate:
        return UNREACHABLE if sqlstate.startswith("08") else None  # connection exception
    # psycopg has no SQLSTATE when it cannot reach the server at all.
    return UNREACHABLE if isinstance(error, exc.OperationalError) else None


def _driver_kind(original: BaseException | None) -> str | None:
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code is None:
            return BUSY if "locked" in str(original) or "busy" in str(original) else None
        return _SQLITE_FAULTS.get(code & 0xFF)
    sqlstate = getattr(original, "sqlstate", None)
    return _POSTGRES_FAULTS.get(sqlstate) if isinstance(sqlstate, str) else None


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database cannot be used for now: a 503, not a 500."""
    return unavailable_kind(error) is not None


class FaultLog:
    """One log line when a kind of fault starts, at most one a minute while it lasts, and
    one when writes work again: never a line (or a traceback) per refused request.

    Per process; the clock is a parameter for the tests."""

    def __init__(self, logger: logging.Logger, interval: float = 60, clock=time.monotonic):
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._logged_at: dict[str, float] = {}  # kind -> when a line last said it happened
        self._unreported: dict[str, int] = {}  # kind -> refusals no line has counted
        self._open: set[str] = set()  # kinds a line said started and none yet said ended

    def refused(self, kind: str, detail: str) -> None:
        """A request was refused because of a fault of this kind."""
        with self._lock:
            now = self.clock()
            unreported = self._unreported.get(kind, 0)
            logged_at = self._logged_at.get(kind)
            if logged_at is not None and now - logged_at < self.interval:
                self._unreported[kind] = unreported + 1
                return
            self._logged_at[kind] = now
            self._unreported[kind] = 0
            if kind != BUSY:  # contention comes and goes by itself: no "over" line
                self._open.add(kind)
            more = f" ({unreported} more refused since the last report)" if unreported else ""
            self.logger.log(
                logging.WARNING if kind == BUSY else logging.ERROR,
                "Database fault (%s): %s. Requests that need it answer 503 with Retry-After"
                " until it clears%s.",
                kind,
                detail,
                more,
            )

    def recovered(self) -> None:
        """A write was committed: the faults reported as started are over."""
        if not self._open:
            return
        with self._lock:
            for kind in sorted(self._open):
                self.logger.warning("Database fault (%s) is over: writes succeed again.", kind)
            self._open.clear()


def describe_fault(error: BaseException) -> str:
    """The first line of what the driver said: enough for the log, no traceback."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    text = lines[0] if lines else type(original).__name__
    code = getattr(original, "sqlite_errorname", None) or getattr(original, "sqlstate", None)
    return f"{text} [{code}]" if code else text


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000) -> None:
    drop_read_only_connections(engine)
    if engine.dialect.name != "sqlite":
        return
    # Its pool's connections are closed: this thread's kept reader too (another thread's
    # goes at its next read, seeing the pool replaced).
    event.listen(engine, "engine_disposed", _drop_kept_reader)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # first: WAL may wait
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    path = sqlite_file(engine)
    writers = writer_lock_for(path, busy_timeout_ms / 1000) if path else None

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if not write_intent.get():
            _begin(connection, "BEGIN")
            return
        held = connection.connection.dbapi_connection
        options = connection.get_execution_options()
        if writers is not None and options.get("writer_lock", True) and writers.acquire():
            _writer_lock_holders[held] = writers
        try:
            _begin(connection, "BEGIN IMMEDIATE")
        except BaseException:
            _release_writer_lock(held)
            raise

    # The turn ends with the transaction: right after its COMMIT or ROLLBACK; else when
    # its connection is closed, invalidated or detached, or goes back to the pool.
    dialect = engine.dialect
    dialect.do_commit = _then_release_writer_lock(dialect.do_commit, checkpoint=True)
    dialect.do_rollback = _then_release_writer_lock(dialect.do_rollback)
    for name in ("checkin", "close", "detach", "invalidate", "close_detached"):
        event.listen(engine, name, _release_on_pool_event)


def _begin(connection, sql: str) -> None:
    """Run BEGIN (or BEGIN IMMEDIATE) on the connection's DBAPI connection, without the
    execution context and result exec_driver_sql makes for it (several times the
    statement's own cost, on every request). The engine's cursor events still see it
    (statement counters, tests), and a driver error is handled and raised as SQLAlchemy's,
    its handle_error events included: busy is a 503 as before."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        events = connection.dispatch
        if events.before_cursor_execute:
            events.before_cursor_execute(connection, cursor, sql, (), None, False)
        cursor.execute(sql)
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, sql, (), None, False)
    except Exception as error:
        cursor.close()  # first: the handling may close the connection (read-only)
        connection._handle_dbapi_exception(error, sql, (), None, None)
    cursor.close()


# DBAPI connection: the WriterLock its transaction holds.
_writer_lock_holders: dict[object, WriterLock] = {}


def _release_writer_lock(dbapi_connection) -> bool:
    """Let go of the writers' lock the connection's transaction holds; whether it held it."""
    writers = _writer_lock_holders.pop(dbapi_connection, None)
    if writers is not None:
        writers.release()
    return writers is not None


def _release_on_pool_event(dbapi_connection, *_args) -> None:
    _release_writer_lock(dbapi_connection)


def _then_release_writer_lock(method, checkpoint: bool = False):
    def run(connection) -> None:
        try:
            method(connection)
        except BaseException:
            _release_writer_lock(getattr(connection, "dbapi_connection", connection))
            raise
        # The dialect is given the pool's proxy of the DBAPI connection.
        if _release_writer_lock(getattr(connection, "dbapi_connection", connection)):
            if checkpoint:
                _checkpoint_now_and_then(connection)

    return run


# A commit that takes SQLite's WAL past its auto-checkpoint size checkpoints it inside
# the COMMIT (every 1,000 pages by default: a few dozen notes), with the writers' lock
# still held: the other workers' writes wait for it, several milliseconds with its two
# fsyncs. Instead, every CHECKPOINT_EVERY write transactions of a process, the one that
# committed checkpoints right after letting go of the lock (PASSIVE: the other workers'
# writers go on meanwhile; this write's own answer waits for it, one write in
# CHECKPOINT_EVERY). SQLite's own stays as a backstop, at a larger size, for when these do not
# keep up (a reader holding an old snapshot, a program writing through no such engine):
# the WAL never grows without bound. A checkpoint copies each page changed since the last
# once, whatever the number of commits that changed it (a note's write changes the same
# few index and table pages as the one before), and syncs what it copied: every 256
# commits it cost a write about half what it did every 64 (measured, write_class_two_workers
# of tests/load/profile_requests.py). A note's commit adds about fourteen pages to the
# WAL: two workers' counters, out of step, let it reach some 7,000 pages (28 MB) before one
# of them checkpoints; the backstop is above that.
CHECKPOINT_EVERY = 256
WAL_AUTOCHECKPOINT_PAGES = 10_000
_commits_since_checkpoint = 0
_checkpoint_count_guard = threading.Lock()


def _checkpoint_now_and_then(connection) -> None:
    """After a write transaction's COMMIT (its lock let go): a PASSIVE checkpoint, every
    CHECKPOINT_EVERY of them in this process. Never an error: the write is committed, and
    the next checkpoint (or SQLite's own) does what this one could not."""
    global _commits_since_checkpoint
    with _checkpoint_count_guard:
        _commits_since_checkpoint += 1
        if _commits_since_checkpoint < CHECKPOINT_EVERY:
            return
        _commits_since_checkpoint = 0
    with contextlib.suppress(sqlite3.Error):
        cursor = connection.cursor()  # no transaction is open: the COMMIT ended it
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            cursor.close()


# Execution options of a connection whose write transactions do not wait for the other
# writers' turn (the health check: it waits for SQLite's lock a short while only).
NO_WRITER_LOCK = {"writer_lock": False}
_writer_locks: dict[str, WriterLock] = {}
_writer_locks_guard = threading.Lock()


def writer_lock_for(path: str, timeout: float) -> WriterLock:
    """The one WriterLock of this process for a SQLite file, whichever engine asks: a
    thread holding it through one engine does not then wait for itself through another."""
    key = os.path.realpath(path)
    with _writer_locks_guard:
        found = _writer_locks.get(key)
        if found is None:
            found = _writer_locks[key] = WriterLock(f"{key}.writer-lock", timeout)
        return found


def _open_lock_file(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:  # made by another user: reading it is enough to lock
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


class WriterLock:
    """Writers to one SQLite file take turns through an OS lock beside it (flock).

    SQLite's own write lock makes a writer that finds it taken sleep in steps (1, 2, 5,
    10, 15, 20, 25 ms and more) and try again, so with two processes writing, the lock
    often sits free while the other one sleeps. A writer here waits for this lock first,
    before its BEGIN IMMEDIATE, and goes on as soon as the other process lets go of it
    (a blocking flock, in a thread of its own: see _LockWaiter); SQLite's lock is then
    free. Past the busy timeout it goes on to SQLite's busy wait (and so, under lasting
    contention, to the 503 that says to try again).

    Only what takes SQLite's write lock takes it (reads never do), and it adds no
    guarantee: SQLite's lock still keeps writers apart, so a program writing without it
    (the CLI, a backup) is only waited for as before.

    The lock never outlives the transaction: it is released right after its COMMIT or
    ROLLBACK, when BEGIN fails, and when the connection is closed, invalidated or goes
    back to the pool; a process that dies drops it with its file descriptors, and a
    forked child starts without it. Within a process a thread lock lets one thread at a
    time ask for it; a thread that holds it and begins a second write transaction on
    another connection does not wait for itself (it goes on to SQLite's busy wait, as
    before). Where the file cannot be opened (a read-only folder) writers go without it."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._threads = threading.Lock()
        self._holder: int | None = None  # the thread whose transaction holds it
        self._fd: int | None = None
        self._held_fd: int | None = None  # the descriptor holding it: _fd or the waiter's
        self._waiter: _LockWaiter | None = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = _open_lock_file(self.path)
        return self._fd

    def acquire(self) -> bool:
        """Wait for the lock, at most the busy timeout; False (go on without it, to
        SQLite's own busy wait) when this thread holds it already, the wait times out or
        the file cannot be opened."""
        if self._holder == threading.get_ident():
            return False
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        try:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:  # the turn of this process's other writers took it all
                    self._threads.release()
                    return False
                if self._waiter is None:
                    self._waiter = _LockWaiter(self.path)
                fd = self._waiter.wait(left)
                if fd is None:
                    self._threads.release()
                    return False
        except OSError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        self._held_fd = fd
        self._holder = threading.get_ident()
        return True

    def release(self) -> None:
        self._holder = None
        fd, self._held_fd = self._held_fd, None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's file (and its lock, held or not) stays the
        parent's. Closing the child's copy of a descriptor leaves the parent's lock. The
        waiter's thread was not forked: a new one is started when needed."""
        for fd in {self._fd, self._waiter.fd if self._waiter else None} - {None}:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = None
        self._held_fd = None
        self._waiter = None
        self._holder = None
        self._threads = threading.Lock()


class _LockWaiter:
    """A thread that waits for the writers' lock in a blocking flock, on a descriptor of
    its own, for the writer whose first try found it taken.

    A blocking flock wakes the moment the other process lets go, where a wait polled in
    sleeps (the lock sits free until the next try) can only guess; but it cannot time
    out, and a writer kept waiting past the busy timeout must get its 503. So the writer
    waits for this thread at most until its deadline. A wait given up is not taken back
    in the kernel: when the thread gets the lock for a writer that left, it lets go of it
    at once, before it takes the next request. The descriptor is its own (another open
    file), so that its lock and the writer's own quick try exclude each other as two
    processes' would: a late grant never adds to, or takes away, a lock held through the
    other descriptor."""

    def __init__(self, path: str) -> None:
        self.fd = _open_lock_file(path)
        self._requests: queue.SimpleQueue[_LockRequest] = queue.SimpleQueue()
        thread = threading.Thread(target=self._run, name="writer-lock-waiter", daemon=True)
        thread.start()

    def wait(self, timeout: float) -> int | None:
        """The descriptor now holding the lock, or None when `timeout` seconds passed
        first (or flock failed)."""
        request = _LockRequest()
        self._requests.put(request)
        try:
            request.answered.wait(max(timeout, 0))
        except BaseException:
            # Interrupted: nobody will hold it for this writer, nor let go of it after.
            with request.guard:
                request.abandoned = True
                if request.granted:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
            raise
        with request.guard:
            if request.granted:
                return self.fd
            request.abandoned = True
            return None

    def _run(self) -> None:
        while True:
            request = self._requests.get()
            with request.guard:
                if request.abandoned:  # given up already: no turn taken for nobody
                    continue
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except OSError:
                request.answered.set()  # not granted: the writer goes on without it
                continue
            with request.guard:
                if request.abandoned:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                else:
                    request.granted = True
            request.answered.set()


class _LockRequest:
    __slots__ = ("guard", "answered", "granted", "abandoned")

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.answered = threading.Event()
        self.granted = False
        self.abandoned = False


def _forget_writer_locks_after_fork() -> None:
    global _writer_locks_guard, _checkpoint_count_guard, _commits_since_checkpoint
    # A thread of the parent may have held these at the fork: the child's copies are new.
    _writer_locks_guard = threading.Lock()
    _checkpoint_count_guard = threading.Lock()
    _commits_since_checkpoint = 0
    _writer_lock_holders.clear()
    for writers in _writer_locks.values():
        writers.forget_after_fork()


os.register_at_fork(after_in_child=_forget_writer_locks_after_fork)


def drop_read_only_connections(engine: Engine) -> None:
    """A repaired database costs no restart and no refused write.

    A connection opened while the SQLite file (or the PostgreSQL database) was read-only
    stays read-only after the operator fixes it. So such a connection serves one request
    and is closed: each request opens its own, which sees the database as it is now, and
    reads keep working meanwhile. A connection refused a write as read-only is dropped too.
    Connections opened writable are pooled as usual, with no check at all."""
    path = sqlite_file(engine)

    @event.listens_for(engine, "connect")
    def _note_read_only(dbapi_connection, record) -> None:
        if engine.dialect.name == "sqlite":
            # Not writable for this process (permissions, a read-only mount): SQLite then
            # opens the file, or its WAL's shared memory, read-only, silently.
            record.info["read_only"] = path is not None and not _writable(path)
        elif engine.dialect.name == "postgresql":
            cursor = dbapi_connection.cursor()
            cursor.execute("SHOW transaction_read_only")  # a standby, or set read-only
            record.info["read_only"] = cursor.fetchone()[0] == "on"
            cursor.close()
            dbapi_connection.rollback()

    @event.listens_for(engine, "checkout")
    def _once_if_read_only(_dbapi_connection, record, _proxy) -> None:
        if record.info.get("read_only") and record.info.get("used"):
            raise exc.DisconnectionError("opened while the database was read-only")
        record.info["used"] = True  # cleared when the connection is closed or replaced

    @event.listens_for(engine, "handle_error")
    def _read_only(context) -> None:
        if _driver_kind(context.original_exception) == READ_ONLY:
            global _read_only_faults
            _read_only_faults += 1  # the readers kept for fetch_one are opened again too
            context.is_disconnect = True  # close it: the next one may be writable
            context.invalidate_pool_on_disconnect = False
            # SQLAlchemy leaves a disconnected cursor open. Its statement would keep the
            # SQLite file open underneath, and with it the read-only shared memory that
            # every new connection in this process to the same file then uses.
            if (cursor := getattr(context.execution_context, "cursor", None)) is not None:
                with contextlib.suppress(Exception):
                    cursor.close()


def _writable(path: str) -> bool:
    shm = f"{path}-shm"
    return os.access(path, os.W_OK) and (not os.path.exists(shm) or os.access(shm, os.W_OK))


class DatabaseFileError(Exception):
    """The SQLite file this process writes to was deleted or replaced under it."""


DATABASE_FILE_GONE = (
    "the database file {path} was deleted or replaced while the server ran; "
    "restore it (flask --app webapp restore) or restart the server"
)


def sqlite_file(engine: Engine) -> str | None:
    """The path of the engine's SQLite file (also for a `file:` URI), or None."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    if engine.url.query.get("uri") == "true" and path.startswith("file:"):
        path = path.removeprefix("file:")
        if path.startswith("//"):  # file://host/path: only the empty host is local
            path = path[2:]
    return path.split("?", 1)[0]


def file_identity(path: str) -> tuple[int, int] | None:
    """The (device, inode) of the file at `path` now, or None when there is none."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def guard_sqlite_file(engine: Engine) -> None:
    """Never acknowledge a write into a SQLite file that is no longer the one at its path.

    A deleted or replaced file stays open, readable and writable through the connections
    that opened it: every write would succeed into a file nobody will read again. So each
    connection remembers the device and inode of the file it opened, and each write
    transaction compares them with the path's (one os.stat). A mismatch refuses the write
    with DatabaseFileError and drops the pooled connections, so that the next request
    opens the file that is there now. A missing file is not silently created again once
    this process has opened it (the first connection may create it: `flask init` on a
    fresh install).
    """
    path = sqlite_file(engine)
    if path is None:
        return
    opened = False

    @event.listens_for(engine, "do_connect")
    def _refuse_to_recreate(_dialect, _record, _cargs, _cparams):
        if opened and not os.path.exists(path):
            raise DatabaseFileError(DATABASE_FILE_GONE.format(path=path))

    @event.listens_for(engine, "connect")
    def _remember_file(_dbapi_connection, record):
        nonlocal opened
        opened = True
        record.info["file_identity"] = file_identity(path)

    @event.listens_for(engine, "begin")
    def _check_file(connection):
        if not write_intent.get():
            return
        if connection.connection.info.get("file_identity") != file_identity(path):
            connection.invalidate()
            engine.dispose()
            raise DatabaseFileError(DATABASE_FILE_GONE.format(path=path))
