"""The benchmark's corpus, written straight into the database with SQLAlchemy Core.

A class of N members reads the seed article and has left notes on it (some with replies,
tags, votes, questions); a second class reads it with no notes; an article of the same
text has no notes at all. Everything comes from one seeded random generator, so two
builds with the same sizes hold the same rows with the same ids. Rows go in by
executemany in large transactions: a million notes take about a minute on SQLite.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, SEED_SLUG
from webapp import models
from webapp.database import configure_engine, write_intent
from webapp.models import (
    Annotation,
    AnnotationTag,
    Assignment,
    Change,
    Classroom,
    Document,
    DocumentVersion,
    Membership,
    Reply,
    Role,
    User,
    Vote,
    utcnow,
)
from webapp.services.annotations import COLOURS
from webapp.services.documents import import_article
from webapp.text.anchoring import anchor_at
from webapp.text.sanitize import render_comment

SEED = 11  # every random choice in the corpus follows from this
TAGS = ("sources", "bias", "syria", "russia", "military", "evidence", "context", "timeline")
BATCH = 20_000  # rows per executemany
ROWS_PER_TRANSACTION = 200_000
EMPTY_ARTICLE_SOURCE = "bench-empty-article.md"
EMPTY_ARTICLE_TITLE = "Bench copy of the seed article, with no notes"


class ProgressBar:
    """Percentages on stderr: one line rewritten with \\r on a terminal, else a line per 10 %."""

    WIDTH = 20  # characters of bar, whatever the terminal's width

    def __init__(self, label: str, total: int, stream: TextIO | None = None):
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.shown = -1  # the last percentage (terminal) or tenth (log) written

    def update(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        step = percent if self.tty else percent // 10 * 10
        if step <= self.shown:
            return
        self.shown = step
        filled = step * self.WIDTH // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {step:3d} %"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if percent == 100 else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.update(self.total)


def connect(url: str) -> Engine:
    """An engine on the app's database with the app's own SQLite settings."""
    engine = sa.create_engine(url)
    configure_engine(engine)
    write_intent.set(True)  # the harness writes: take SQLite's lock up front
    return engine


def fix_sequences(engine: Engine, tables: list[sa.Table]) -> None:
    """PostgreSQL: move id sequences past the ids given explicitly, so the app's own
    inserts do not collide with them. SQLite needs nothing."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )


def next_id(connection: sa.Connection, table: sa.Table) -> int:
    return (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def insert(connection: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    for at in range(0, len(rows), BATCH):
        connection.execute(table.insert(), rows[at : at + BATCH])


@dataclass
class Corpus:
    """What the benchmark needs to know about the rows it built."""

    slug: str
    document_id: int
    version_id: int
    text: str
    empty_slug: str
    empty_document_id: int
    empty_version_id: int
    empty_text: str
    classroom_id: int
    quiet_classroom_id: int
    usernames: list[str]  # the students, in order
    notes: int
    replies: int
    replied: int  # notes with at least one reply
    votes: int
    tagged: int
    members: int

    @property
    def reader(self) -> str:
        """The student whose page is measured (and who polls)."""
        return self.usernames[0]

    @property
    def browser_user(self) -> str:
        """The student the browser logs in as: a member of both classes."""
        return self.usernames[1]

    def writers(self, count: int) -> list[str]:
        return self.usernames[2 : 2 + count]


def words_of(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def passage(rng: random.Random, words: list[tuple[int, int]], longest: int = 36):
    """1 to `longest` words, (start, end) in code points, starting and ending up to two
    characters inside a word, as a mouse drag does. At 2,000 notes on the seed article this
    gives a page close to the one issue 11 measured (about 860 KiB, 150,000 listed ids)."""
    while True:
        first = rng.randrange(len(words))
        last = min(len(words) - 1, first + rng.randrange(longest))
        (start, first_end), (last_start, end) = words[first], words[last]
        start += rng.randrange(min(3, first_end - start))
        end -= rng.randrange(min(3, end - last_start))
        if end > start:
            return start, end


def comment(rng: random.Random, vocabulary: list[str]) -> str:
    words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 40))]
    at = rng.randrange(len(words))
    words[at] = f"*{words[at]}*"
    text = " ".join(words)
    if rng.random() < 0.2:
        text += "\n\nSee the paragraph above: **" + rng.choice(vocabulary) + "**."
    return text[0].upper() + text[1:] + rng.choice((".", "?", "!"))


def password_hash() -> str:
    """One hash for every bench account (hashing 300 passwords would take a minute)."""
    user = User()
    user.set_password(PASSWORD)
    return user.password_hash


def note_row(
    rng: random.Random,
    note_id: int,
    document_id: int,
    version_id: int,
    text: str,
    words: list[tuple[int, int]],
    author_id: int,
    classroom_id: int | None,
    created: datetime,
    body: tuple[str, str],
) -> dict:
    start, end = passage(rng, words)
    anchor = anchor_at(text, start, end)
    return {
        "id": note_id,
        "document_id": document_id,
        "version_id": version_id,
        "author_id": author_id,
        "classroom_id": classroom_id,
        "start": anchor.start,
        "end": anchor.end,
        "exact": anchor.exact,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "colour": rng.choice(COLOURS),
        "body_markdown": body[0],
        "body_html": body[1],
        "created_at": created,
        "updated_at": created,
        "deleted_at": None,
        "hidden": False,
        "hidden_reason": None,
        "pinned": False,
        "is_question": False,
        "answered_at": None,
        "answered_by_id": None,
    }


def change_row(change_id, document_id, classroom_id, annotation_id, actor_id, kind, created):
    return {
        "id": change_id,
        "document_id": document_id,
        "classroom_id": classroom_id,
        "annotation_id": annotation_id,
        "actor_id": actor_id,
        "kind": kind,
        "created_at": created,
    }


def add_users(connection, names: list[str], hashed: str, created: datetime) -> list[int]:
    first = next_id(connection, User.__table__)
    rows = []
    for i, name in enumerate(names):
        # Built by the model, so what it derives from a username comes along.
        user = User(username=name)
        row = {
            column.key: getattr(user, column.key)
            for column in User.__table__.columns
            if getattr(user, column.key, None) is not None
        }
        rows.append({**row, "id": first + i, "password_hash": hashed, "created_at": created})
    insert(connection, User.__table__, rows)
    return [row["id"] for row in rows]


def add_changes(connection, changes: list[dict]) -> None:
    """Insert change-log rows. Where the log counts per document (`seq`, the cursor a
    sidebar polls with, and its counter row), number them after the last one."""
    table = Change.__table__
    if "seq" in table.c:
        by_document: dict[int, list[dict]] = {}
        for row in changes:
            by_document.setdefault(row["document_id"], []).append(row)
        for document_id, rows in by_document.items():
            last = connection.scalar(
                sa.select(sa.func.max(table.c.seq)).where(table.c.document_id == document_id)
            )
            counter = getattr(models, "ChangeCounter", None)
            if counter is not None:
                counters = counter.__table__
                counted = connection.scalar(
                    sa.select(counters.c.last_seq).where(counters.c.document_id == document_id)
                )
                if counted is None:
                    connection.execute(
                        counters.insert(), [{"document_id": document_id, "last_seq": 0}]
                    )
                last = max(last or 0, counted or 0)
            for n, row in enumerate(rows, start=(last or 0) + 1):
                row["seq"] = n
            if counter is not None:
                connection.execute(
                    counters.update()
                    .where(counters.c.document_id == document_id)
                    .values(last_seq=rows[-1]["seq"])
                )
    insert(connection, table, changes)


def add_class(connection, name: str, code: str, instructor_id: int, student_ids, created):
    classroom_id = next_id(connection, Classroom.__table__)
    connection.execute(
        Classroom.__table__.insert(),
        [{"id": classroom_id, "name": name, "join_code": code, "created_at": created}],
    )
    first = next_id(connection, Membership.__table__)
    members = [(instructor_id, Role.INSTRUCTOR.value)] + [
        (user_id, Role.STUDENT.value) for user_id in student_ids
    ]
    insert(
        connection,
        Membership.__table__,
        [
            {
                "id": first + i,
                "classroom_id": classroom_id,
                "user_id": user_id,
                "role": role,
                "joined_at": created,
            }
            for i, (user_id, role) in enumerate(members)
        ],
    )
    return classroom_id


def assign(connection, classroom_id: int, document_id: int, created: datetime) -> None:
    connection.execute(
        Assignment.__table__.insert(),
        [
            {
                "id": next_id(connection, Assignment.__table__),
                "classroom_id": classroom_id,
                "document_id": document_id,
                "due_at": None,
                "created_at": created,
            }
        ],
    )


def import_text(engine: Engine, source: str, source_name: str) -> tuple[str, int, int, str]:
    """Import one article through the app's importer: (slug, document id, version id, text)."""
    with Session(engine) as session:
        result = import_article(session, source, source_name)
        session.commit()
        version = result.document.current_version
        return result.document.slug, result.document.id, version.id, version.text


def seed_article(engine: Engine) -> tuple[int, int, str]:
    documents, versions = Document.__table__, DocumentVersion.__table__
    with engine.connect() as connection:
        return connection.execute(
            sa.select(documents.c.id, versions.c.id, versions.c.text)
            .join(versions, versions.c.id == documents.c.current_version_id)
            .where(documents.c.slug == SEED_SLUG)
        ).one()


def build_class_corpus(
    engine: Engine, notes: int, members: int, progress: ProgressBar | None = None
) -> Corpus:
    """The seed article read by a class of `members` with `notes` class notes on it."""
    rng = random.Random(SEED)
    document_id, version_id, text = seed_article(engine)
    seed_source = (
        f"# {EMPTY_ARTICLE_TITLE}\n\nBy [Bench Desk](#)\n\nJuly 27, 2018\n\n"
        + text.replace("\n", "\n\n")
        + "\n"
    )
    empty_slug, empty_id, empty_version, empty_text = import_text(
        engine, seed_source, EMPTY_ARTICLE_SOURCE
    )
    words = words_of(text)
    vocabulary = [w.strip('".,()') for w in text.split() if w.strip('".,()').isalpha()]
    now = utcnow()
    start_at = now - timedelta(days=30)
    hashed = password_hash()
    progress = progress or ProgressBar("building the corpus", notes)

    with engine.begin() as connection:
        student_names = [f"bench-student-{i:04d}" for i in range(1, members)]
        teacher_id, *student_ids = add_users(
            connection, ["bench-teacher", *student_names], hashed, start_at
        )
        classroom_id = add_class(
            connection, f"Bench class of {members}", "BENCHBIG", teacher_id, student_ids, start_at
        )
        quiet_id = add_class(
            connection,
            "Bench class with no notes",
            "BENCHQET",
            teacher_id,
            student_ids[:2],
            start_at,
        )
        assign(connection, classroom_id, document_id, start_at)
        assign(connection, quiet_id, document_id, start_at)
        member_ids = [teacher_id, *student_ids]

        note_id = next_id(connection, Annotation.__table__)
        reply_id = next_id(connection, Reply.__table__)
        change_id = next_id(connection, Change.__table__)
        tag_id = next_id(connection, AnnotationTag.__table__)
        vote_id = next_id(connection, Vote.__table__)
        stamps = sorted(
            start_at + timedelta(seconds=rng.uniform(0, 29 * 86400)) for _ in range(notes)
        )
        rows, replies, changes, tags, votes = [], [], [], [], []
        for n, created in enumerate(stamps):
            author = rng.choice(member_ids)
            body = comment(rng, vocabulary)
            row = note_row(
                rng,
                note_id,
                document_id,
                version_id,
                text,
                words,
                author,
                classroom_id,
                created,
                (body, render_comment(body)),
            )
            if rng.random() < 0.10:
                row["is_question"] = True
                if rng.random() < 0.5:
                    row["answered_at"] = created + timedelta(hours=1)
                    row["answered_by_id"] = teacher_id
            row["pinned"] = rng.random() < 0.005
            rows.append(row)
            changes.append(
                change_row(
                    change_id, document_id, classroom_id, note_id, author, "created", created
                )
            )
            change_id += 1
            if rng.random() < 0.25:
                for name in rng.sample(TAGS, rng.randint(1, 3)):
                    tags.append({"id": tag_id, "annotation_id": note_id, "name": name})
                    tag_id += 1
            if rng.random() < 0.20:
                parent = None
                for k in range(rng.randint(1, 3)):
                    said = created + timedelta(minutes=10 * (k + 1))
                    replier = rng.choice(member_ids)
                    reply_body = comment(rng, vocabulary)
                    replies.append(
                        {
                            "id": reply_id,
                            "annotation_id": note_id,
                            "parent_id": parent if rng.random() < 0.3 else None,
                            "author_id": replier,
                            "body_markdown": reply_body,
                            "body_html": render_comment(reply_body),
                            "created_at": said,
                            "updated_at": said,
                            "deleted_at": None,
                            "hidden": False,
                            "hidden_reason": None,
                        }
                    )
                    changes.append(
                        change_row(
                            change_id, document_id, classroom_id, note_id, replier, "replied", said
                        )
                    )
                    parent = reply_id
                    reply_id += 1
                    change_id += 1
            if rng.random() < 0.40:
                for voter in rng.sample(member_ids, min(len(member_ids), rng.randint(1, 6))):
                    votes.append(
                        {
                            "id": vote_id,
                            "annotation_id": note_id,
                            "user_id": voter,
                            "created_at": created,
                        }
                    )
                    vote_id += 1
            note_id += 1
            progress.update(n + 1)
        insert(connection, Annotation.__table__, rows)
        insert(connection, Reply.__table__, replies)
        insert(connection, AnnotationTag.__table__, tags)
        insert(connection, Vote.__table__, votes)
        add_changes(connection, in_time_order(changes))
    progress.finish()
    fix_sequences(engine, ALL_TABLES)
    return Corpus(
        slug=SEED_SLUG,
        document_id=document_id,
        version_id=version_id,
        text=text,
        empty_slug=empty_slug,
        empty_document_id=empty_id,
        empty_version_id=empty_version,
        empty_text=empty_text,
        classroom_id=classroom_id,
        quiet_classroom_id=quiet_id,
        usernames=student_names,
        notes=notes,
        replies=len(replies),
        replied=len({r["annotation_id"] for r in replies}),
        votes=len(votes),
        tagged=len({t["annotation_id"] for t in tags}),
        members=members,
    )


ALL_TABLES = [
    User.__table__,
    Classroom.__table__,
    Membership.__table__,
    Assignment.__table__,
    Annotation.__table__,
    Reply.__table__,
    AnnotationTag.__table__,
    Vote.__table__,
    Change.__table__,
]


def in_time_order(changes: list[dict]) -> list[dict]:
    """The change log's ids follow time, as the app's own writes make them."""
    first = min(c["id"] for c in changes) if changes else 0
    changes = sorted(changes, key=lambda c: (c["created_at"], c["id"]))
    for i, row in enumerate(changes):
        row["id"] = first + i
    return changes


def short_article(rng: random.Random, n: int, vocabulary: list[str]) -> str:
    """An article in the seed's shape, a few paragraphs long."""
    title = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 8))).capitalize()
    day = datetime(2000, 1, 1) + timedelta(days=rng.randrange(9000))
    paragraphs = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(30, 80))).capitalize() + "."
        for _ in range(rng.randint(2, 4))
    ]
    return (
        f"# Bench article {n}: {title}\n\nBy [Bench Desk](#)\n\n{day:%B %d, %Y}\n\n"
        + "\n\n".join(paragraphs)
        + f"\n\nOriginal url:\n\n<https://example.org/bench/{n}>\n"
    )


def article_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(Document.__table__))


def add_articles(engine: Engine, total: int, label: str = "importing articles") -> list[tuple]:
    """Import short articles through the app's importer until the library holds `total`.
    Returns (document id, version id, text) of each one added."""
    have = article_count(engine)
    rng = random.Random(SEED + have)
    _, _, seed_text = seed_article(engine)
    vocabulary = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", seed_text)]
    added = []
    progress = ProgressBar(label, total - have)
    with Session(engine) as session:
        for n in range(have, total):
            result = import_article(session, short_article(rng, n, vocabulary), f"bench-{n}.md")
            version = result.document.current_version
            added.append((result.document.id, version.id, version.text))
            if len(added) % 200 == 0:
                session.commit()
            progress.update(len(added))
        session.commit()
    progress.finish()
    return added


def add_spread_notes(
    engine: Engine,
    count: int,
    articles: list[tuple[int, int, str]],
    classes: int,
    users: int,
    label: str,
) -> tuple[int, int]:
    """`count` class notes by new users in `classes` new classes, spread over `articles`
    ((document id, version id, text) each). Returns the first and last note id."""
    rng = random.Random(SEED * 1_000 + count)
    now = utcnow()
    start_at = now - timedelta(days=365)
    hashed = password_hash()
    prepared = [(doc, version, text, words_of(text)) for doc, version, text in articles]
    vocabulary = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", prepared[0][2])]
    bodies = []
    for _ in range(200):
        body = comment(rng, vocabulary)
        bodies.append((body, render_comment(body)))
    progress = ProgressBar(label, count)
    with engine.begin() as connection:
        first_user = next_id(connection, User.__table__)
        prefix = f"bench-other-{first_user}-"
        user_ids = add_users(connection, [f"{prefix}{i}" for i in range(users)], hashed, start_at)
        class_members: list[list[int]] = []
        for c in range(classes):
            members = user_ids[c::classes]
            classroom_id = add_class(
                connection,
                f"Bench other class {c}",
                f"Z{first_user % 10**6}C{c}",  # join codes have at most 16 characters
                members[0],
                members[1:],
                start_at,
            )
            class_members.append([classroom_id, *members])
        first_note = note_id = next_id(connection, Annotation.__table__)
        change_id = next_id(connection, Change.__table__)
    step = (now - start_at) / max(count, 1)
    done = 0
    while done < count:
        todo = min(ROWS_PER_TRANSACTION, count - done)
        rows, changes = [], []
        for i in range(todo):
            classroom_id, *members = rng.choice(class_members)
            document_id, version_id, text, words = rng.choice(prepared)
            author = rng.choice(members)
            created = start_at + step * (done + i)
            rows.append(
                note_row(
                    rng,
                    note_id,
                    document_id,
                    version_id,
                    text,
                    words,
                    author,
                    classroom_id,
                    created,
                    rng.choice(bodies),
                )
            )
            changes.append(
                change_row(
                    change_id, document_id, classroom_id, note_id, author, "created", created
                )
            )
            note_id += 1
            change_id += 1
            if i % 5_000 == 0:
                progress.update(done + i)
        with engine.begin() as connection:
            insert(connection, Annotation.__table__, rows)
            add_changes(connection, changes)
        done += todo
        progress.update(done)
    progress.finish()
    fix_sequences(engine, ALL_TABLES)
    return first_note, note_id - 1


def note_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(Annotation.__table__))


def first_free_note_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return next_id(connection, Annotation.__table__)


def delete_notes_from(engine: Engine, first_id: int) -> int:
    """Remove the notes (and what hangs on them) with ids from `first_id`: what a
    benchmark's writes added, so every slice measures the same corpus. Their documents'
    change counters go back with the log, as a restored backup leaves them: the next
    writes take the seqs after the log's last again (pages read views at the log's last
    seq, writes at theirs; a counter left ahead would put every write of the next slice
    hundreds of changes past the views the pages keep)."""
    # Its own write transaction, whatever ran in this thread before (an in-process app's
    # commit ends its write intent): a plain BEGIN that reads, then deletes, fails at once
    # with "database is locked" when a server's last writes commit meanwhile.
    intent = write_intent.set(True)
    try:
        return _delete_notes_from(engine, first_id)
    finally:
        write_intent.reset(intent)


def _delete_notes_from(engine: Engine, first_id: int) -> int:
    annotations = Annotation.__table__
    changes = Change.__table__
    with engine.begin() as connection:
        documents = []
        if "seq" in changes.c:
            documents = connection.scalars(
                sa.select(changes.c.document_id)
                .where(changes.c.annotation_id >= first_id)
                .distinct()
            ).all()
        for table in (changes, AnnotationTag.__table__, Vote.__table__):
            connection.execute(table.delete().where(table.c.annotation_id >= first_id))
        connection.execute(
            Reply.__table__.delete().where(Reply.__table__.c.annotation_id >= first_id)
        )
        removed = connection.execute(annotations.delete().where(annotations.c.id >= first_id))
        counter = getattr(models, "ChangeCounter", None)
        if counter is not None:
            counters = counter.__table__
            for document_id in documents:
                last = sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0)).where(
                    changes.c.document_id == document_id
                )
                connection.execute(
                    counters.update()
                    .where(counters.c.document_id == document_id)
                    .values(last_seq=last.scalar_subquery())
                )
        return removed.rowcount
