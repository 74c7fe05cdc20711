"""kill -9 under a write load loses nothing that was acknowledged.

Writers save notes through gunicorn; the master and every worker are killed with SIGKILL
while requests are in flight; a new server on the same database then shows every note
that was answered 200. On SQLite this holds because a commit is in the WAL file before
the answer is sent: synchronous=NORMAL gives up durability only on a power loss or an
operating system crash, never on a process crash (README, "Operating").
"""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import threading
import time

import pytest

from tests.conftest import SEED_SLUG
from tests.support.http import Client, words
from tests.support.postgres import throwaway_database
from tests.support.servers import LiveServer

WRITERS = 6
ACKNOWLEDGED_BEFORE_KILL = 40
LOAD_TIMEOUT = 60  # s: the kill comes after this at the latest


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    with throwaway_database() as url:
        yield url


def write_until_killed(client: Client, selections, name: str, acknowledged: list, stop) -> None:
    n = 0
    while not stop.is_set():
        body = f"[{name}:{n}]"  # no body is a part of another
        try:
            status, _ = client.note(selections[n % len(selections)], body)
        except (OSError, http.client.HTTPException):
            return  # the server is gone
        if status == 200:
            acknowledged.append((name, body))
        n += 1


def test_kill_9_during_writes_loses_no_acknowledged_note(tmp_path, database_url):
    server = LiveServer(tmp_path, workers=2, database_url=database_url, WRITES_PER_MINUTE="10000")
    selections = words(server.url)
    clients = {}
    for n in range(WRITERS):
        clients[f"writer{n}"] = client = Client(server.url, timeout=10)
        client.sign_up(f"writer{n}")
    acknowledged: list[tuple[str, str]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=write_until_killed, args=(client, selections, name, acknowledged, stop)
        )
        for name, client in clients.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_TIMEOUT
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in [*server.worker_pids(), server.process.pid]:
        os.kill(pid, signal.SIGKILL)  # mid-request: nothing is flushed or closed
    server.wait_stopped()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    if database_url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "live.db") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.close()
    restarted = LiveServer(tmp_path / "restarted", workers=1, database_url=database_url, init=False)
    try:
        for name, client in clients.items():
            again = Client(restarted.url, cookie=client.cookie)
            status, _, text = again.get(f"/api/articles/{SEED_SLUG}/annotations")
            assert status == 200
            missing = [body for who, body in acknowledged if who == name and body not in text]
            assert missing == [], f"acknowledged, then lost by kill -9: {missing}"
    finally:
        restarted.stop()
