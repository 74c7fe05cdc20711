"""The reader's page load in Chromium, A/B between two checkouts of the code (e.g. main and
a branch), interleaved round by round so that the machine's noise hits both alike.

One corpus (the benchmark's: the seed article, a class of 300 with 2,000 notes, a second
class with none) in one SQLite file; one gunicorn per checkout, each started from its own
tree on that file; one Chromium. Each round loads, per checkout, the page with the notes
and the one without, as tests/load/browser_bench.py does (htmx's CDN answered with the
local copy), and reports navigation → load event and → the sidebar's first card.

    .venv/bin/python tests/load/browser_ab.py /work/main . --rounds 15
    .venv/bin/python tests/load/browser_ab.py . --rounds 1 --trace /tmp/traces

--cpu traces every load and reports, beside the times, the main thread's CPU time until
the load event, by kind of work (thread time: on a shared machine, wall times wander far
more than the work does); with --full-rounds, also per keystroke while typing ("cpu key").
--trace DIR keeps one trace of each page per checkout, to open in Chromium's Performance
panel.
--full-rounds also runs browser_bench's Highlight and keystroke measures in each round.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.load import corpus as corpora  # noqa: E402
from tests.load.browser_bench import (  # noqa: E402
    PAGE_TIMES,
    TIMEOUT_MS,
    bench_page,
    measure_round,
)
from tests.support.servers import NO_CONTROL_SOCKET, flask, free_port, instance_env  # noqa: E402

TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "blink.user_timing", "loading", "v8"]
# What the renderer's main thread does, by the trace events that say so (the outermost
# one of these counts; the rest of a task is "other": loading, the parser's bookkeeping,
# autofill's look at the forms, ...).
KINDS = {
    "ParseHTML": "parse",
    "UpdateLayoutTree": "style",
    "Layout": "layout",
    "PrePaint": "paint",
    "Paint": "paint",
    "Layerize": "paint",
    "Commit": "paint",
    "EvaluateScript": "script",
    "FunctionCall": "script",
    "EventDispatch": "script",
    "TimerFire": "script",
    "FireIdleCallback": "script",
    "RunMicrotasks": "script",
    "v8.compile": "script",
}
CPU_KEYS = ("busy", "parse", "style", "layout", "paint", "script", "other")


class TreeServer:
    """gunicorn serving the app from `tree` (its own .venv and code) on `database_url`."""

    def __init__(self, tree: Path, root: Path, database_url: str):
        self.tree = tree
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = instance_env(root, database_url, WRITES_PER_MINUTE="1000000000")
        self.log = open(root / f"gunicorn-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(tree / ".venv" / "bin" / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--preload",
                *NO_CONTROL_SOCKET,
                "webapp.wsgi:app",
            ],
            cwd=tree,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn from {tree} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def main_thread_cpu(raw: bytes, keys: int = 0) -> dict[str, float]:
    """Milliseconds of the page's main thread's CPU time (thread time, not wall time: the
    machine is shared) from navigation start to the load event, in all and by kind; with
    `keys`, also per keystroke while typing ("key busy", "key style", ...), between the
    marks browser_bench.measure_round leaves around it."""
    events = json.loads(raw)["traceEvents"]
    # The page's navigation (not the about:blank ones a frame starts with) and its load.
    start = next(
        e
        for e in events
        if e["name"] == "navigationStart" and e["args"]["data"].get("documentLoaderURL")
    )
    end = min(
        e["ts"]
        for e in events
        if e["name"] == "loadEventStart"
        and e["args"].get("frame") == start["args"]["frame"]
        and e["ts"] > start["ts"]
    )
    cpu = busy_on(events, start["pid"], start["tid"], start["ts"], end)
    if keys:
        marks = {e["name"]: e for e in events if e["name"].startswith("bench-typing-")}
        began, ended = marks["bench-typing-start"], marks["bench-typing-end"]
        typing = busy_on(events, began["pid"], began["tid"], began["ts"], ended["ts"])
        cpu.update({f"key {kind}": spent / keys for kind, spent in typing.items()})
    return cpu


def busy_on(events: list[dict], pid: int, tid: int, start: float, end: float) -> dict[str, float]:
    """CPU time of thread (pid, tid) in spans that begin in [start, end), in all and by kind."""
    spans = sorted(
        (
            e
            for e in events
            if (e["pid"], e["tid"]) == (pid, tid) and e.get("ph") == "X" and start <= e["ts"] < end
        ),
        key=lambda e: (e["ts"], -e["dur"]),
    )
    cpu: dict[str, float] = defaultdict(float)
    stack: list[dict] = []
    for e in spans:
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
            stack.pop()
        spent = e.get("tdur", e["dur"]) / 1000
        if not stack:
            cpu["busy"] += spent
        kind = KINDS.get(e["name"])
        if kind and not any(s["name"] in KINDS for s in stack):
            cpu[kind] += spent
        stack.append(e)
    cpu["other"] = cpu["busy"] - sum(cpu[k] for k in CPU_KEYS if k not in ("busy", "other"))
    return dict(cpu)


# Where the time to the load event went: the server's answer (first byte, last byte), the
# parser (DOMContentLoaded, after the deferred scripts), what DOMContentLoaded's listeners do.
PHASES = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    first_byte: nav.responseStart,
    last_byte: nav.responseEnd,
    dcl: nav.domContentLoadedEventStart,
    dcl_end: nav.domContentLoadedEventEnd,
  };
}
"""


def process_cpu() -> dict[int, tuple[int, float]]:
    """Every process: (its parent, the CPU seconds it has used)."""
    found = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        found[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


def tree_cpu(processes: dict[int, tuple[int, float]], root: int, leave_out=()) -> float:
    """CPU seconds used by `root` and its descendants (but not those in `leave_out`)."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _) in processes.items():
        children[parent].append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in leave_out or pid not in processes:
            continue
        total += processes[pid][1]
        todo.extend(children[pid])
    return total


def page_load(page, path: str, expect_cards: bool) -> dict:
    page.goto(path, wait_until="load", timeout=TIMEOUT_MS)
    if expect_cards:
        page.wait_for_function(
            "() => window.__bench && window.__bench.firstCard !== null", timeout=TIMEOUT_MS
        )
    return {**page.evaluate(PAGE_TIMES), **page.evaluate(PHASES)}


def spread(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    digits = 2 if statistics.median(values) < 10 else 0  # a keystroke's milliseconds
    median = statistics.median(values)
    return f"{median:6.{max(digits, 1)}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="checkouts, each with its .venv")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--notes", type=int, default=2_000)
    parser.add_argument("--trace", type=Path, help="keep a trace of each page per checkout")
    parser.add_argument("--cpu", action="store_true", help="trace each load: main-thread CPU")
    parser.add_argument("--full-rounds", action="store_true", help="Highlight and keys too")
    parser.add_argument("--keys", type=int, default=60, help="keystrokes per full round")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--html", type=Path, help="keep each page's HTML as served")
    parser.add_argument(
        "--serve", type=Path, help="only serve: write the servers' addresses to this JSON file"
    )
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in args.trees]

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="marginalia-ab-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'ab.db'}"
        flask(instance_env(root, url), "init")
        engine = corpora.connect(url)
        built = corpora.build_class_corpus(engine, args.notes, 300)
        first_free = corpora.first_free_note_id(engine)
        pages = {
            "full": (f"/articles/{built.slug}?context=class-{built.classroom_id}", True),
            "empty": (f"/articles/{built.slug}?context=class-{built.quiet_classroom_id}", False),
        }
        servers = [TreeServer(tree, root, url) for tree in trees]
        if args.serve:
            facts = {"servers": [s.url for s in servers], "user": built.browser_user}
            facts["pages"] = {name: path for name, (path, _) in pages.items()}
            args.serve.write_text(json.dumps(facts))
            # Stopped by a signal (kill PID): the servers stop too.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                while True:
                    time.sleep(3600)
            finally:
                for server in servers:
                    server.stop()
        measured = {(i, name): [] for i in range(len(trees)) for name in pages}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                tabs = [
                    bench_page(browser, server.url, built.browser_user, args.width)
                    for server in servers
                ]
                # Warm both (server caches, compiled scripts) before anything counts.
                for page in tabs:
                    for path, cards in pages.values():
                        if args.full_rounds:
                            measure_round(page, path, cards, args.keys)
                            corpora.delete_notes_from(engine, first_free)
                        else:
                            page_load(page, path, cards)
                if args.html:
                    args.html.mkdir(parents=True, exist_ok=True)
                    for i, page in enumerate(tabs):
                        for name, (path, _) in pages.items():
                            body = page.request.get(path).body()
                            (args.html / f"{i}-{trees[i].name}-{name}.html").write_bytes(body)
                if args.trace:
                    args.trace.mkdir(parents=True, exist_ok=True)
                    for i, page in enumerate(tabs):
                        for name, (path, cards) in pages.items():
                            page.goto("about:blank")
                            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                            page_load(page, path, cards)
                            raw = browser.stop_tracing()
                            out = args.trace / f"{i}-{trees[i].name}-{name}.json"
                            out.write_bytes(raw)
                            print(f"{out}: {main_thread_cpu(raw)}")
                # The browser's processes are ours but the servers' (and the driver's, which
                # costs alike for both pages).
                servers_pids = {server.process.pid for server in servers}
                for round_number in range(args.rounds):
                    # Each checkout and each page goes first in every other round.
                    turn = -1 if round_number % 2 else 1
                    for i, page in list(enumerate(tabs))[::turn]:
                        for name, (path, cards) in list(pages.items())[::turn]:
                            page.goto("about:blank")
                            before = process_cpu()
                            if args.cpu:
                                browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                            if args.full_rounds:
                                found = measure_round(page, path, cards, args.keys)
                                corpora.delete_notes_from(engine, first_free)
                            else:
                                found = page_load(page, path, cards)
                            if args.cpu:
                                keys = args.keys if args.full_rounds else 0
                                found.update(main_thread_cpu(browser.stop_tracing(), keys))
                            else:
                                after = process_cpu()
                                found["all cpu browser"] = 1000 * (
                                    tree_cpu(after, os.getpid(), servers_pids)
                                    - tree_cpu(before, os.getpid(), servers_pids)
                                )
                                found["all cpu server"] = 1000 * (
                                    tree_cpu(after, servers[i].process.pid)
                                    - tree_cpu(before, servers[i].process.pid)
                                )
                            measured[(i, name)].append(found)
                browser.close()
        finally:
            for server in servers:
                server.stop()
    if not args.rounds:
        return
    print(f"\n{args.rounds} rounds, medians (min–max), ms")
    keys = ["load", "cards", "first_byte", "last_byte", "dcl", "dcl_end"]
    if args.full_rounds:
        keys += ["highlight_drawn", "highlight", "highlight_saved", "keystroke_median"]
    if not args.cpu:
        keys += ["all cpu browser", "all cpu server"]
    if args.cpu:
        keys += [f"cpu {key}" for key in CPU_KEYS]
        if args.full_rounds:
            keys += [f"cpu key {key}" for key in CPU_KEYS]
        for found in measured.values():
            for row in found:
                row.update({f"cpu {key}": row.get(key, 0.0) for key in CPU_KEYS})
                if args.full_rounds:
                    row.update({f"cpu key {k}": row.get(f"key {k}", 0.0) for k in CPU_KEYS})
    for i, tree in enumerate(trees):
        print(f"== {tree}")
        for key in keys:
            full = [r[key] for r in measured[(i, "full")] if r.get(key) is not None]
            empty = [r[key] for r in measured[(i, "empty")] if r.get(key) is not None]
            if not full and not empty:
                continue
            below = statistics.median(empty) if empty else 0
            ratio = statistics.median(full) / below if full and below else 0
            line = f"  {key:18} full {spread(full)}  empty {spread(empty)}  ratio {ratio:.2f}"
            print(line)


if __name__ == "__main__":
    main()
