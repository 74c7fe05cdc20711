"""The real app under gunicorn on a free loopback port, as `make run` serves it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

from tests.conftest import SEEDS

BIN = Path(sys.executable).parent
START_TIMEOUT = 60  # s: generous, the machine may be busy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent`, from /proc: a command line printed by `ps` is
    cut to the terminal's width (80 columns under pytest), and with it the program's name."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it
        if int(text.rpartition(")")[2].split()[1]) == parent:
            found.append(int(text.split(maxsplit=1)[0]))
    return sorted(found)


def flask(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `flask --app webapp ARGS` in a process of its own."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "webapp", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    )


def gunicorn(port: int, workers: int, script: Path | None = None) -> list[str]:
    """The command that serves the app as `make run` does (`script`: gunicorn started from
    another path, e.g. a link to ours)."""
    return [
        str(script or BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--preload",
        *NO_CONTROL_SOCKET,
        "webapp.wsgi:app",
    ]


# gunicorn 27 opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl): the
# servers tests run side by side would take it from each other. They need none.
NO_CONTROL_SOCKET = (
    ["--no-control-socket"] if int(metadata.version("gunicorn").split(".")[0]) >= 27 else []
)


def instance_env(
    root: Path,
    database_url: str | None = None,
    extra_seeds: dict[str, str] | None = None,
    **env: str,
) -> dict[str, str]:
    """The environment of an instance kept in `root`: its own SQLite file unless
    `database_url` says otherwise, a copy of the seeds, a fixed SECRET_KEY."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.iterdir():
        shutil.copy(path, seeds / path.name)
    for name, text in (extra_seeds or {}).items():
        (seeds / name).write_text(text, encoding="utf-8")
    return {
        **os.environ,
        "DATABASE_URL": database_url or f"sqlite:///{root / 'live.db'}",
        "SECRET_KEY": "browser-test-secret",
        "SEEDS_DIR": str(seeds),
        **env,
    }


class LiveServer:
    """gunicorn serving webapp.wsgi:app on a loopback port, by default on its own SQLite
    file in `root` set up with `flask init` (seeds copied into `root`, plus `extra_seeds`).
    `script` starts gunicorn from another path; `env` adds to the environment."""

    def __init__(
        self,
        root: Path,
        workers: int = 2,
        *,
        database_url: str | None = None,
        init: bool = True,
        extra_seeds: dict[str, str] | None = None,
        script: Path | None = None,
        **env: str,
    ):
        self.root = root
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = instance_env(root, database_url, extra_seeds, **env)
        if init:
            flask(self.env, "init")
        self.log_path = root / f"gunicorn-{self.port}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            gunicorn(self.port, workers, script),
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start within {START_TIMEOUT} s")
        # One worker answered; the master forks the others one after another (on a busy
        # machine, some only after the first answer): the server is up once all are.
        while len(self.worker_pids()) < self.workers:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start {self.workers} workers in time")
            time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master) running now."""
        return child_pids(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.wait_stopped()

    def wait_stopped(self) -> None:
        """Wait for a terminated server (terminate several first to stop them together)."""
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()
