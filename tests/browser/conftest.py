"""Browser fixtures: the real app under gunicorn on a free loopback port, and Debian's chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, SEEDS

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# A test article in the seed's shape with characters outside the Basic Multilingual Plane.
EMOJI_ARTICLE = """# Celebrations 🎉 in the Margins

By [Test Desk](#)

March 3, 2024

The class cheered 🎉 when the 𝔐arginalia demo worked, and everyone clapped 👏🏽 twice.

A second paragraph follows with plain words, so that selections can cross blocks.

Original url:

<https://example.org/celebrations>
"""
EMOJI_SLUG = "celebrations-in-the-margins"


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


class LiveServer:
    """gunicorn serving create_app() on a loopback port, on its own SQLite file.

    `script` starts gunicorn from another path (a link to ours); `env` adds to the environment.
    """

    def __init__(self, root: Path, workers: int = 2, script: Path | None = None, **env: str):
        self.root = root
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        seeds = root / "seeds"
        seeds.mkdir()
        for path in SEEDS.iterdir():
            shutil.copy(path, seeds / path.name)
        (seeds / "emoji.md").write_text(EMOJI_ARTICLE, encoding="utf-8")
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{root / 'live.db'}",
            "SECRET_KEY": "browser-test-secret",
            "SEEDS_DIR": str(seeds),
            **env,
        }
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [str(bin_dir / "flask"), "--app", "webapp", "init"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.log = open(root / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(script or bin_dir / "gunicorn"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "webapp:create_app()",
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(self.root / 'gunicorn.log').read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start within 30 s")

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master) running now."""
        return child_pids(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


_users = iter(range(1, 10_000))


def sign_up(page, prefix: str = "reader") -> str:
    """Create a fresh account through the sign-up form; returns its username."""
    username = f"{prefix}{next(_users)}"
    page.goto("/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return username


def log_in(page, username: str) -> None:
    """Log in through the login form as an existing account (password PASSWORD)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
