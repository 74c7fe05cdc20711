"""The live-server fixture itself: it must not depend on the checkout's path or the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.browser.conftest import LiveServer

LONG = "a-rather-long-folder-name-for-a-checkout-of-the-project"


def ppid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def test_workers_are_counted_when_gunicorn_runs_from_a_long_path(tmp_path):
    # A checkout at a long path: its gunicorn's command line is longer than a terminal line,
    # so "gunicorn" falls off a width-limited `ps` listing.
    bin_dir = tmp_path / LONG / LONG / "clone" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "gunicorn"
    script.symlink_to(Path(sys.executable).parent / "gunicorn")
    root = tmp_path / "server"
    root.mkdir()
    server = LiveServer(root, workers=3, script=script, COLUMNS="80")
    try:
        assert str(script) in Path(f"/proc/{server.process.pid}/cmdline").read_text()
        pids = server.worker_pids()
        assert len(pids) == 3
        assert all(ppid_of(pid) == server.process.pid for pid in pids)
    finally:
        server.stop()
