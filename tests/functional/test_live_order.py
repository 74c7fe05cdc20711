"""Live updates never skip a change, whatever order concurrent writers commit in.

A poller follows the changes endpoint's cursor over HTTP (the Flask test client) while
writers in other threads, each with a connection of its own, commit notes; one of them
holds its transaction open while the others commit. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
import re
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import event

from tests.conftest import PASSWORD, SEED_SLUG, copy_database, make_config
from tests.support.postgres import throwaway_database
from webapp import create_app
from webapp.database import write_intent
from webapp.extensions import db
from webapp.models import Change, Document
from webapp.services.accounts import create_user, find_user
from webapp.services.annotations import create_annotation
from webapp.services.classes import assign, create_class, join_class

DEADLINE = 30  # s: only ever reached when something is broken


class World:
    """An app on its own database with a class reading the seed: a writer and a reader."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.dialect = db.engine.dialect.name
            text = self.document(db.session).current_version.text
        self.spans = [m.span() for m in re.finditer(r"\w{5,}", text)]

        def set_up(session):
            teacher, writer, reader = (
                create_user(session, name, PASSWORD) for name in ("teacher", "writer", "reader")
            )
            classroom = create_class(session, teacher, "Order")
            for student in (writer, reader):
                join_class(session, student, classroom.join_code)
            assign(session, classroom, self.document(session), None)
            return classroom.id

        self.classroom_id = self.write(set_up)
        self.url = f"/articles/{SEED_SLUG}?context=class-{self.classroom_id}"

    def document(self, session):
        return session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))

    def write(self, work):
        """Run work(session) in a write transaction of its own and commit it."""
        token = write_intent.set(True)
        try:
            with self.app.app_context():
                result = work(db.session)
                db.session.commit()
                return result
        finally:
            write_intent.reset(token)

    def note(self, session, n: int):
        """The class note number n (on the n-th long word), flushed: it has its id."""
        version = self.document(session).current_version
        start, end = self.spans[n % len(self.spans)]
        form = {
            "start": str(start),
            "end": str(end),
            "exact": version.text[start:end],
            "body": f"note {n}",
            "intent": "comment",
            "audience": f"class-{self.classroom_id}",
        }
        return create_annotation(session, find_user(session, "writer"), version, form)


class Poller:
    """The reader's sidebar: polls the changes endpoint and follows its cursor."""

    def __init__(self, world: World):
        self.world = world
        self.client = world.app.test_client()
        response = self.client.post("/login", data={"username": "reader", "password": PASSWORD})
        assert response.status_code == 302
        page = self.client.get(world.url).get_data(as_text=True)
        self.cursor = int(re.search(r'id="live"[^>]*cursor=(\d+)', page).group(1))
        self.on_page = {int(i) for i in re.findall(r'id="annotation-(\d+)"', page)}
        self.seen: set[int] = set()

    def poll(self) -> set[int]:
        response = self.client.get(
            f"/articles/{SEED_SLUG}/changes?cursor={self.cursor}"
            f"&context=class-{self.world.classroom_id}",
            headers={"HX-Request": "true"},
        )
        if response.status_code == 204:
            return set()
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_data(as_text=True)
        self.cursor = int(re.search(r'id="live"[^>]*cursor=(\d+)', body).group(1))
        ids = {int(i) for i in re.findall(r'id="annotation-(\d+)"', body)}
        self.seen |= ids
        return ids

    def catch_up(self) -> None:
        """Poll until an empty answer (everything is committed by now)."""
        for _ in range(100):
            if not self.poll():
                return
        raise AssertionError("the poll never ran dry")


class Writer(threading.Thread):
    """Writes one note in a transaction of its own; `hold` keeps it open until released:
    "before-commit" with everything flushed, "in-commit" after its change took its place
    in the log."""

    def __init__(self, world: World, n: int, hold: str | None = None):
        super().__init__(daemon=True)
        self.world, self.n, self.hold = world, n, hold
        self.held, self.release = threading.Event(), threading.Event()
        self.annotation_id: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.world.write(self._work)
        except BaseException as error:  # reported by the test
            self.error = error
            self.held.set()

    def _work(self, session) -> None:
        self.annotation_id = self.world.note(session, self.n).id
        if self.hold == "before-commit":
            session.flush()
            self._wait()
        elif self.hold == "in-commit":
            event.listen(session(), "before_commit", self._in_commit)

    def _in_commit(self, session) -> None:
        # Runs after the app's own before_commit hook: the change has its number now.
        taken = sa.select(Change.seq).where(Change.annotation_id == self.annotation_id)
        assert session.scalar(taken)
        self._wait()

    def _wait(self) -> None:
        self.held.set()
        assert self.release.wait(DEADLINE), "never released"

    def finish(self) -> int:
        self.join(DEADLINE)
        assert not self.is_alive(), "the writer is stuck"
        assert self.error is None, repr(self.error)
        return self.annotation_id


def migrated_app(config: dict):
    app = create_app(config)
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path, migrated_db):
    if request.param == "sqlite":
        copy_database(migrated_db, tmp_path / "test.db")
        app = create_app(make_config(tmp_path))
        yield World(app)
        with app.app_context():
            db.engine.dispose()
        return
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = migrated_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        yield World(app)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("hold", ["before-commit", "in-commit"])
def test_a_write_committed_after_later_ones_still_reaches_the_poller(world, hold):
    poller = Poller(world)
    first = world.write(lambda session: world.note(session, 0).id)
    assert poller.poll() == {first}

    slow = Writer(world, 1, hold=hold)
    slow.start()
    assert slow.held.wait(DEADLINE) and slow.error is None, repr(slow.error)
    fast = [Writer(world, n) for n in range(2, 5)]
    for writer in fast:
        writer.start()
    if world.dialect == "postgresql" and hold == "before-commit":
        # The others commit while the slow one is open: the poller's cursor moves past them.
        fast_ids = {writer.finish() for writer in fast}
        assert poller.poll() == fast_ids
    else:
        # The others wait for the slow one (SQLite's write lock, or its document's change
        # counter): nothing new is visible yet.
        assert poller.poll() == set()

    slow.release.set()
    slow_id = slow.finish()
    fast_ids = {writer.finish() for writer in fast}
    poller.catch_up()
    assert poller.seen == {first, slow_id, *fast_ids}


def test_a_write_while_the_page_loads_is_on_the_page_or_in_the_first_poll(world):
    """The page reads its notes and its cursor in separate queries (on PostgreSQL each
    sees the latest commits): a note committed between them must not fall in the gap."""
    with world.app.app_context():
        engine = db.engine
    written: list[int] = []

    def commit_a_note_first(_conn, _cursor, statement, *_args) -> None:
        if not written and "max(changes." in statement.lower():
            writer = Writer(world, 7)
            writer.start()
            written.append(writer.finish())

    event.listen(engine, "before_cursor_execute", commit_a_note_first)
    try:
        poller = Poller(world)
    finally:
        event.remove(engine, "before_cursor_execute", commit_a_note_first)
    assert written, "the page never asked for its cursor"
    poller.catch_up()
    assert written[0] in poller.on_page | poller.seen


def test_random_concurrent_writers_on_postgresql_miss_nothing_live(tmp_path):
    with throwaway_database() as url:
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        app = migrated_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=uri))
        world = World(app)
        poller = Poller(world)
        rng = random.Random(10)
        stop = threading.Event()
        created: list[int] = []
        errors: list[BaseException] = []

        def write_notes(first: int, count: int, delays: list[float]) -> None:
            def work(session, n, delay):
                annotation_id = world.note(session, n).id
                session.flush()
                stop.wait(delay)  # commit in a shuffled order, not in id order
                return annotation_id

            try:
                for n, delay in zip(range(first, first + count), delays, strict=True):
                    created.append(world.write(lambda s, n=n, d=delay: work(s, n, d)))
            except BaseException as error:
                errors.append(error)

        def follow() -> None:
            try:
                while not stop.is_set():
                    poller.poll()
            except BaseException as error:
                errors.append(error)

        writers = [
            threading.Thread(
                target=write_notes,
                args=(i * 10, 8, [rng.uniform(0, 0.03) for _ in range(8)]),
                daemon=True,
            )
            for i in range(6)
        ]
        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(DEADLINE * 2)
        stop.set()
        follower.join(DEADLINE)
        assert not errors, repr(errors)
        assert len(created) == 48
        polls_before_the_end = set(poller.seen)
        poller.catch_up()
        assert poller.seen == set(created)

        with app.app_context():
            by_seq = db.session.scalars(sa.select(Change.annotation_id).order_by(Change.seq)).all()
            db.session.remove()
            db.engine.dispose()
        out_of_order = sum(a > b for a, b in zip(by_seq, by_seq[1:], strict=False))
        assert out_of_order > 0, "the writers happened to commit in id order: no test"
        assert polls_before_the_end, "the poller saw nothing while the writers ran"
