"""Under gunicorn: a SQLite file deleted under the server refuses writes instead of
acknowledging them into the void; a server refuses to start on a database without the
schema and says what to run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

from tests.support.http import Client, words
from tests.support.servers import LiveServer, flask, free_port, gunicorn

START_TIMEOUT = 60


def test_writes_after_the_file_is_deleted_are_503_and_none_is_acknowledged(tmp_path):
    server = LiveServer(tmp_path, workers=2)
    try:
        selections = words(server.url)
        client = Client(server.url)
        client.sign_up("before")
        assert client.note(selections[0], "saved before")[0] == 200
        path = str(tmp_path / "live.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)

        statuses = []
        for n in range(12):  # enough to reach both workers, whatever the order
            status, response, text = client.post(
                "/articles/russian-military-needed-in-syria-long-term-assad-says/annotations",
                {**selections[n + 1], "body": f"after {n}", "intent": "comment"},
                {"HX-Request": "true"},
            )
            statuses.append(status)
            assert status == 503, text[:500]
            assert response.getheader("Retry-After")
            assert "nothing was saved" in text
        status, _, text = Client(server.url).get("/healthz")
        assert status == 503 and "no database file" in text

        # Workers started while the file is gone (killed, timed out) are forked from the
        # master as it was at start: they answer the same 503, and the server keeps running.
        killed = server.worker_pids()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT
        while len(set(server.worker_pids()) - set(killed)) < 2:  # (killed: reaped or not)
            assert server.process.poll() is None, server.log_path.read_text()
            assert time.monotonic() < deadline, "gunicorn started no new workers"
            time.sleep(0.1)
        for n in range(12):
            status, response, text = client.post(
                "/articles/russian-military-needed-in-syria-long-term-assad-says/annotations",
                {**selections[n + 1], "body": f"after the restart {n}", "intent": "comment"},
                {"HX-Request": "true"},
            )
            assert status == 503, text[:500]
            assert "nothing was saved" in text
        assert server.process.poll() is None, server.log_path.read_text()
        assert not os.path.exists(path), "the server made a new, empty database"
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log


def start_and_expect_refusal(tmp_path, env) -> str:
    """Run gunicorn as `make run` does; it must exit by itself. Returns its output."""
    done = subprocess.run(
        gunicorn(free_port(), 2),
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert done.returncode != 0
    return done.stdout + done.stderr


def test_gunicorn_refuses_to_start_without_the_schema_then_init_fixes_it(tmp_path):
    database = tmp_path / "live.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "test",
        "SEEDS_DIR": str(tmp_path),
    }
    output = start_and_expect_refusal(tmp_path, env)  # no file at all
    assert "there is no database file" in output
    assert "flask --app webapp init" in output
    assert not database.exists()

    sqlite3.connect(database).close()  # an empty database
    output = start_and_expect_refusal(tmp_path, env)
    assert "has no schema" in output
    assert "flask --app webapp init" in output

    flask(env, "init")  # what the message says, on the same empty file
    url = env["DATABASE_URL"]
    server = LiveServer(tmp_path / "served", workers=1, init=False, database_url=url)
    try:
        assert Client(server.url).get("/healthz")[0] == 200
    finally:
        server.stop()
