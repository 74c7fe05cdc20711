"""A note's create reads before it writes: the article, the view, the checks and the
anchoring are read in a plain transaction, and the write lock is taken for the inserts
alone. What changes in between (another worker's commit) is read again under the lock:
a revised or archived article, an archived class, a member removed, an ended login, a
request with the same idempotency key saved meanwhile. Each is a clear answer with
nothing written, or (the key) the note saved first.

Another engine on the same database plays the other worker; it commits right when the
request's read transaction ends. test_write_turn_postgres.py runs the same on PostgreSQL.
"""

# The fixtures come from test_discussion; importing them is how they run here.
# ruff: noqa: F401, F811

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import SEED_SLUG
from tests.functional.helpers import create, select, when_the_reads_end
from tests.functional.test_busy import app_config, other_worker  # a busy timeout of 50 ms
from tests.functional.test_discussion import (
    SECOND,
    as_,
    assert_error,
    body_of,
    class_note,
    room,
    text,
)
from tests.functional.test_reader_shared import blocks_of
from tests.functional.test_scale import statements
from webapp.models import (
    Annotation,
    Change,
    ChangeCounter,
    Classroom,
    Document,
    DocumentVersion,
    LoginSession,
    Membership,
    utcnow,
)
from webapp.reader.shared import MAX_CATCH_UP, views_of
from webapp.services.annotations import REVISED
from webapp.visibility import ARCHIVED


@pytest.fixture
def elsewhere(db):
    """Another worker's connections to the app's database (none of the app's hooks)."""
    engine = sa.create_engine(db.engine.url)
    yield engine
    engine.dispose()


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def class_fields(text, room, **extra) -> dict:
    return {
        **select(text, SECOND),
        "audience": room.key,
        "intent": "comment",
        "body": "Whose base?",
        **extra,
    }


def copy_row(connection, table: sa.Table, row_id: int, **changed) -> int:
    """Insert a copy of a row with some columns changed; its new id."""
    columns = [c for c in table.c if c.name != "id" and c.name not in changed]
    copied = [*columns, *(sa.literal(v) for v in changed.values())]
    source = sa.select(*copied).where(table.c.id == row_id)
    names = [c.name for c in columns] + list(changed)
    connection.execute(sa.insert(table).from_select(names, source))
    return connection.scalar(sa.select(sa.func.max(table.c.id)))


def revise(engine, document_id: int) -> None:
    """A new version of the article (the same text, as an editor's save makes one)."""
    documents, versions = Document.__table__, DocumentVersion.__table__
    with engine.begin() as connection:
        current, number = connection.execute(
            sa.select(versions.c.id, versions.c.number)
            .join(documents, documents.c.current_version_id == versions.c.id)
            .where(documents.c.id == document_id)
        ).one()
        new = copy_row(connection, versions, current, number=number + 1)
        connection.execute(
            sa.update(documents).where(documents.c.id == document_id).values(current_version_id=new)
        )


def run(engine, statement) -> None:
    with engine.begin() as connection:
        connection.execute(statement)


def test_an_article_revised_between_the_read_and_the_write_is_a_409_and_nothing_saved(
    as_, db, text, room, seed_document, elsewhere
):
    ann = as_("ann")
    notes, changes = count(db, Annotation), count(db, Change)
    when_the_reads_end(db, lambda: revise(elsewhere, seed_document.id))
    response = create(ann, class_fields(text, room))
    assert_error(response, 409, REVISED)
    assert count(db, Annotation) == notes
    assert count(db, Change) == changes

    # Read again on the new version, the same note goes through.
    again = create(ann, class_fields(text, room))
    assert again.status_code == 200, body_of(again)
    assert count(db, Annotation) == notes + 1


def test_an_archived_class_or_a_removed_member_between_the_read_and_the_write(
    as_, db, text, room, elsewhere
):
    ann, ben = as_("ann"), as_("ben")
    notes = count(db, Annotation)
    classroom_id, ben_id = room.classroom.id, room.ben.id
    remove_ben = sa.delete(Membership).where(
        Membership.classroom_id == classroom_id, Membership.user_id == ben_id
    )
    archive = sa.update(Classroom).where(Classroom.id == classroom_id).values(archived_at=utcnow())

    when_the_reads_end(db, lambda: run(elsewhere, remove_ben))
    response = create(ben, class_fields(text, room))
    assert_error(response, 422, "You are not a member of that class.")
    when_the_reads_end(db, lambda: run(elsewhere, archive))
    response = create(ann, class_fields(text, room))
    assert_error(response, 403, ARCHIVED)
    assert count(db, Annotation) == notes


def test_a_login_ended_between_the_read_and_the_write_saves_nothing(as_, db, text, room, elsewhere):
    ann = as_("ann")
    notes = count(db, Annotation)
    log_out = sa.delete(LoginSession).where(LoginSession.user_id == room.ann.id)
    when_the_reads_end(db, lambda: run(elsewhere, log_out))
    response = create(ann, class_fields(text, room))
    assert response.status_code == 401, body_of(response)
    assert count(db, Annotation) == notes


def test_the_same_key_saved_meanwhile_is_answered_with_that_note(
    as_, db, text, room, class_note, elsewhere
):
    """Two requests with one idempotency key (a doubled submit): the second finds
    nothing when it reads, the first commits before the second writes. The second is
    answered with the first's note: no second row, no second change."""
    ann = as_("ann")
    sent, copied = str(uuid.uuid4()), class_note.id

    def first_request_saves_it() -> None:
        # The first request's note: ann's note copied under the key (what it saved).
        with elsewhere.begin() as connection:
            copy_row(connection, Annotation.__table__, copied, idempotency_key=sent)

    changes = count(db, Change)
    when_the_reads_end(db, first_request_saves_it)
    response = create(ann, class_fields(text, room, idempotency_key=sent))
    assert response.status_code == 200, body_of(response)
    [saved] = db.session.scalars(
        sa.select(Annotation.id).where(
            Annotation.author_id == room.ann.id, Annotation.idempotency_key == sent
        )
    ).all()
    assert f'"id": {saved}' in response.headers["HX-Trigger"]
    assert count(db, Change) == changes


def test_the_reads_do_not_wait_for_another_writer(as_, db, text, room, other_worker):
    """SQLite: another worker holds the write lock while the request reads (longer than the busy
    timeout would allow a writer to wait) and lets it go when the reads are done."""
    ann = as_("ann")
    notes = count(db, Annotation)
    db.session.rollback()
    other_worker.execute("BEGIN IMMEDIATE")
    when_the_reads_end(db, lambda: other_worker.execute("ROLLBACK"))
    response = create(ann, class_fields(text, room))
    assert response.status_code == 200, body_of(response)
    assert count(db, Annotation) == notes + 1


def test_the_rate_limit_is_counted_with_the_write(app, as_, db, text, room):
    ann = as_("ann")
    sent = str(uuid.uuid4())
    app.config["WRITES_PER_MINUTE"] = 1
    first = create(ann, class_fields(text, room, idempotency_key=sent))
    assert first.status_code == 200, body_of(first)
    notes = count(db, Annotation)
    # The same request again is answered (no new write); a new note is one too many.
    assert create(ann, class_fields(text, room, idempotency_key=sent)).status_code == 200
    assert_error(create(ann, class_fields(text, room)), 429, "saving notes very fast")
    assert count(db, Annotation) == notes


def private_fields(text, phrase: str, **extra) -> dict:
    return {
        **select(text, phrase),
        "audience": "private",
        "context": "private",
        "intent": "comment",
        "body": "Mine",
        **extra,
    }


def private_blocks(client) -> dict[str, str]:
    page = client.get(f"/articles/{SEED_SLUG}", query_string={"context": "private"})
    return blocks_of(page.get_data(as_text=True))


def log_change(connection, document_id, classroom_id, annotation_id, actor_id, kind) -> None:
    """A change in the document's log, its seq the counter's next (as record_change's)."""
    seq = connection.scalar(
        sa.update(ChangeCounter.__table__)
        .where(ChangeCounter.document_id == document_id)
        .values(last_seq=ChangeCounter.last_seq + 1)
        .returning(ChangeCounter.last_seq)
    )
    connection.execute(
        sa.insert(Change.__table__).values(
            document_id=document_id,
            seq=seq,
            classroom_id=classroom_id,
            annotation_id=annotation_id,
            actor_id=actor_id,
            kind=kind,
            created_at=utcnow(),
        )
    )


def save_note_meanwhile(
    engine, note_id: int, author_id: int, document_id: int, classroom_id: int | None = None
) -> None:
    """Another worker saves a copy of a note (by `author_id`, in green, a character shorter:
    the innermost, its colour on top) and logs it, as another tab's or writer's create
    would."""
    table = Annotation.__table__
    with engine.begin() as connection:
        start = connection.scalar(sa.select(table.c.start).where(table.c.id == note_id))
        copied = copy_row(
            connection, table, note_id, colour="green", start=start + 1, author_id=author_id
        )
        log_change(connection, document_id, classroom_id, copied, author_id, "created")


def test_a_private_notes_answer_draws_its_blocks_as_the_page_shows_them(
    as_, db, text, room, seed_document, elsewhere
):
    """One's private marks over the blocks the answer draws are read before the write; a
    note of one's own saved meanwhile (another tab) is in the log between them, and the
    answer reads the marks again after its commit: in both, the blocks are the page's."""
    ann = as_("ann")
    first = create(ann, private_fields(text, SECOND))
    assert first.status_code == 200, body_of(first)
    drawn = blocks_of(body_of(first))
    assert drawn and all(html == private_blocks(ann)[key] for key, html in drawn.items())

    mine = db.session.scalar(
        sa.select(Annotation.id)
        .where(Annotation.author_id == room.ann.id)
        .order_by(Annotation.id.desc())
    )
    ann_id, document_id = room.ann.id, seed_document.id
    when_the_reads_end(db, lambda: save_note_meanwhile(elsewhere, mine, ann_id, document_id))
    second = create(ann, private_fields(text, SECOND, colour="blue"))
    assert second.status_code == 200, body_of(second)
    drawn = blocks_of(body_of(second))
    page = private_blocks(ann)
    assert drawn and all(html == page[key] for key, html in drawn.items())
    assert any("hl-green" in html for html in drawn.values())  # the note saved meanwhile


def class_blocks_read_alone(app, client, room) -> dict[str, str]:
    """The blocks of the class view's page, drawn with no shared view (a read of its own)."""
    app.config["READER_SHARED_VIEWS"] = False
    try:
        page = client.get(f"/articles/{SEED_SLUG}", query_string={"context": room.key})
    finally:
        app.config["READER_SHARED_VIEWS"] = True
    return blocks_of(page.get_data(as_text=True))


def assert_answer_drawn_as_the_page(app, client, room, response) -> None:
    """The write answered, and each block it draws is the class page's block, read alone."""
    assert response.status_code == 200, body_of(response)
    drawn = blocks_of(body_of(response))
    page = class_blocks_read_alone(app, client, room)
    assert drawn and all(html == page[key] for key, html in drawn.items())


def test_a_class_notes_answer_draws_its_blocks_as_the_page_shows_them(
    app, as_, db, text, room, seed_document, elsewhere
):
    """A student's class view is read before the write (the class's kept view and their own
    rows); a classmate's note saved meanwhile is in the log between them, and the answer
    reads the view again after its commit: in both, the blocks are the page's."""
    ann = as_("ann")
    assert ann.get(f"/articles/{SEED_SLUG}", query_string={"context": room.key}).status_code == 200
    assert_answer_drawn_as_the_page(app, ann, room, create(ann, class_fields(text, room)))

    mine = db.session.scalar(
        sa.select(Annotation.id)
        .where(Annotation.author_id == room.ann.id)
        .order_by(Annotation.id.desc())
    )
    ben_id, classroom_id, document_id = room.ben.id, room.classroom.id, seed_document.id
    when_the_reads_end(
        db, lambda: save_note_meanwhile(elsewhere, mine, ben_id, document_id, classroom_id)
    )
    second = create(ann, class_fields(text, room, colour="blue"))
    assert_answer_drawn_as_the_page(app, ann, room, second)
    assert count(db, Annotation, Annotation.author_id == ben_id) == 1  # ben's, meanwhile


def hide_note_meanwhile(engine, note_id: int, actor_id: int, document_id: int, classroom_id: int):
    """An instructor hides a note from the class in another worker, and it is logged, as
    the discussion's hide is."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(Annotation.__table__).where(Annotation.id == note_id).values(hidden=True)
        )
        log_change(connection, document_id, classroom_id, note_id, actor_id, "hidden")


def test_a_classmates_note_hidden_meanwhile_is_not_in_a_class_notes_answer(
    app, as_, db, text, room, seed_document, elsewhere
):
    """A classmate's note over the same passage is hidden between a student's reads and
    their write: the answer, drawn again after its commit, shows the blocks as the page
    does now, without the hidden note's mark."""
    ben = as_("ben")
    assert create(ben, class_fields(text, room)).status_code == 200
    bens = db.session.scalar(sa.select(Annotation.id).where(Annotation.author_id == room.ben.id))
    ann = as_("ann")  # the class's kept view, ben's note in it
    assert ann.get(f"/articles/{SEED_SLUG}", query_string={"context": room.key}).status_code == 200

    teacher_id, classroom_id, document_id = room.teacher.id, room.classroom.id, seed_document.id
    when_the_reads_end(
        db, lambda: hide_note_meanwhile(elsewhere, bens, teacher_id, document_id, classroom_id)
    )
    response = create(ann, class_fields(text, room, colour="blue"))
    assert_answer_drawn_as_the_page(app, ann, room, response)


def reads_around_the_write(seen) -> tuple[list[str], str]:
    """The SELECTs a create ran after taking the write lock, and its last statement."""
    texts = [" ".join(statement.split()) for statement, _ in seen]
    locked = next(k for k, s in enumerate(texts) if s.startswith("BEGIN IMMEDIATE"))
    return [s[:70] for s in texts[locked:] if s.startswith("SELECT")], texts[-1]


# A gunicorn sync worker (one request at a time): the kept class view is changed in place.
# The test client otherwise says nothing of its server: the view is copied, as for a
# threaded one (webapp/reader/state.py one_request_at_a_time).
AS_GUNICORN_SYNC = {"SERVER_SOFTWARE": "gunicorn/test", "wsgi.multithread": False}


def reader_with_a_class_note(as_, db, text, room, server: str):
    """ann, served as `server` serves, with the class's view kept (her page read) and a
    class note of hers: (her client, the note's id)."""
    ann = as_("ann")
    if server == "gunicorn sync":
        ann.environ_base.update(AS_GUNICORN_SYNC)
    assert ann.get(f"/articles/{SEED_SLUG}", query_string={"context": room.key}).status_code == 200
    assert create(ann, class_fields(text, room)).status_code == 200
    mine = db.session.scalar(
        sa.select(Annotation.id)
        .where(Annotation.author_id == room.ann.id)
        .order_by(Annotation.id.desc())
    )
    return ann, mine


@pytest.mark.parametrize("server", ["threaded", "gunicorn sync"])
def test_others_writes_meanwhile_are_read_under_the_lock_and_nothing_after_the_commit(
    app, as_, db, text, room, seed_document, elsewhere, server
):
    """SQLite: a classmate's note saved between a student's reads and their write is read
    under the write lock (the kept class view brought to it, with the check) and the
    answer's blocks are the page's: nothing is read after the commit. A private note's
    answer is not read again at all for another's note saved meanwhile (it cannot show in
    one's private view), and under the lock for one's own (another tab's). Whether the kept
    view is copied or changed in place, the page and the answer are the same."""
    ann, mine = reader_with_a_class_note(as_, db, text, room, server)
    ann_id, ben_id = room.ann.id, room.ben.id
    classroom_id, document_id = room.classroom.id, seed_document.id

    kept = views_of(app.extensions)
    for turn in range(2):  # the second: the view kept after the first, brought up to date
        before = set(map(id, kept._entries.values()))
        when_the_reads_end(
            db, lambda: save_note_meanwhile(elsewhere, mine, ben_id, document_id, classroom_id)
        )
        with statements(db) as seen:
            response = create(ann, class_fields(text, room, colour="blue"))
        assert_answer_drawn_as_the_page(app, ann, room, response)
        locked, last = reads_around_the_write(seen)
        assert len(locked) == 2, locked  # the check, and the view brought to ben's note
        assert last.startswith("INSERT INTO changes"), last  # the commit's: no read after it
        if turn:  # changed in place: the same object kept; else a copy in its place
            same = set(map(id, kept._entries.values())) == before
            assert same == (server == "gunicorn sync")

    assert create(ann, private_fields(text, SECOND)).status_code == 200
    private = db.session.scalar(
        sa.select(Annotation.id)
        .where(Annotation.author_id == ann_id, Annotation.classroom_id.is_(None))
        .order_by(Annotation.id.desc())
    )
    for author_id, reads in ((ben_id, 1), (ann_id, 2)):  # another's; one's own (another tab)
        when_the_reads_end(
            db,
            lambda author_id=author_id: save_note_meanwhile(
                elsewhere, private, author_id, document_id
            ),
        )
        with statements(db) as seen:
            response = create(ann, private_fields(text, SECOND, colour="blue"))
        assert response.status_code == 200, body_of(response)
        drawn = blocks_of(body_of(response))
        page = private_blocks(ann)
        assert drawn and all(html == page[key] for key, html in drawn.items())
        # One's own note saved meanwhile (green, the innermost) shows; another's cannot.
        assert any("hl-green" in html for html in drawn.values()) == (author_id == ann_id)
        locked, last = reads_around_the_write(seen)
        assert len(locked) == reads, locked  # the check; one's marks again for one's own
        assert last.startswith("INSERT INTO changes"), last


@pytest.mark.parametrize("server", ["threaded", "gunicorn sync"])
def test_a_kept_view_too_far_behind_is_read_again_once_by_a_write_and_kept(
    app, as_, db, text, room, seed_document, elsewhere, server
):
    """The other workers made more of the class's changes than a kept class view catches
    up with (this one served none of them): the next write here reads the view afresh,
    once, before its write lock, and keeps it; the write after it catches up from there.
    Neither reads anything after its commit, and both answers are the page's blocks."""
    ann, mine = reader_with_a_class_note(as_, db, text, room, server)
    ben_id, classroom_id, document_id = room.ben.id, room.classroom.id, seed_document.id
    kept = views_of(app.extensions)
    (behind,) = [view.seq for view in kept._entries.values()]
    for _ in range(MAX_CATCH_UP + 1):
        save_note_meanwhile(elsewhere, mine, ben_id, document_id, classroom_id)
    db.session.rollback()  # (the test's own snapshot ends: the other worker's are seen)
    latest = db.session.scalar(
        sa.select(sa.func.max(Change.seq)).where(Change.document_id == document_id)
    )
    assert latest - behind > MAX_CATCH_UP

    for turn in range(2):
        with statements(db) as seen:
            response = create(ann, class_fields(text, room, colour="blue"))
        assert_answer_drawn_as_the_page(app, ann, room, response)
        locked, last = reads_around_the_write(seen)
        assert locked == [locked[0]], locked  # the check alone: the view was read before
        assert last.startswith("INSERT INTO changes"), last  # nothing read after the commit
        reads = [s for s, _ in seen if " ".join(s.split()).startswith("SELECT")]
        full_reads = [s for s in reads if "annotations.document_id = ?" in s and "seq" not in s]
        # The first write reads the class's rows and the writer's own (each by the
        # article alone); the second only the change its own write made since, with the
        # writer's own, in one statement by the change log.
        assert bool(full_reads) == (turn == 0), reads
        (now,) = [view.seq for view in kept._entries.values()]
        assert now >= latest + turn  # kept: read at the log's end, then caught up


def test_a_kept_view_left_too_far_behind_at_the_lock_is_read_after_the_commit(
    app, as_, db, text, room, seed_document, elsewhere
):
    """More of the class's changes than a kept view catches up with are made between a
    write's reads and its lock: the class's rows are not read under the lock (the other
    writers would wait for them) but after the commit, and kept; the answer is the page's."""
    ann, mine = reader_with_a_class_note(as_, db, text, room, "gunicorn sync")
    ben_id, classroom_id, document_id = room.ben.id, room.classroom.id, seed_document.id

    def many_meanwhile():
        for _ in range(MAX_CATCH_UP + 1):
            save_note_meanwhile(elsewhere, mine, ben_id, document_id, classroom_id)

    when_the_reads_end(db, many_meanwhile)
    with statements(db) as seen:
        response = create(ann, class_fields(text, room, colour="blue"))
    assert_answer_drawn_as_the_page(app, ann, room, response)
    texts = [" ".join(statement.split()) for statement, _ in seen]
    locked = next(k for k, s in enumerate(texts) if s.startswith("BEGIN IMMEDIATE"))
    committed = next(k for k, s in enumerate(texts) if s.startswith("INSERT INTO changes"))
    assert [s for s in texts[locked:committed] if s.startswith("SELECT")] == [
        s for s in texts[locked:committed] if s.startswith("SELECT documents.current_version_id")
    ]  # the check alone under the lock
    assert any(s.startswith("SELECT") for s in texts[committed:])  # the view, after it
    db.session.rollback()
    latest = db.session.scalar(
        sa.select(sa.func.max(Change.seq)).where(Change.document_id == document_id)
    )
    (kept,) = [view.seq for view in views_of(app.extensions)._entries.values()]
    assert kept == latest  # read afresh after the commit, and kept
