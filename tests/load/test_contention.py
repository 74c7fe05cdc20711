"""Writes under lock contention: gunicorn with 4 workers on one SQLite file, 32 writers at once.

A write that cannot get the database in time answers 503 with Retry-After and changes
nothing; a 5xx never follows a commit. The busy timeout is lowered to a few milliseconds,
and another program (a backup, the command line) takes SQLite's write lock now and then for
longer than that, so that writers meet a locked database on any machine, fast or slow: the
app's own writers take turns without waiting out their timeout.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, SEED_SLUG

WRITERS = 32
NOTES_EACH = 40  # each note is created, then edited once: up to 2,560 writes in all
DEADLINE = 15  # seconds: a slow machine does fewer writes, never takes longer
HOLD = 0.1  # seconds the other program holds SQLite's write lock, five busy timeouts


@dataclass
class Write:
    kind: str  # "create" or "edit"
    body: str
    status: int
    retry_after: str | None
    annotation_id: int | None  # the created note (from HX-Trigger), or the edited one
    message: str = ""  # what a 503 says

    @classmethod
    def of(cls, kind, body, response, text, annotation_id=None) -> Write:
        message = text if response.status == 503 else ""
        return cls(
            kind, body, response.status, response.getheader("Retry-After"), annotation_id, message
        )


class Client:
    """One reader's session: a cookie and the CSRF token, over one connection at a time."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, fields: dict | None = None, htmx: bool = False):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRFToken": self.token}
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response, text

    def sign_up(self, username: str) -> None:
        _, form = self.request("GET", "/signup")
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        fields = {"username": username, "password": PASSWORD, "csrf_token": self.token}
        response, _ = self.request("POST", "/signup", fields)
        assert response.status == 302, response.status

    def copy(self) -> Client:
        """Another connection in the same session (a reader with several tabs)."""
        other = Client(self.port)
        other.cookie, other.token = self.cookie, self.token
        return other


def writer(client: Client, index: int, version: str, spans, deadline: float, out: list[Write]):
    """Create notes and edit each once, until the deadline."""
    for n in range(NOTES_EACH):
        if time.monotonic() > deadline:
            return
        begin, end, exact = spans[(index * NOTES_EACH + n) % len(spans)]
        body = f"note {index}-{n}"
        fields = {"start": begin, "end": end, "exact": exact, "version": version}
        fields |= {"intent": "comment", "body": body, "audience": "private"}
        response, text = client.request(
            "POST", f"/articles/{SEED_SLUG}/annotations", fields, htmx=True
        )
        created = None
        if response.status == 200:
            created = json.loads(response.getheader("HX-Trigger"))["annotation-saved"]["id"]
        out.append(Write.of("create", body, response, text, created))
        if created is None:
            continue
        body = f"edit {index}-{n}"
        response, text = client.request(
            "POST", f"/annotations/{created}/edit", {"body": body}, htmx=True
        )
        out.append(Write.of("edit", body, response, text, created))


def hold_the_lock_now_and_then(database, stop: threading.Event) -> None:
    """Another program's write transactions, each longer than the app's busy timeout."""
    connection = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            stop.wait(HOLD)
            connection.execute("ROLLBACK")
            stop.wait(HOLD * 2)
    finally:
        connection.close()


@pytest.fixture
def contended_server(tmp_path):
    server = LiveServer(
        tmp_path, workers=4, SQLITE_BUSY_TIMEOUT_MS="20", WRITES_PER_MINUTE="1000000"
    )
    yield server
    server.stop()


def test_lock_contention_is_a_503_that_changed_nothing_never_a_500(contended_server):
    database = contended_server.root / "live.db"
    with sqlite3.connect(database) as connection:
        version, text = connection.execute(
            "SELECT v.id, v.text FROM document_versions v JOIN documents d"
            " ON d.current_version_id = v.id WHERE d.slug = ?",
            (SEED_SLUG,),
        ).fetchone()
    connection.close()
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\w+(?: \w+){0,4}", text)]

    # Four accounts, each writing from eight sessions at once (sign-ups hash passwords: slow).
    accounts = []
    for n in range(WRITERS // 8):
        accounts.append(Client(contended_server.port))
        accounts[-1].sign_up(f"writer{n}")
    results: list[list[Write]] = [[] for _ in range(WRITERS)]
    deadline = time.monotonic() + DEADLINE
    threads = [
        threading.Thread(
            target=writer,
            args=(accounts[i % len(accounts)].copy(), i, str(version), spans, deadline, results[i]),
        )
        for i in range(WRITERS)
    ]
    stop = threading.Event()
    other_program = threading.Thread(target=hold_the_lock_now_and_then, args=(database, stop))
    other_program.start()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        other_program.join()
    writes = [write for per_writer in results for write in per_writer]

    statuses = {write.status for write in writes}
    log = contended_server.log_path.read_text()
    assert statuses <= {200, 503}, (sorted(statuses), log[-3000:])
    assert sum(w.kind == "create" for w in writes) >= WRITERS  # every writer got to write
    refused = [write for write in writes if write.status == 503]
    assert refused, "no write met a locked database: the test did not test contention"
    assert all(write.retry_after and write.retry_after.isdigit() for write in refused)
    assert all("nothing was changed" in write.message for write in refused)

    with sqlite3.connect(database) as connection:
        stored = dict(connection.execute("SELECT id, body_markdown FROM annotations"))
    connection.close()
    created = {w.annotation_id: w for w in writes if w.kind == "create" and w.status == 200}
    assert created, "no write got through: the test did not test commits"
    assert set(stored) == set(created)  # every 200 is stored; no refused create is
    refused_bodies = {w.body for w in writes if w.kind == "create" and w.status == 503}
    assert not refused_bodies & set(stored.values())
    for edit in (w for w in writes if w.kind == "edit"):
        expected = edit.body if edit.status == 200 else created[edit.annotation_id].body
        assert stored[edit.annotation_id] == expected, edit
