"""One reader request under the profiler, on the benchmark's corpus, in one process.

    .venv/bin/python tests/load/profile_reader.py [--notes 2000] [--members 300] [--profile]

Builds the corpus of `make bench` (the seed article in a class with its notes) into a
temporary SQLite file, then times the reader page, the sidebar and the notes at the deepest
spot for a student of the class (median ms, SQL statements, bytes); with --profile it prints
the functions one reader request spends its time in.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask_migrate import upgrade  # noqa: E402

from tests.conftest import SEEDS  # noqa: E402
from tests.load import corpus as corpora  # noqa: E402
from tests.load.bench import deepest_spot  # noqa: E402
from tests.load.inprocess import InProcess  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="marginalia-profile-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bench.db'}"
        app = InProcess(root, url, str(SEEDS))
        with app.app.app_context():
            upgrade()
            app.app.test_cli_runner().invoke(args=["seed"], catch_exceptions=False)
        engine = corpora.connect(url)
        built = corpora.build_class_corpus(engine, args.notes, args.members)
        student = app.client(built.reader)
        context = f"context=class-{built.classroom_id}"
        page = f"/articles/{built.slug}?{context}"
        spot = f"/articles/{built.slug}/spot?at={deepest_spot(engine, built)}&{context}"
        more_cards = f"/articles/{built.slug}/cards?offset=20&{context}"
        htmx = {"HX-Request": "true"}
        for path, label, headers in (
            (page, "reader page", None),
            (more_cards, "the sidebar's next cards", htmx),
            (spot, "notes at the deepest spot", htmx),
        ):
            found = app.measure(student, path, label, args.reps, headers)
            print(
                f"{label}: {found['ms']:.1f} ms ({found['cpu_ms']:.1f} CPU), "
                f"{found['statements']} statements "
                f"({found['sql_ms']:.1f} ms SQL), {found['bytes'] / 1024:.1f} KiB"
            )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.reps):
                student.get(page)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        app.close()
        engine.dispose()


if __name__ == "__main__":
    main()
