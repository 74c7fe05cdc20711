"""Load generators: Debian's wrk when it is installed, else a threaded Python client.

Both send a cycle of prepared requests over C connections for S seconds and report the
same numbers: completed requests, seconds, errors (4xx/5xx or broken connections) and
latency percentiles. Neither checks a body; the benchmark probes each scenario once first.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Slice:
    """What one load generator saw in one slice of time."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\r", "\\r") + '"'


def lua_script(requests: list[Request]) -> str:
    """A wrk script that cycles through `requests` (each thread from its own place) and
    prints its summary as one JSON line."""
    formatted = []
    for request in requests:
        headers = dict(request.headers)
        if request.body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        table = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        body = lua_string(request.body) if request.body is not None else "nil"
        formatted.append(
            f"  wrk.format({lua_string(request.method)}, {lua_string(request.path)}, "
            f"{{{table}}}, {body}),"
        )
    return "\n".join(
        [
            "local requests = {",
            *formatted,
            "}",
            "local threads = 0",
            "function setup(thread)",
            "  thread:set('first', threads * 7919)",
            "  threads = threads + 1",
            "end",
            "local n = 0",
            "function request()",
            "  n = n + 1",
            "  return requests[((n + (first or 0)) % #requests) + 1]",
            "end",
            "function done(summary, latency, requests)",
            "  local e = summary.errors",
            "  io.write(string.format("
            '\'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, '
            '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n\', '
            "summary.requests, summary.duration, e.status, "
            "e.connect + e.read + e.write + e.timeout, "
            "latency:percentile(50), latency:percentile(99), latency.max))",
            "end",
            "",
        ]
    )


class Wrk:
    """Debian's wrk, driven by a generated Lua script."""

    name = "wrk"

    def __init__(self, executable: str, folder: Path):
        self.executable = executable
        out = subprocess.run([executable, "-v"], capture_output=True, text=True, check=False)
        self.description = (out.stdout + out.stderr).split("Copyright")[0].strip() or "wrk"
        self.scripts: dict[str, Path] = {}
        self.folder = folder  # for the generated scripts

    def run(self, base_url: str, requests: list[Request], seconds: float, connections: int):
        script = lua_script(requests)
        if script not in self.scripts:
            path = self.folder / f"scenario-{len(self.scripts)}.lua"
            path.write_text(script, encoding="utf-8")
            self.scripts[script] = path
        threads = min(2, connections)
        out = subprocess.run(
            [
                self.executable,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                str(self.scripts[script]),
                base_url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk gave no summary: {out.stdout}\n{out.stderr}")
        data = json.loads(line[6:])
        return Slice(
            requests=data["requests"],
            seconds=data["duration_us"] / 1e6,
            errors=data["status_errors"] + data["socket_errors"],
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            max_ms=data["max_us"] / 1000,
        )


class PythonClient:
    """One thread and one HTTP/1.1 connection per simulated client (stdlib only)."""

    name = "python"
    description = "a threaded Python client (http.client, one connection per thread)"
    MAX_REQUESTS = 200_000  # per slice, whatever the speed

    def run(self, base_url: str, requests: list[Request], seconds: float, connections: int):
        host, port = base_url.removeprefix("http://").split(":")
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        began = time.perf_counter()
        stop_at = began + seconds

        def worker(index: int) -> None:
            nonlocal errors
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            mine, failed, n = [], 0, index * 7919
            while len(mine) < self.MAX_REQUESTS // connections:
                request = requests[n % len(requests)]
                n += 1
                sent = time.perf_counter()
                if sent >= stop_at:
                    break
                try:
                    connection.request(
                        request.method, request.path, body=request.body, headers=headers_of(request)
                    )
                    response = connection.getresponse()
                    response.read()
                    ok = response.status < 400
                except (OSError, http.client.HTTPException):
                    connection.close()
                    ok = False
                done = time.perf_counter()
                if done <= stop_at:  # as wrk: what is still running at the end is not counted
                    mine.append(done - sent)
                    failed += not ok
            connection.close()
            with lock:
                latencies.extend(mine)
                errors += failed

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        latencies.sort()
        return Slice(
            requests=len(latencies),
            seconds=seconds,
            errors=errors,
            p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
            p99_ms=latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0.0,
            max_ms=latencies[-1] * 1000 if latencies else 0.0,
        )


def headers_of(request: Request) -> dict[str, str]:
    headers = dict(request.headers)
    if request.body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return headers


def load_generator(choice: str, folder: Path):
    """wrk if asked for or installed (its scripts go in `folder`), else the Python client."""
    executable = shutil.which("wrk")
    if choice == "wrk" and executable is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk`, or use --client python")
    if choice in ("auto", "wrk") and executable:
        return Wrk(executable, folder)
    return PythonClient()
