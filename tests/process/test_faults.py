"""Database faults under gunicorn, as an operator meets them: writes answer 503 with
Retry-After and a message, reads go on where the database answers, the log has one line
per fault (not a traceback per request) and one when it is over, and a repaired database
is used again without a restart.

The SQLite file is made read-only with `chmod a-w`, the server running as root without
the capabilities that let root write through permissions (tests/support/disks.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from tests.conftest import SEED_SLUG
from tests.support.disks import without_override
from tests.support.http import HTMX, Client, words
from tests.support.postgres import ADMIN_URL, throwaway_database
from tests.support.servers import BIN, LiveServer

ARTICLE = f"/articles/{SEED_SLUG}"
FAULT_MESSAGE = "Saving is paused: the server cannot write to its database. Nothing was saved."


def gunicorn_obeying_permissions(folder: Path) -> Path:
    """A script that starts gunicorn as root that cannot write read-only files."""
    script = folder / "gunicorn-obeying-permissions"
    command = " ".join(without_override(BIN / "gunicorn"))
    script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    script.chmod(0o755)
    return script


def refused(client: Client, selection: dict, body: str) -> None:
    status, response, text = client.post(
        f"{ARTICLE}/annotations", {**selection, "body": body, "intent": "comment"}, HTMX
    )
    assert status == 503, text[:1000]
    assert response.getheader("Retry-After") == "30"
    assert response.getheader("HX-Retarget") == "#flash"
    assert FAULT_MESSAGE in text


def fault_lines(log: str, kind: str) -> list[str]:
    return re.findall(rf"Database fault \({re.escape(kind)}\).*", log)


def database_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def test_a_read_only_sqlite_file_refuses_writes_then_is_used_again_once_writable(tmp_path):
    database = tmp_path / "live.db"
    writable = LiveServer(tmp_path / "first", workers=1, database_url=f"sqlite:///{database}")
    try:
        selections = words(writable.url)
        client = Client(writable.url)
        client.sign_up("chmod")
        assert client.note(selections[0], "saved while writable")[0] == 200
    finally:
        writable.stop()

    for path in database_files(database):
        path.chmod(0o444)
    server = LiveServer(
        tmp_path,
        workers=2,
        database_url=f"sqlite:///{database}",
        init=False,
        script=gunicorn_obeying_permissions(tmp_path),
    )
    try:
        client = Client(server.url, cookie=client.cookie)
        client.take_csrf()
        for n in range(6):  # enough to reach both workers
            refused(client, selections[n + 1], f"read-only {n}")
        status, _, page = client.get(ARTICLE)
        assert status == 200 and "saved while writable" in page  # reads go on
        for _ in range(6):  # the anonymous page's revision: a read on a kept connection
            assert Client(server.url).get(ARTICLE)[0] == 200
        status, _, health = Client(server.url).get("/healthz")
        assert status == 503 and "read-only" in health

        for path in database_files(database):  # the operator's fix; no restart
            path.chmod(0o644)
        for n in range(4):
            assert client.note(selections[n + 10], f"writable again {n}")[0] == 200
        assert Client(server.url).get("/healthz")[0] == 200
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log
    started = [line for line in fault_lines(log, "read-only") if "is over" not in line]
    assert 1 <= len(started) <= 2, log  # one per worker that met it, whatever the requests
    # A worker says the fault is over at its next successful write. Which worker takes each
    # write is the kernel's choice (all may reach one that never met the fault): at most one
    # such line per worker that met it, never one without a fault before it.
    over = [line for line in fault_lines(log, "read-only") if "is over" in line]
    assert len(over) <= len(started), log
    if over:
        assert log.index(over[0]) > log.index(started[0]), log


def terminate_app_connections(name: str) -> int:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        (ended,) = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return ended


def test_postgres_restarted_read_only_then_dropped_under_gunicorn(tmp_path):
    with throwaway_database() as url:
        name = url.rsplit("/", 1)[1]
        server = LiveServer(tmp_path, workers=2, database_url=url)
        try:
            selections = words(server.url)
            client = Client(server.url)
            client.sign_up("operator")
            for n in range(4):
                assert client.note(selections[n], f"before {n}")[0] == 200

            # The server ends every connection (as a restart does): no request fails.
            assert terminate_app_connections(name) >= 1
            statuses = [client.get(ARTICLE)[0] for _ in range(4)]
            statuses += [client.note(selections[n + 4], f"after {n}")[0] for n in range(4)]
            assert statuses == [200] * 8

            # Read-only (as a standby is): writes refused, reads served.
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            terminate_app_connections(name)
            for n in range(4):
                refused(client, selections[n + 8], f"read-only {n}")
            assert client.get(ARTICLE)[0] == 200
            assert Client(server.url).get("/healthz")[0] == 503
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
            for n in range(4):  # every worker writes again at once
                assert client.note(selections[n + 12], f"writable {n}")[0] == 200

            # Dropped: writes refused, and the page that says so needs no database.
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            for n in range(6):
                refused(client, selections[n + 16], f"dropped {n}")
            status, _, page = client.get(ARTICLE)
            assert status == 503
            assert "<h1>503</h1>" in page and "Internal Server Error" not in page
            assert "the server cannot reach its database" in page
            status, _, health = Client(server.url).get("/healthz")
            assert status == 503 and "does not exist" in health
        finally:
            server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log
    for kind in ("read-only", "unreachable"):
        started = [line for line in fault_lines(log, kind) if "is over" not in line]
        assert 1 <= len(started) <= 2, log  # at most one per worker
    assert fault_lines(log, "busy") == [], log  # the ended connections cost nothing
