"""The benchmark's requests in one process, timed and profiled: what a change to a request
path gains, measured in seconds rather than in a five-minute `make bench`.

Builds the benchmark's corpus once (the seed article in a class of 300 with 2,000 notes,
tests/load/corpus.py) into a template database, copies it for each run, and sends each
scenario's requests through Flask's test client (tests/load/inprocess.py): the 20th
percentile, median and minimum of each, its SQL statements, and its ratio to the
hello-world floor measured the same way. With --profile, cProfile's table of each.

    tests/load/profile_requests.py                       # every scenario
    tests/load/profile_requests.py hello poll            # some
    tests/load/profile_requests.py write_class --profile cumtime --top 40
    tests/load/profile_requests.py write_class write_class_two_workers   # gunicorn's turns

write_class_two_workers makes each timed write after another writer's through a second app
on the same database (as gunicorn's two workers take turns): this app's kept class view is
a change behind on every write, and SQLite drops the page cache of its connections.
write_class_other_commit has the second alone: another connection's commit before each write.
write_class_overlapped and write_private_overlapped have the other app's write made during
each timed one, after its reads and before its write (its time left out): the note written
is then not the article's one change since the reads, as under gunicorn's two workers.

CSRF is off and nothing goes through gunicorn: the figures are for comparing two versions
of the code on the same machine, not the benchmark's own.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

os.environ["BENCH_HELLO"] = "1"  # the floor: GET /bench/hello
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import event  # noqa: E402

from tests.conftest import SEEDS  # noqa: E402
from tests.load import bench  # noqa: E402
from tests.load import corpus as corpora  # noqa: E402
from tests.load.inprocess import InProcess  # noqa: E402
from webapp.annotations import views as annotation_views  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.reader.shared import views_of  # noqa: E402

SCENARIOS = (
    "hello",
    "poll",
    "write_class",
    "write_class_two_workers",
    "write_class_other_commit",
    "write_class_overlapped",
    "write_private_overlapped",
    "write_private",
    "library",
    "article_anon",
    "reader_class",
    "reader_rotating",
)


def build_template(folder: Path) -> None:
    """The migrated, seeded database with the benchmark's corpus, and what it holds."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db

    database = folder / "template.db"
    app = create_app(
        {
            "SECRET_KEY": "profile",
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SEEDS_DIR": str(SEEDS),
        }
    )
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
        db.engine.dispose()
    engine = corpora.connect(f"sqlite:///{database}")
    built = corpora.build_class_corpus(engine, 2_000, 300)
    engine.dispose()
    (folder / "corpus.pickle").write_bytes(pickle.dumps(built))


def rotating(app: InProcess, built, page: str):
    """The reader page of `bench.ROTATING_READERS` students in turn (logged in on first use)."""
    names = built.usernames[: bench.ROTATING_READERS]
    clients: list = []
    sent = 0

    def send():
        nonlocal sent
        if not clients:
            clients.extend(app.client(name) for name in names)
        client = clients[sent % len(clients)]
        sent += 1
        return client.get(page)

    send.warm = len(names)  # one round: every student's first load is left out
    return send


def scenarios(app: InProcess, built, engine, other: InProcess) -> dict:
    """name: (a function sending one request, the status it answers)."""
    reader = app.client(built.reader)
    visitor = app.app.test_client(use_cookies=False)  # as wrk: no cookie is kept
    writers = [app.client(name) for name in built.writers(4)]
    tokenless = [SimpleNamespace(token="", cookie="") for _ in writers]
    context = f"class-{built.classroom_id}"
    page = reader.get(f"/articles/{built.slug}?context={context}").data
    cursor = bench.poll_cursor(page, engine, built.document_id)

    def writes(slug, version_id, text, audience, seed, writers=writers):
        requests = bench.write_requests(tokenless, slug, version_id, text, audience, seed, 400)
        sent = 0

        def send():
            nonlocal sent
            request, writer = requests[sent % len(requests)], writers[sent % len(writers)]
            sent += 1
            form = dict(parse_qsl(request.body))
            return writer.post(request.path, data=form, headers={"HX-Request": "true"})

        return send

    def two_workers():
        """The writes of write_class, each after one by another writer through `other` (a
        second worker, with views of its own): the view this app keeps is then a change
        behind the log on every write, as in gunicorn's workers taking turns. The other's
        write is made before the request is timed (send.before)."""
        send = writes(built.slug, built.version_id, built.text, context, corpora.SEED)
        others = [other.client(name) for name in built.writers(8)[4:]]
        send.before = writes(
            built.slug, built.version_id, built.text, context, corpora.SEED + 2, others
        )
        return send

    def other_commit():
        """The writes of write_class, each after another connection's commit that is no
        change of the article (a row in a table of its own): what a write costs after a
        commit elsewhere without catching up (write_class_two_workers less this)."""
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS profile_elsewhere (x)")

        def elsewhere():
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO profile_elsewhere VALUES (1)")

        send = writes(built.slug, built.version_id, built.text, context, corpora.SEED)
        send.before = elsewhere
        return send

    def overlapped(slug, version_id, text, audience):
        """The writes of write_class (or write_private), each overlapped by one of another
        writer's through `other`, made while this one is under way: after its reads,
        before it takes the write lock (as when gunicorn's other worker commits
        meanwhile), so that its note is not the article's one change since its reads.
        The other's time is not counted (send.untimed)."""
        send = writes(slug, version_id, text, audience, corpora.SEED)
        others = [other.client(name) for name in built.writers(8)[4:]]
        meanwhile = writes(slug, version_id, text, audience, corpora.SEED + 3, others)
        real = annotation_views.start_writing
        turn = {"armed": False, "spent": 0.0}

        def start_writing(session):
            if turn["armed"]:
                turn["armed"] = False
                began = time.perf_counter()
                meanwhile()
                turn["spent"] = time.perf_counter() - began
            return real(session)

        def send_overlapped():
            annotation_views.start_writing = start_writing
            turn["armed"], turn["spent"] = True, 0.0
            try:
                return send()
            finally:
                annotation_views.start_writing = real

        send_overlapped.untimed = lambda: turn["spent"]
        return send_overlapped

    poll = f"/articles/{built.slug}/changes?context={context}&cursor={cursor}"
    return {
        "hello": (lambda: visitor.get("/bench/hello"), 200),
        "poll": (lambda: reader.get(poll, headers={"HX-Request": "true"}), 204),
        "write_class": (
            writes(built.slug, built.version_id, built.text, context, corpora.SEED),
            200,
        ),
        "write_class_two_workers": (two_workers(), 200),
        "write_class_other_commit": (other_commit(), 200),
        "write_class_overlapped": (
            overlapped(built.slug, built.version_id, built.text, context),
            200,
        ),
        "write_private_overlapped": (
            overlapped(built.empty_slug, built.empty_version_id, built.empty_text, "private"),
            200,
        ),
        "write_private": (
            writes(
                built.empty_slug,
                built.empty_version_id,
                built.empty_text,
                "private",
                corpora.SEED + 1,
            ),
            200,
        ),
        "library": (lambda: visitor.get("/"), 200),
        "article_anon": (lambda: visitor.get(f"/articles/{built.slug}"), 200),
        "reader_class": (lambda: reader.get(f"/articles/{built.slug}?context={context}"), 200),
        "reader_rotating": (rotating(app, built, f"/articles/{built.slug}?context={context}"), 200),
    }


def print_statements(app: InProcess, before, send) -> None:
    """The SQL statements of one more request, in order (what a change must not add to)."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_rest):
        statements.append(" ".join(statement.split()))

    before()
    with app.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    for number, statement in enumerate(statements, 1):
        print(f"  {number:2}. {statement[:400]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", nargs="*", help=f"of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--reps", type=int, default=300, help="requests per scenario")
    parser.add_argument("--profile", metavar="SORT", help="cProfile, sorted by e.g. cumtime")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile")
    parser.add_argument("--cache", type=Path, help="keep the template database here")
    parser.add_argument("--sql", action="store_true", help="print one request's statements")
    args = parser.parse_args(argv)
    if unknown := [name for name in args.scenario if name not in SCENARIOS]:
        parser.error(f"unknown scenario {unknown[0]!r}")
    chosen = args.scenario or list(SCENARIOS)
    with tempfile.TemporaryDirectory(prefix="marginalia-profile-") as tmp:
        cache = args.cache or Path(tmp) / "template"
        cache.mkdir(parents=True, exist_ok=True)
        if not (cache / "template.db").exists():
            build_template(cache)
        built = pickle.loads((cache / "corpus.pickle").read_bytes())
        work = Path(tmp) / "work"
        work.mkdir()
        with (
            sqlite3.connect(cache / "template.db") as source,
            sqlite3.connect(work / "bench.db") as target,
        ):
            source.backup(target)
        source.close()
        target.close()
        app = InProcess(work, f"sqlite:///{work / 'bench.db'}", str(SEEDS))
        other = InProcess(work, f"sqlite:///{work / 'bench.db'}", str(SEEDS))
        engine = corpora.connect(f"sqlite:///{work / 'bench.db'}")
        first_free = corpora.first_free_note_id(engine)
        floor = None
        try:
            sends = scenarios(app, built, engine, other)
            page = f"/articles/{built.slug}?context=class-{built.classroom_id}"
            readers = [each.client(built.reader) for each in (app, other)]

            def fresh_views():
                """The notes written were deleted behind the apps' backs (and their change
                rows): the class views they keep would hold them still, and the next
                writes, given their ids again, would replace them in the kept views, not
                add to them. Both apps read their views again, by the reader's page."""
                for each, reader in zip((app, other), readers, strict=True):
                    views_of(each.app.extensions).clear()
                    reader.get(page)

            fresh_views()
            for name in chosen:
                send, status = sends[name]
                before = getattr(send, "before", lambda: None)  # untimed
                untimed = getattr(send, "untimed", lambda: 0.0)  # of the last send's time
                reps = args.reps if not name.startswith("write") else max(args.reps // 2, 5)
                for _ in range(getattr(send, "warm", 3)):  # warm: templates, caches
                    before()
                    send()
                app.counter.reset()
                samples = []
                for _ in range(reps):
                    before()
                    began = time.perf_counter()
                    response = send()
                    samples.append(time.perf_counter() - began - untimed())
                    if response.status_code != status:
                        raise RuntimeError(f"{name} answered {response.status_code}")
                samples.sort()
                low = samples[len(samples) // 5] * 1000  # the machine may be shared
                floor = low if name == "hello" else floor
                ratio = f"  {floor / low:.3f} × floor" if floor else ""
                print(
                    f"{name:14} p20 {low:8.2f} ms  median {statistics.median(samples) * 1000:8.2f}"
                    f"  min {samples[0] * 1000:8.2f}  mean {statistics.mean(samples) * 1000:8.2f}"
                    f"  statements {app.counter.count / reps:5.1f}"
                    f" ({app.counter.seconds / reps * 1000:5.2f} ms)"
                    f"{ratio}",
                    flush=True,
                )
                if args.sql:
                    print_statements(app, before, send)
                if args.profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(reps):
                        profiler.disable()
                        before()
                        profiler.enable()
                        send()
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats(args.profile).print_stats(args.top)
                if name.startswith("write"):
                    corpora.delete_notes_from(engine, first_free)
                    fresh_views()
        finally:
            app.close()
            other.close()
            engine.dispose()


if __name__ == "__main__":
    main()
