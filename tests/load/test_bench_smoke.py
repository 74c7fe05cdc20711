"""`make bench` in its tiny mode, end to end: a corpus of 20 notes, one-second slices.

These prove the harness runs and produces a figure for every scenario, on SQLite and on
PostgreSQL, with wrk (when installed) and with the Python client, and for growth. They
assert nothing about speed: the figures are whatever this machine gives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import psycopg

from tests.conftest import PROJECT_ROOT
from tests.functional.test_postgres import ADMIN_URL

BENCH = PROJECT_ROOT / "tests" / "load" / "bench.py"
SCENARIOS = {
    "hello",
    "reader_class",
    "reader_rotating",
    "write_class",
    "poll",
    "write_private",
    "library",
    "article_anon",
}
OPTIONAL = {"spot"}
EXPECTED_STATUS = {"poll": 204}


def run_bench(tmp_path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tiny", "--out", str(tmp_path), *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def check_scenarios(results: dict) -> None:
    # The notes at one spot are measured where the app serves them.
    assert SCENARIOS <= {s["key"] for s in results["scenarios"]} <= SCENARIOS | OPTIONAL
    for scenario in results["scenarios"]:
        assert scenario["runs"], scenario["key"]
        for run in scenario["runs"]:
            assert run["requests"] > 0, scenario["key"]
            assert run["rps"] > 0 and run["ratio"] > 0, scenario["key"]
        assert scenario["ratio"]["median"] is not None
    # Every scenario was probed and the app answered it as the scenario expects.
    pages = {p["key"]: p for p in results["pages"]}
    assert SCENARIOS <= set(pages) <= SCENARIOS | OPTIONAL
    for key, page in pages.items():
        assert page["status"] == EXPECTED_STATUS.get(key, 200), (key, page["status"])
    assert pages["reader_class"]["marks"] > 0
    assert pages["reader_class"]["bytes"] > 0
    assert len(results["scaling"]) == 4
    assert all(row["statements"] > 0 and row["bytes"] > 0 for row in results["scaling"])


def test_bench_tiny_on_sqlite_with_the_browser(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# App\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nrest\n")
    run_bench(tmp_path, "--readme", str(readme))

    results = json.loads((tmp_path / "results.json").read_text())
    check_scenarios(results)
    assert results["machine"]["database"] == "sqlite"
    assert results["machine"]["cores"] >= 1 and results["machine"]["python"]
    metrics = {m["key"]: m for m in results["browser"]["metrics"]}
    assert set(metrics) == {"load", "cards", "highlight", "highlight_saved", "keystroke_median"}
    for key, metric in metrics.items():
        assert metric["full"]["median"] > 0 and metric["empty"]["median"] > 0, key
        assert metric["ratio"] is not None, key
    # The first cards were really seen on the page with notes.
    assert all(r["had_cards"] for r in results["browser"]["rounds"]["full"])

    table = (tmp_path / "results.md").read_text()
    assert table.count("\n| ") > 15
    text = readme.read_text()
    assert "old" not in text and text.startswith("# App\n") and text.endswith("\n\nrest\n")
    assert table.strip() in text


def test_bench_tiny_on_postgresql_with_the_python_client(tmp_path):
    result = run_bench(
        tmp_path, "--client", "python", "--no-browser", env={"DATABASE_URL": ADMIN_URL}
    )
    results = json.loads((tmp_path / "results.json").read_text())
    check_scenarios(results)
    assert results["machine"]["database"] == "postgresql"
    assert results["machine"]["client"].startswith("a threaded Python client")
    assert results["browser"] == {"skipped": "--no-browser"}
    # The run used a database of its own and dropped it.
    name = re.search(r"throw-away database (marginalia_bench_\w+)", result.stderr).group(1)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        left = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchall()
    assert left == []


def test_bench_growth_tiny(tmp_path):
    run_bench(tmp_path, "--growth")
    results = json.loads((tmp_path / "growth.json").read_text())
    counts = [level["notes"] for level in results["levels"]]
    assert counts[0] < counts[1] < counts[2]
    assert counts[2] >= 1_000
    assert [s["key"] for s in results["scenarios"]] == ["reader_class", "write_class"]
    for scenario in results["scenarios"]:
        assert len(scenario["levels"]) == 3
        for level in scenario["levels"]:
            assert level["p50_ms"]["median"] > 0
            assert level["latency_ratio"]["median"] > 0
    assert "notes" in (tmp_path / "growth.md").read_text()
