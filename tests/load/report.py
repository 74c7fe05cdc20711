"""The benchmark's figures: medians with their range, targets met or not, the Markdown
tables, the README block and the facts about the machine. No speed is asserted here."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
GROWTH_START = "<!-- bench-growth:start -->"
GROWTH_END = "<!-- bench-growth:end -->"


def spread(values: list[float]) -> dict:
    """The median of the runs with their minimum and maximum."""
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def verdict(value: float | None, target: float | None, at_least: bool = True) -> str | None:
    """ "met" or "not met" against a target; None when there is no target or no value."""
    if target is None or value is None:
        return None
    return "met" if (value >= target if at_least else value <= target) else "not met"


def number(value: float | None) -> str:
    """A figure with two significant digits below 10, whole above (1,234)."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 10 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2g}" if abs(value) < 0.1 else f"{value:.2f}"


def ranged(stats: dict, suffix: str = "") -> str:
    if stats["median"] is None:
        return "–"
    if stats["min"] == stats["max"]:
        return f"{number(stats['median'])}{suffix}"
    return f"**{number(stats['median'])}{suffix}** ({number(stats['min'])}–{number(stats['max'])})"


def kib(size: int | None) -> str:
    return "–" if size is None else f"{size / 1024:,.1f} KiB"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def target_text(target: dict | None) -> str:
    if not target:
        return "–"
    parts = []
    if "ratio" in target:
        parts.append(f"≥ {number(target['ratio'])} × floor")
    if "max_ratio" in target:
        parts.append(f"≤ {number(target['max_ratio'])} ×")
    if "errors" in target:
        parts.append(f"{target['errors']} errors")
    if "bytes" in target:
        parts.append(f"≤ {target['bytes'] // 1024} KiB")
    return ", ".join(parts)


def mark(result: str | None) -> str:
    return {"met": "met", "not met": "**not met**"}.get(result or "", "–")


def machine_facts(database: str, database_version: str, client: str) -> dict:
    def command(*args: str) -> str:
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return ""
        return out.stdout.strip()

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "database": database,
        "database_version": database_version,
        "gunicorn": metadata.version("gunicorn"),
        "client": client,
        "load_average_start": round(os.getloadavg()[0], 2),
        "commit": command("git", "rev-parse", "--short", "HEAD"),
    }


def machine_line(machine: dict, settings: dict) -> str:
    db = machine["database"]
    db_text = (
        f"SQLite {machine['sqlite']}"
        if db == "sqlite"
        else f"PostgreSQL {machine['database_version']}"
    )
    load = machine["load_average_start"], machine.get("load_average_end")
    return (
        f"Measured {machine['date']} at commit `{machine['commit'] or '?'}` on {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['system']}, Python {machine['python']}, {db_text}; "
        f"gunicorn {machine['gunicorn']} with {settings['workers']} sync workers on loopback; "
        f"load from {machine['client']} with {settings['connections']} connections, "
        f"{settings['runs']} runs of {settings['slices']} slices of "
        f"{number(settings['seconds'])} s per scenario, interleaved round-robin. Load average "
        f"(1 minute) {number(load[0])} before the run and {number(load[1])} after it."
    )


def throughput_table(scenarios: list[dict]) -> str:
    rows = []
    for s in scenarios:
        rows.append(
            [
                s["label"],
                number(s["rps"]["median"]),
                ranged(s["ratio"], " ×") if s["key"] != "hello" else "1 (the floor)",
                number(s["p50_ms"]["median"]),
                number(s["p99_ms"]["median"]),
                f"{s['errors']} / {s['requests']:,}",
                target_text(s.get("target")),
                mark(s.get("verdict")),
            ]
        )
    return table(
        [
            "scenario",
            "req/s",
            "ratio to floor: median (min–max)",
            "p50 ms",
            "p99 ms",
            "errors",
            "target",
            "",
        ],
        rows,
    )


def pages_table(pages: list[dict]) -> str:
    rows = []
    for p in pages:
        wire = kib(p["gzip_wire_bytes"])
        wire += " (gzip)" if p["compressed"] else " (not compressed)"
        rows.append(
            [
                p["label"],
                str(p["status"]),
                kib(p["bytes"]),
                wire,
                kib(p["gzip_possible_bytes"]),
                f"{p['marks']:,}",
                f"{p['listed_ids']:,}" if p["listed_ids"] is not None else "–",
                target_text(p.get("target")),
                mark(p.get("verdict")),
            ]
        )
    return table(
        [
            "page",
            "status",
            "bytes",
            "on the wire, gzip asked",
            "gzip could make it",
            "`<mark>`s",
            "ids listed in marks",
            "target",
            "",
        ],
        rows,
    )


def browser_table(browser: dict) -> str:
    if browser.get("skipped"):
        return f"Browser: not measured ({browser['skipped']})."
    rows = []
    for m in browser["metrics"]:
        rows.append(
            [
                m["label"],
                ranged(m["full"], " ms"),
                ranged(m["empty"], " ms"),
                number(m["ratio"]) + " ×" if m["ratio"] is not None else "–",
                target_text(m.get("target")),
                mark(m.get("verdict")),
            ]
        )
    return table(
        [
            f"Chromium ({browser['reps']} rounds)",
            browser["full_label"],
            browser["empty_label"],
            "ratio",
            "target",
            "",
        ],
        rows,
    )


def scaling_table(scaling: list[dict]) -> str:
    if not scaling:
        return "In one process: not measured (--only)."
    rows = [
        [
            s["label"],
            f"{s['statements']:,}",
            kib(s["bytes"]),
            number(s["ms"]),
            number(s["sql_ms"]),
            (number(s["ratio"]) + " ×") if s.get("ratio") is not None else "–",
        ]
        for s in scaling
    ]
    return table(
        [
            "in one process, one request (median)",
            "SQL statements",
            "bytes",
            "ms",
            "of which SQL ms",
            "ms ratio to the row above",
        ],
        rows,
    )


def markdown(results: dict) -> str:
    settings = results["settings"]
    corpus = settings["corpus"]
    parts = [
        machine_line(results["machine"], settings),
        "",
        f"Corpus: the seed article in a class of {corpus['members']} members with "
        f"{corpus['notes']:,} class notes ({corpus['replies']:,} replies on "
        f"{corpus['with_replies']:.0%} of them, {corpus['tagged']:,} tagged, "
        f"{corpus['votes']:,} votes); random seed {corpus['seed']}. Every figure is a ratio to "
        "`GET /bench/hello` of the same app in the same run.",
        "",
        throughput_table(results["scenarios"]),
        "",
        pages_table(results["pages"]),
        "",
        browser_table(results["browser"]),
        "",
        scaling_table(results["scaling"]),
    ]
    if results.get("notes"):
        parts += ["", *[f"- {note}" for note in results["notes"]]]
    return "\n".join(parts) + "\n"


def growth_markdown(results: dict) -> str:
    settings = results["settings"]
    levels = results["levels"]
    header = ["scenario"] + [f"{level['notes']:,} notes: p50 ms, × floor" for level in levels]
    header += [f"p50 ratio at {level['notes']:,}" for level in levels[1:]] + ["target", ""]
    rows = []
    for s in results["scenarios"]:
        row = [s["label"]]
        for level in s["levels"]:
            row.append(f"{ranged(level['p50_ms'])}, {number(level['ratio']['median'])} ×")
        for level in s["levels"][1:]:
            row.append(ranged(level["latency_ratio"], " ×"))
        row += [target_text(s.get("target")), mark(s.get("verdict"))]
        rows.append(row)
    return (
        machine_line(results["machine"], settings)
        + "\n\nGrowth: the same reader page and the same write with more notes in the database "
        "(spread over other articles and classes), one server per size, measured interleaved.\n\n"
        + table(header, rows)
        + "\n"
        + (
            "".join(f"\n- {note}" for note in results.get("notes", [])) + "\n"
            if results.get("notes")
            else ""
        )
    )


def replace_block(text: str, start: str, end: str, content: str) -> str | None:
    """`text` with what lies between the two markers replaced; None without both markers."""
    at = text.find(start)
    until = text.find(end, at + len(start)) if at >= 0 else -1
    if at < 0 or until < 0:
        return None
    return text[: at + len(start)] + "\n" + content.rstrip("\n") + "\n" + text[until:]
