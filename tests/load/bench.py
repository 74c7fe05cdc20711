"""`make bench`: the app under gunicorn on loopback, measured side by side with a
hello-world route of the same app (`GET /bench/hello`, served only with BENCH_HELLO=1).

Builds a corpus (the seed article in a class of 300 with 2,000 notes), then measures each
scenario in short slices, round-robin, so that the machine's noise hits all alike: each
figure is the median of the runs, with their range, as a ratio to the floor measured in the
same run. Then the pages' weight, the reader in Chromium, and what scales badly, in one
process. Targets from issue 11 are printed beside the figures: reported, never asserted.

    tests/load/bench.py                 # the default: about 5 minutes on 2 cores
    tests/load/bench.py --growth        # 100,000 and 1,000,000 notes: about 8 minutes
    tests/load/bench.py --tiny          # a few notes and seconds: proves it runs (the smoke test)

DATABASE_URL=postgresql://... runs it on a throw-away database created on that server.
Every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import html
import http.client
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa  # noqa: E402

from tests.browser.conftest import LiveServer  # noqa: E402
from tests.conftest import PASSWORD, PROJECT_ROOT, SEEDS  # noqa: E402
from tests.load import corpus as corpora  # noqa: E402
from tests.load import report  # noqa: E402
from tests.load.loadgen import Request, Slice, load_generator  # noqa: E402
from webapp.models import Annotation, Change  # noqa: E402
from webapp.services.annotations import COLOURS  # noqa: E402

WRITES_PER_MINUTE = "1000000000"  # the rate limit is not what is measured
ROTATING_READERS = 40  # students of the class whose pages are asked for in turn
OTHER_CLASSES = 20  # the classes whose notes the reader cannot see (item 9)
GROWTH_ARTICLES = 40
GROWTH_CLASSES = 2_000
GROWTH_USERS = 20_000


@dataclass(frozen=True)
class Sizes:
    notes: int = 2_000
    members: int = 300
    writers: int = 16
    seconds: float = 3
    slices: int = 2  # per scenario per run
    runs: int = 3
    connections: int = 8
    browser_rounds: int = 6  # even: each page goes first as often
    keys: int = 60
    presses: int = 7  # Highlight presses per page per round
    invisible: int = 19_724
    library: int = 1_001
    inprocess_reps: int = 31  # a median of 5 swung by half with one slow request
    growth: tuple[int, ...] = (100_000, 1_000_000)


TINY = Sizes(
    notes=20,
    members=10,
    writers=3,
    seconds=1,
    slices=1,
    runs=1,
    connections=2,
    browser_rounds=1,
    keys=5,
    presses=2,
    invisible=50,
    library=8,
    inprocess_reps=1,
    growth=(300, 1_000),
)

# Issue 11's targets: ratios to the floor (at least), page bytes and browser ratios (at most).
TARGETS = {
    "reader_class": {"ratio": 0.15},
    "reader_rotating": {"ratio": 0.15},
    "write_class": {"ratio": 0.20, "errors": 0},
    "write_private": {"ratio": 0.20},
    "poll": {"ratio": 0.70},
    "library": {"ratio": 0.50},
    "article_anon": {"ratio": 0.50},
}
PAGE_TARGETS = {"reader_class": {"bytes": 200 * 1024}}
# What --only may name (the floor, "hello", is always measured).
SCENARIO_KEYS = (*TARGETS, "spot")
AT_MOST = {"max_ratio": 1.2}


@dataclass
class Scenario:
    key: str
    label: str
    requests: list[Request]
    writes: bool = False  # its notes are removed after each slice
    expect: int = 200
    target: dict | None = None
    server: str = ""  # the base URL it runs against
    optional: bool = False  # measured only where the app serves it


@dataclass
class HttpSession:
    """A logged-in (or anonymous) person: a cookie and a CSRF token, over http.client."""

    base: str
    cookie: str = ""
    token: str = ""

    def request(self, method, path, form=None, headers=None, body=None):
        host, port = self.base.removeprefix("http://").split(":")
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            if cookie.startswith("session="):
                self.cookie = cookie.split(";", 1)[0]
        return response.status, response.headers, payload


def csrf_token(page: bytes) -> str:
    text = page.decode("utf-8", "replace")
    found = re.search(r'name="csrf_token" value="([^"]+)"', text) or re.search(
        r'"X-CSRFToken"\s*:\s*"([^"]+)"', text
    )
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def log_in(base: str, username: str, form_page: str) -> HttpSession:
    """Log in through the form; the token for writes comes from `form_page`."""
    session = HttpSession(base)
    _, _, page = session.request("GET", "/login")
    status, _, _ = session.request(
        "POST",
        "/login",
        {"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    if status != 302:
        raise RuntimeError(f"cannot log in as {username}: {status}")
    _, _, page = session.request("GET", form_page)
    session.token = csrf_token(page)
    return session


def sqlalchemy_url(url: str) -> str:
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


@contextlib.contextmanager
def database(root: Path):
    """(URL for the app, kind, version): a SQLite file, or a throw-away PostgreSQL database
    on the server DATABASE_URL names (that database itself is never touched)."""
    named = os.environ.get("DATABASE_URL", "")
    if not named.startswith(("postgres://", "postgresql")):
        yield f"sqlite:///{root / 'bench.db'}", "sqlite", ""
        return
    import psycopg

    admin = sa.engine.make_url(sqlalchemy_url(named)).set(drivername="postgresql")
    name = f"marginalia_bench_{uuid.uuid4().hex[:10]}"
    admin_url = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        connection.execute(f'CREATE DATABASE "{name}"')
    say(f"PostgreSQL {version}: a throw-away database {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False), "postgresql", version
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_server(root: Path, url: str) -> LiveServer:
    return LiveServer(
        root, workers=2, DATABASE_URL=url, BENCH_HELLO="1", WRITES_PER_MINUTE=WRITES_PER_MINUTE
    )


def write_requests(sessions, slug, version_id, text, audience, seed, count=200) -> list[Request]:
    """Notes with a short comment on random passages, the writers taking turns."""
    rng = random.Random(seed)
    words = corpora.words_of(text)
    requests = []
    for n in range(count):
        writer = sessions[n % len(sessions)]
        start, end = corpora.passage(rng, words)
        form = {
            "start": start,
            "end": end,
            "exact": text[start:end],
            "version": version_id,
            "csrf_token": writer.token,
            "body": f"Bench note {n}: *why* does this passage matter?",
            "intent": "comment",
            "audience": audience,
            "context": audience,
            "colour": COLOURS[n % len(COLOURS)],
        }
        requests.append(
            Request(
                "POST",
                f"/articles/{slug}/annotations",
                {"Cookie": writer.cookie, "HX-Request": "true"},
                urlencode(form),
            )
        )
    return requests


def poll_cursor(page: bytes, engine, document_id: int) -> int:
    """The cursor the reader page polls with (its #live URL), else the last change."""
    found = re.search(r'/changes\?([^"\'\s>]*)', page.decode("utf-8", "replace"))
    if found:
        cursor = parse_qs(html.unescape(found.group(1))).get("cursor")
        if cursor and cursor[0].isdigit():
            return int(cursor[0])
    changes = Change.__table__
    column = changes.c.seq if "seq" in changes.c else changes.c.id
    with engine.connect() as connection:
        last = sa.select(sa.func.max(column)).where(changes.c.document_id == document_id)
        return connection.scalar(last) or 0


def class_scenarios(base, built, engine, reader, writers, readers=()) -> list[Scenario]:
    """The reader, the writes and the poll in the big class (what growth measures too);
    with `readers`, also the reader page of each of them in turn."""
    context = f"class-{built.classroom_id}"
    page = f"/articles/{built.slug}?context={context}"
    _, _, reader_page = reader.request("GET", page)
    cursor = poll_cursor(reader_page, engine, built.document_id)
    members = f"a class of {built.members} with {built.notes:,} notes"
    rotating = []
    if readers:
        rotating.append(
            Scenario(
                "reader_rotating",
                f"reader, {len(readers)} students of the class in turn",
                [Request("GET", page, {"Cookie": student.cookie}) for student in readers],
                target=TARGETS["reader_rotating"],
                server=base,
            )
        )
    return [
        Scenario(
            "reader_class",
            f"reader, a student in {members}",
            [Request("GET", page, {"Cookie": reader.cookie})],
            target=TARGETS["reader_class"],
            server=base,
        ),
        *rotating,
        Scenario(
            "write_class",
            "creating a note in that class (htmx)",
            write_requests(
                writers, built.slug, built.version_id, built.text, context, corpora.SEED
            ),
            writes=True,
            target=TARGETS["write_class"],
            server=base,
        ),
        Scenario(
            "poll",
            "live poll, nothing new (204)",
            [
                Request(
                    "GET",
                    f"/articles/{built.slug}/changes?context={context}&cursor={cursor}",
                    {"Cookie": reader.cookie, "HX-Request": "true"},
                )
            ],
            expect=204,
            target=TARGETS["poll"],
            server=base,
        ),
    ]


def rotating_readers(base, built, reader, writers, form_page) -> list[HttpSession]:
    """Up to ROTATING_READERS students of the class, logged in (the reader and the
    writers among them keep their sessions): one page each, in turn, defeats whatever
    a server keeps for the last student alone."""
    known = {built.reader: reader, **dict(zip(built.writers(len(writers)), writers, strict=True))}
    return [
        known.get(name) or log_in(base, name, form_page)
        for name in built.usernames[:ROTATING_READERS]
    ]


def deepest_spot(engine, built) -> int:
    """The offset covered by the most notes of the class."""
    notes = Annotation.__table__
    with engine.connect() as connection:
        ranges = connection.execute(
            sa.select(notes.c.start, notes.c.end).where(
                notes.c.document_id == built.document_id,
                notes.c.classroom_id == built.classroom_id,
                notes.c.deleted_at.is_(None),
            )
        ).all()
    depth = [0] * (len(built.text) + 1)
    for start, end in ranges:
        depth[start] += 1
        depth[end] -= 1
    running, best, at = 0, -1, 0
    for offset, step in enumerate(depth):
        running += step
        if running > best:
            best, at = running, offset
    return at


def spot_scenario(base, built, engine, reader) -> Scenario:
    """The notes at the deepest spot, as the reader asks for them (where the app has it)."""
    path = f"/articles/{built.slug}/spot?at={deepest_spot(engine, built)}"
    return Scenario(
        "spot",
        "the notes at the deepest spot (htmx partial)",
        [
            Request(
                "GET",
                f"{path}&context=class-{built.classroom_id}",
                {"Cookie": reader.cookie, "HX-Request": "true"},
            )
        ],
        server=base,
        optional=True,
    )


def hello_scenario(base: str) -> Scenario:
    return Scenario(
        "hello",
        "hello world, the floor (`GET /bench/hello`)",
        [Request("GET", "/bench/hello")],
        server=base,
    )


def probe(scenario: Scenario) -> dict:
    """One request as sent in the run, and once more asking for gzip: status and weight."""
    request = scenario.requests[0]
    results = []
    for extra in ({}, {"Accept-Encoding": "gzip"}):
        headers = {**request.headers, **extra}
        if request.body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        results.append(
            HttpSession(scenario.server).request(
                request.method, request.path, headers=headers, body=request.body
            )
        )
    (status, _, plain), (_, zipped_headers, wire) = results
    marks = re.findall(rb"<mark\b[^>]*>", plain)
    listed = [m for m in (re.search(rb'data-annotations="([^"]*)"', x) for x in marks) if m]
    return {
        "key": scenario.key,
        "label": scenario.label,
        "status": status,
        "expected": scenario.expect,
        "bytes": len(plain),
        "gzip_wire_bytes": len(wire),
        "compressed": (zipped_headers.get("Content-Encoding") or "").lower() == "gzip",
        "gzip_possible_bytes": len(gzip.compress(plain, 6)) if plain else 0,
        "marks": len(marks),
        "listed_ids": sum(len(m.group(1).split()) for m in listed) if listed else None,
        "target": PAGE_TARGETS.get(scenario.key),
    }


def read_everywhere(base: str, reader: HttpSession, page: str, connections: int) -> None:
    """`page` asked for by `reader` over `connections` connections at once, twice each:
    every worker serves it (in practice), as the students' pages in a class that writes.

    The clean-up after a slice of writes removes the notes and their changes behind the
    app's back. Each worker's kept view of the class (webapp/reader/shared.py) then holds
    notes that are gone, at a seq past the log's last: the next page reads it again, and
    a write alone never does (it reads the marks over its blocks instead, on every write
    of the slice). Read again here, the next slice starts as the first one did."""

    def read(_n: int) -> None:
        HttpSession(base, reader.cookie).request("GET", page)

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(read, range(2 * connections)))


def drain_seconds(result: Slice, connections: int) -> float:
    """How long the server still works after a slice: the load generator stops with up to
    one request per connection unanswered, and the server answers them anyway, at the rate
    it just showed. The next slice starts after that, so no scenario pays for another."""
    per_request = result.seconds / max(result.requests, 1)
    return min(connections * per_request, 30.0) + 0.1


def measure(scenarios: list[Scenario], generator, sizes: Sizes, cleanup) -> dict:
    """Slices of every scenario in turn, `sizes.slices` per run, `sizes.runs` runs."""
    slices: dict[str, list[list[Slice]]] = {s.key + s.server: [] for s in scenarios}
    progress = corpora.ProgressBar("measuring", sizes.runs * sizes.slices * len(scenarios))
    done = 0
    for run in range(sizes.runs):
        for key in slices:
            slices[key].append([])
        for turn in range(sizes.slices):
            shift = (run * sizes.slices + turn) % len(scenarios)
            for scenario in scenarios[shift:] + scenarios[:shift]:
                seconds = sizes.seconds
                for _ in range(4):  # a slice too short for one answer is taken again, longer
                    result = generator.run(
                        scenario.server, scenario.requests, seconds, sizes.connections
                    )
                    time.sleep(drain_seconds(result, sizes.connections))
                    if result.requests:
                        break
                    seconds *= 2
                if scenario.writes:
                    cleanup(scenario.server)
                slices[scenario.key + scenario.server][run].append(result)
                done += 1
                progress.update(done)
    progress.finish()
    return slices


def run_figures(runs: list[list[Slice]], floor: list[float]) -> list[dict]:
    figures = []
    for n, run in enumerate(runs):
        requests = sum(s.requests for s in run)
        seconds = sum(s.seconds for s in run)
        rps = requests / seconds if seconds else 0.0
        figures.append(
            {
                "requests": requests,
                "seconds": round(seconds, 3),
                "errors": sum(s.errors for s in run),
                "rps": rps,
                "p50_ms": report.spread([s.p50_ms for s in run])["median"],
                "p99_ms": report.spread([s.p99_ms for s in run])["median"],
                "ratio": rps / floor[n] if floor and floor[n] else None,
            }
        )
    return figures


def floor_of(slices: dict, hello: Scenario) -> list[float]:
    return [r["rps"] for r in run_figures(slices[hello.key + hello.server], [])]


def summarize(scenario: Scenario, runs: list[dict]) -> dict:
    ratio = report.spread([r["ratio"] for r in runs])
    errors = sum(r["errors"] for r in runs)
    target = scenario.target
    result = None
    if target:
        result = report.verdict(ratio["median"], target.get("ratio"))
        if "errors" in target and errors > target["errors"]:
            result = "not met"
    return {
        "key": scenario.key,
        "label": scenario.label,
        "runs": runs,
        "rps": report.spread([r["rps"] for r in runs]),
        "ratio": ratio,
        "p50_ms": report.spread([r["p50_ms"] for r in runs]),
        "p99_ms": report.spread([r["p99_ms"] for r in runs]),
        "errors": errors,
        "requests": sum(r["requests"] for r in runs),
        "target": target,
        "verdict": result,
    }


def browser_figures(base, built, engine, sizes) -> dict:
    from tests.load.browser_bench import run_browser

    full = f"/articles/{built.slug}?context=class-{built.classroom_id}"
    empty = f"/articles/{built.slug}?context=class-{built.quiet_classroom_id}"
    first_free = corpora.first_free_note_id(engine)
    try:
        measured = run_browser(
            base,
            built.browser_user,
            {"full": (full, True), "empty": (empty, False)},
            sizes.browser_rounds,
            sizes.keys,
            lambda: corpora.delete_notes_from(engine, first_free),
            sizes.presses,
        )
    except FileNotFoundError as error:
        return {"skipped": str(error)}
    metrics = []
    labels = {
        "load": "page load: navigation to the load event",
        "cards": "page load: to the sidebar's first card (no notes: to the sidebar)",
        "highlight": "pressing Highlight to the new mark painted (median of the round's)",
        "highlight_saved": "pressing Highlight to the saved mark painted (the server's answer)",
        "keystroke_median": "one keystroke in the comment box (median of the round)",
    }
    notes = []
    for key, label in labels.items():
        full_stats = report.spread([r[key] for r in measured["full"]])
        empty_stats = report.spread([r[key] for r in measured["empty"]])
        missing = sum(r[key] is None for r in measured["full"] + measured["empty"])
        if missing:
            notes.append(f"{label}: no value in {missing} of the rounds (nothing appeared in time)")
        ratio = None
        if full_stats["median"] is not None and empty_stats["median"]:
            ratio = full_stats["median"] / empty_stats["median"]
        metrics.append(
            {
                "key": key,
                "label": label,
                "full": full_stats,
                "empty": empty_stats,
                "ratio": ratio,
                "target": AT_MOST,
                "verdict": report.verdict(ratio, AT_MOST["max_ratio"], at_least=False),
            }
        )
    return {
        "reps": sizes.browser_rounds,
        "rounds": measured,
        "full_label": f"{built.notes:,} notes",
        "empty_label": "no notes",
        "metrics": metrics,
        "notes": notes,
    }


def scaling_figures(root, url, built, engine, sizes) -> list[dict]:
    """Item 9: invisible notes from other classes, and a library of 1,001 articles."""
    from tests.load.inprocess import InProcess

    app = InProcess(root, sqlalchemy_url(url), str(SEEDS))
    try:
        student = app.client(built.reader)
        page = f"/articles/{built.slug}?context=class-{built.classroom_id}"
        before = app.measure(
            student,
            page,
            "reader, a student of the class: no notes of other classes",
            sizes.inprocess_reps,
        )
        corpora.add_spread_notes(
            engine,
            sizes.invisible,
            [(built.document_id, built.version_id, built.text)],
            classes=OTHER_CLASSES,
            users=OTHER_CLASSES * 20,
            label="notes of other classes",
        )
        after = app.measure(
            student,
            page,
            f"the same with {sizes.invisible:,} notes of {OTHER_CLASSES} other classes "
            "on the article (invisible to the reader)",
            sizes.inprocess_reps,
        )
        after["ratio"] = after["ms"] / before["ms"] if before["ms"] else None
        # Signed in: a visitor's library comes from the page cache (webapp/page_cache.py),
        # and what is measured here is how the rendered page grows.
        articles = corpora.article_count(engine)
        small = app.measure(
            student, "/", f"library, {articles} articles, signed in", sizes.inprocess_reps
        )
        corpora.add_articles(engine, sizes.library)
        large = app.measure(
            student, "/", f"library, {sizes.library:,} articles, signed in", sizes.inprocess_reps
        )
        large["ratio"] = large["ms"] / small["ms"] if small["ms"] else None
        return [before, after, small, large]
    finally:
        app.close()


def write_outputs(out: Path, name: str, results: dict, text: str, readme: Path | None, markers):
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(text, encoding="utf-8")
    say(f"wrote {out / name}.json and {out / name}.md")
    if readme is not None:
        updated = report.replace_block(readme.read_text(encoding="utf-8"), *markers, text)
        if updated is None:
            say(f"{readme} has no {markers[0]} … {markers[1]} block: not updated")
        else:
            readme.write_text(updated, encoding="utf-8")
            say(f"updated the table in {readme}")


def run_default(args, sizes: Sizes, generator) -> None:
    notes: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="marginalia-bench-") as tmp,
        database(Path(tmp)) as (url, kind, version),
    ):
        root = Path(tmp)
        machine = report.machine_facts(kind, version, generator.description)
        say(f"starting gunicorn on {kind} …")
        server = start_server(root, url)
        try:
            engine = corpora.connect(sqlalchemy_url(url))
            built = corpora.build_class_corpus(engine, sizes.notes, sizes.members)
            base = server.url
            say("logging in the reader and the writers …")
            empty_page = f"/articles/{built.empty_slug}"
            reader = log_in(base, built.reader, empty_page)
            writers = [log_in(base, name, empty_page) for name in built.writers(sizes.writers)]
            readers = (
                rotating_readers(base, built, reader, writers, empty_page)
                if not args.only or "reader_rotating" in args.only
                else []
            )
            hello = hello_scenario(base)
            scenarios = [hello, *class_scenarios(base, built, engine, reader, writers, readers)]
            scenarios += [
                Scenario(
                    "write_private",
                    "creating a private note, empty article (htmx)",
                    write_requests(
                        writers,
                        built.empty_slug,
                        built.empty_version_id,
                        built.empty_text,
                        "private",
                        corpora.SEED + 1,
                    ),
                    writes=True,
                    target=TARGETS["write_private"],
                    server=base,
                ),
                Scenario(
                    "library",
                    "library, anonymous",
                    [Request("GET", "/")],
                    target=TARGETS["library"],
                    server=base,
                ),
                Scenario(
                    "article_anon",
                    "seed article, anonymous",
                    [Request("GET", f"/articles/{built.slug}")],
                    target=TARGETS["article_anon"],
                    server=base,
                ),
            ]
            extra = [spot_scenario(base, built, engine, reader)]
            if args.only:
                # Just those, beside the floor every figure is a fraction of.
                scenarios = [s for s in scenarios if s is hello or s.key in args.only]
                extra = [s for s in extra if s.key in args.only]
            first_free = corpora.first_free_note_id(engine)

            class_page = f"/articles/{built.slug}?context=class-{built.classroom_id}"

            def cleanup(_server):
                corpora.delete_notes_from(engine, first_free)
                read_everywhere(base, reader, class_page, sizes.connections)

            say("probing every scenario once …")
            pages = []
            for scenario in [*scenarios, *extra]:
                found = probe(scenario)
                cleanup(base)
                if scenario.optional:
                    if found["status"] != scenario.expect:
                        notes.append(f"{scenario.label}: not served here ({found['status']})")
                        continue
                    scenarios.append(scenario)
                found["verdict"] = (
                    report.verdict(found["bytes"], found["target"]["bytes"], at_least=False)
                    if found["target"]
                    else None
                )
                if found["status"] != scenario.expect:
                    notes.append(
                        f"{scenario.label}: the probe answered {found['status']}, "
                        f"not {scenario.expect}"
                    )
                pages.append(found)
            say(
                f"measuring {len(scenarios)} scenarios with {generator.name}: {sizes.runs} runs × "
                f"{sizes.slices} slices × {sizes.seconds:g} s …"
            )
            slices = measure(scenarios, generator, sizes, cleanup)
            floor = floor_of(slices, hello)
            summaries = [
                summarize(s, run_figures(slices[s.key + s.server], floor)) for s in scenarios
            ]
            if args.no_browser or args.only:
                browser = {"skipped": "--only" if args.only else "--no-browser"}
            else:
                say(f"Chromium: {sizes.browser_rounds} rounds, {built.notes:,} notes vs none …")
                browser = browser_figures(base, built, engine, sizes)
                notes += browser.get("notes", [])
            say("in one process: notes of other classes, a library of many articles …")
            scaling = [] if args.only else scaling_figures(root, url, built, engine, sizes)
        finally:
            server.stop()
    machine["load_average_end"] = round(os.getloadavg()[0], 2)
    results = {
        "machine": machine,
        "settings": settings_of(sizes, built),
        "scenarios": summaries,
        "pages": pages,
        "browser": browser,
        "scaling": scaling,
        "notes": notes,
    }
    text = report.markdown(results)
    print(text)
    write_outputs(
        Path(args.out),
        "results",
        results,
        text,
        args.readme,
        (report.README_START, report.README_END),
    )


def settings_of(sizes: Sizes, built) -> dict:
    return {
        "workers": 2,
        "connections": sizes.connections,
        "seconds": sizes.seconds,
        "slices": sizes.slices,
        "runs": sizes.runs,
        "corpus": {
            "notes": built.notes,
            "members": built.members,
            "replies": built.replies,
            "with_replies": built.replied / built.notes if built.notes else 0,
            "tagged": built.tagged,
            "votes": built.votes,
            "seed": corpora.SEED,
        },
    }


def run_growth(args, sizes: Sizes, generator) -> None:
    """One server per size (the base corpus; then 100,000 and 1,000,000 notes in all),
    measured interleaved. SQLite only."""
    levels = [0, *sizes.growth]
    notes: list[str] = []
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
        notes.append("growth runs on SQLite only: DATABASE_URL was not used")
    with tempfile.TemporaryDirectory(prefix="marginalia-bench-growth-") as tmp:
        machine = report.machine_facts("sqlite", "", generator.description)
        servers, engines, scenarios, built = [], {}, [], None
        try:
            say(f"starting {len(levels)} gunicorn servers …")
            urls = []
            for n in range(len(levels)):
                (Path(tmp) / f"level-{n}").mkdir()
                urls.append(f"sqlite:///{Path(tmp) / f'level-{n}' / 'bench.db'}")
            with ThreadPoolExecutor(len(levels)) as pool:
                starting = [
                    pool.submit(start_server, Path(tmp) / f"level-{n}", url)
                    for n, url in enumerate(urls)
                ]
                for future in starting:
                    with contextlib.suppress(Exception):
                        servers.append(future.result())
            if len(servers) < len(levels):
                for future in starting:
                    future.result()  # raises why a server did not start
            for n, total in enumerate(levels):
                server, url = servers[n], urls[n]
                engine = corpora.connect(url)
                engines[server.url] = (engine, None)
                built = corpora.build_class_corpus(engine, sizes.notes, sizes.members)
                articles = corpora.add_articles(engine, 3 + GROWTH_ARTICLES, "other articles")
                have = corpora.note_count(engine)
                if total > have:
                    corpora.add_spread_notes(
                        engine,
                        total - have,
                        articles,
                        classes=min(GROWTH_CLASSES, total // 50),
                        users=min(GROWTH_USERS, total // 5),
                        label=f"growing to {total:,} notes",
                    )
                count = corpora.note_count(engine)
                engines[server.url] = (engine, corpora.first_free_note_id(engine))
                empty_page = f"/articles/{built.empty_slug}"
                reader = log_in(server.url, built.reader, empty_page)
                writers = [
                    log_in(server.url, name, empty_page) for name in built.writers(sizes.writers)
                ]
                level = class_scenarios(server.url, built, engine, reader, writers)[:2]
                for scenario in level:
                    scenario.target = AT_MOST
                    scenario.label += f" [{count:,} notes]"
                    scenario.key += f"@{n}"
                scenarios += level
                levels[n] = count
            hello = hello_scenario(servers[0].url)

            def cleanup(server_url):
                engine, first_free = engines[server_url]
                corpora.delete_notes_from(engine, first_free)

            order = [hello] + [
                s for k in ("reader", "write") for s in scenarios if s.key.startswith(k)
            ]
            say(f"measuring {len(order)} scenarios on {len(servers)} servers …")
            slices = measure(order, generator, sizes, cleanup)
        finally:
            for server in servers:
                server.stop()
    floor = floor_of(slices, hello)
    results_scenarios = []
    for kind, label in (
        ("reader_class", "reader, a student of the class"),
        ("write_class", "creating a note in that class (htmx)"),
    ):
        per_level = []
        base_runs = None
        for n, _ in enumerate(levels):
            scenario = next(s for s in order if s.key == f"{kind}@{n}")
            runs = run_figures(slices[scenario.key + scenario.server], floor)
            if base_runs is None:
                base_runs = runs
            latency = [
                r["p50_ms"] / b["p50_ms"] if b["p50_ms"] else None
                for r, b in zip(runs, base_runs, strict=True)
            ]
            per_level.append(
                {
                    "notes": levels[n],
                    "runs": runs,
                    "p50_ms": report.spread([r["p50_ms"] for r in runs]),
                    "ratio": report.spread([r["ratio"] for r in runs]),
                    "errors": sum(r["errors"] for r in runs),
                    "latency_ratio": report.spread(latency),
                }
            )
        worst = per_level[-1]["latency_ratio"]["median"]
        results_scenarios.append(
            {
                "key": kind,
                "label": label,
                "levels": per_level,
                "target": AT_MOST,
                "verdict": report.verdict(worst, AT_MOST["max_ratio"], at_least=False),
            }
        )
    machine["load_average_end"] = round(os.getloadavg()[0], 2)
    results = {
        "machine": machine,
        "settings": settings_of(sizes, built),
        "levels": [{"notes": count} for count in levels],
        "floor_rps": report.spread(floor),
        "scenarios": results_scenarios,
        "notes": notes,
    }
    text = report.growth_markdown(results)
    print(text)
    write_outputs(
        Path(args.out),
        "growth",
        results,
        text,
        args.readme,
        (report.GROWTH_START, report.GROWTH_END),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="a few notes and seconds (smoke test)")
    parser.add_argument("--growth", action="store_true", help="100,000 and 1,000,000 notes")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench"), help="where results go")
    parser.add_argument("--readme", type=Path, help="rewrite the table block in this README")
    parser.add_argument("--seconds", type=float, help="seconds per slice")
    parser.add_argument("--runs", type=int, help="runs (the median is taken)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIO_KEYS,
        metavar="SCENARIO",
        help=f"measure just these (and the floor), no browser or in-process figures;"
        f" the README is left alone. One of: {', '.join(SCENARIO_KEYS)}",
    )
    args = parser.parse_args(argv)
    if args.only and (args.growth or args.readme):
        parser.error("--only measures a part: not with --growth or --readme")
    sizes = TINY if args.tiny else Sizes()
    if args.seconds or args.runs:
        sizes = Sizes(
            **{
                **sizes.__dict__,
                "seconds": args.seconds or sizes.seconds,
                "runs": args.runs or sizes.runs,
            }
        )
    with tempfile.TemporaryDirectory(prefix="marginalia-bench-wrk-") as scripts:
        generator = load_generator(args.client, Path(scripts))
        began = time.monotonic()
        if args.growth:
            run_growth(args, sizes, generator)
        else:
            run_default(args, sizes, generator)
    say(f"done in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
