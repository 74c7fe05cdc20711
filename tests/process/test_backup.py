"""A backup taken while gunicorn serves a steady write load holds every note that was
acknowledged before it began, and restores into a fresh instance that serves them."""

from __future__ import annotations

import sqlite3
import threading
import time

from tests.support.http import Client, words
from tests.support.servers import LiveServer, flask, instance_env

WRITERS = 4
DEADLINE = 60  # s: only reached when something is broken


def test_backup_under_load_then_restore_into_a_fresh_instance(tmp_path):
    server = LiveServer(tmp_path / "live", workers=2, WRITES_PER_MINUTE="1000000")
    acknowledged: list[tuple[float, str]] = []  # (when the 200 arrived, the note's body)
    failures: list[str] = []
    stop = threading.Event()
    try:
        selections = words(server.url)

        def write(index: int) -> None:
            client = Client(server.url)
            client.sign_up(f"writer{index}")
            n = 0
            while not stop.is_set():
                body = f"writer {index} note {n}"
                status, text = client.note(selections[(index * 31 + n) % len(selections)], body)
                if status == 200:
                    acknowledged.append((time.monotonic(), body))
                else:
                    failures.append(f"{status}: {text[:200]}")
                n += 1

        threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(acknowledged) >= 40, "40 notes acknowledged")

        began = time.monotonic()
        done = flask(server.env, "backup", str(tmp_path / "backup.db"))
        ended = time.monotonic()
        count_at_end = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= count_at_end + 20, "20 more notes after it")
        stop.set()
        for thread in threads:
            thread.join(DEADLINE)
    finally:
        stop.set()
        server.stop()
    assert not failures, failures[:5]
    assert "Backed up" in done.stdout and "secret_key" in done.stdout

    fresh = instance_env(tmp_path / "fresh")  # a new instance, no database yet
    restored = flask(fresh, "restore", str(tmp_path / "backup.db"))
    assert "Restored" in restored.stdout

    database = sqlite3.connect(tmp_path / "fresh" / "live.db")
    bodies = {row[0] for row in database.execute("SELECT body_markdown FROM annotations")}
    database.close()
    before = [body for when, body in acknowledged if when < began]
    assert len(before) >= 40
    assert [body for body in before if body not in bodies] == []
    after = [body for when, body in acknowledged if when > ended]
    assert [body for body in after if body in bodies] == []  # it is one moment's copy

    served = LiveServer(tmp_path / "fresh", workers=1, init=False)
    try:
        client = Client(served.url)
        assert client.get("/healthz")[0] == 200
        client.log_in("writer0")
        status, _, page = client.get(
            "/articles/russian-military-needed-in-syria-long-term-assad-says"
        )
        assert "writer 0 note 0" in page
    finally:
        served.stop()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
