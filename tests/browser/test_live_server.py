"""The live-server fixture itself: it must not depend on the checkout's path or the terminal."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.parse
import urllib.request
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


def test_demo_links_open_on_the_server_make_run_started(tmp_path):
    # `make run` serves on HOST:PORT; `flask demo` in another terminal, with the same
    # environment, prints links that open on that server.
    server = LiveServer(tmp_path, workers=1)
    try:
        env = {**server.env, "HOST": "127.0.0.1", "PORT": str(server.port)}
        flask = Path(sys.executable).parent / "flask"
        output = subprocess.run(
            [str(flask), "--app", "webapp", "demo"], env=env, capture_output=True, text=True
        )
        assert output.returncode == 0, output.stderr
        login, reader, report = re.findall(r"https?://\S+", output.stdout)
        password = re.search(r"password\s+(\S+)", output.stdout).group(1)
        instructor = re.search(r"instructor\s+(\S+)", output.stdout).group(1)
        assert login == f"{server.url}/login"

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = browser.open(login).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        fields = {"username": instructor, "password": password, "csrf_token": token}
        browser.open(login, urllib.parse.urlencode(fields).encode())
        for link, expected in ((reader, 'id="article-body"'), (report, "Participation")):
            with browser.open(link) as response:
                assert response.url == link  # not sent back to the login page
                assert expected in response.read().decode()
    finally:
        server.stop()
