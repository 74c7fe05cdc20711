"""Two app servers (two gunicorn masters on two ports, one SECRET_KEY) on one PostgreSQL
database, as several hosts behind a reverse proxy run it: a session made on one works on
the other, a note saved through one reaches a reader polling the other within 5 s, and
32 writers spread over both lose nothing."""

from __future__ import annotations

import re
import threading
import time

import psycopg

from tests.conftest import SEED_SLUG
from tests.support.http import Client, words
from tests.support.postgres import throwaway_database
from tests.support.servers import LiveServer, flask, instance_env

LIVE_SECONDS = 5  # the contract for a change to reach another reader
WRITERS, NOTES_EACH, ACCOUNTS = 32, 2, 4
DEADLINE = 60


def test_two_hosts_share_sessions_live_updates_and_lose_no_write(tmp_path):
    with throwaway_database() as url:
        env = {"SECRET_KEY": "two-hosts-secret", "WRITES_PER_MINUTE": "1000000"}
        flask(instance_env(tmp_path / "setup", url, **env), "init")
        servers: dict[str, LiveServer | BaseException] = {}

        def start(name: str) -> None:
            try:
                servers[name] = LiveServer(
                    tmp_path / name, workers=2, database_url=url, init=False, **env
                )
            except BaseException as error:  # noqa: BLE001 - raised below
                servers[name] = error

        starting = [threading.Thread(target=start, args=(name,)) for name in "ab"]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        a, b = servers["a"], servers["b"]
        try:
            for server in (a, b):
                if isinstance(server, BaseException):
                    raise server
            session_made_on_one_works_on_the_other(a, b)
            a_note_through_one_is_live_through_the_other(a, b)
            many_writers_over_both_lose_nothing(a, b, url)
        finally:
            running = [server for server in (a, b) if isinstance(server, LiveServer)]
            for server in running:
                server.process.terminate()
            for server in running:
                server.wait_stopped()


def on(server: LiveServer, other: Client) -> Client:
    """A client of `server` carrying another client's session."""
    client = Client(server.url, cookie=other.cookie)
    client.csrf = other.csrf
    return client


def session_made_on_one_works_on_the_other(a: LiveServer, b: LiveServer) -> None:
    on_a = Client(a.url)
    on_a.sign_up("roaming")
    on_b = on(b, on_a)
    status, _, page = on_b.get("/")
    assert status == 200
    assert "Signed in as <strong>roaming</strong>" in page
    status, text = on_b.note(words(b.url)[0], "saved through B with the session from A")
    assert status == 200, text[:300]


def a_note_through_one_is_live_through_the_other(a: LiveServer, b: LiveServer) -> None:
    writer = Client(a.url)
    writer.sign_up("live-writer")
    reader = on(b, writer)  # the same person, reading on the other host
    status, _, page = reader.get(f"/articles/{SEED_SLUG}?context=private")
    cursor = re.search(r'id="live"[^>]*cursor=(\d+)', page).group(1)

    status, text = writer.note(words(a.url)[5], "live from host A")
    assert status == 200, text[:300]
    saved = time.monotonic()
    while True:
        status, _, text = reader.get(
            f"/articles/{SEED_SLUG}/changes?cursor={cursor}&context=private",
            {"HX-Request": "true"},
        )
        if status == 200 and "live from host A" in text:
            break
        assert status in (200, 204), text[:300]
        assert time.monotonic() - saved < LIVE_SECONDS, "the note did not reach host B in 5 s"
        time.sleep(0.2)


def many_writers_over_both_lose_nothing(a: LiveServer, b: LiveServer, url: str) -> None:
    selections = words(a.url)
    # Four accounts, eight writers each (as if in several tabs): sign-ups hash passwords,
    # which would cost more time than the writes.
    accounts = []
    for index in range(ACCOUNTS):
        client = Client((a, b)[index % 2].url)
        client.sign_up(f"writer{index}")
        accounts.append(client)
    acknowledged: list[str] = []
    refused: list[str] = []

    def write(index: int) -> None:
        account = accounts[index % ACCOUNTS]
        clients = [on(a, account), on(b, account)]
        try:
            for n in range(NOTES_EACH):
                body = f"writer {index} note {n}"
                selection = selections[(index * 7 + n) % len(selections)]
                status, text = clients[(index + n) % 2].note(selection, body)  # both hosts
                if status == 200:
                    acknowledged.append(body)
                else:
                    refused.append(f"{status} {text[:200]}")
        except Exception as error:  # noqa: BLE001 - reported below
            refused.append(repr(error))

    threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert not [t for t in threads if t.is_alive()], "a writer is stuck"
    assert refused == []
    assert len(acknowledged) == WRITERS * NOTES_EACH
    with psycopg.connect(url) as connection:
        stored = {row[0] for row in connection.execute("SELECT body_markdown FROM annotations")}
    assert [body for body in acknowledged if body not in stored] == []
