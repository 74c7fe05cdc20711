"""A busy server, in a real browser: a write refused with 503 + Retry-After is sent again by
the page and saved once; when the server stays busy, the reader is told and keeps what they
typed. The test process holds SQLite's write lock, as another worker would. A fault an
operator must fix (here a full disk) is said at once, without waiting to try again."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, sign_up
from tests.browser.test_reader import card_ids, drag_select
from tests.conftest import SEED_SLUG
from tests.support.disks import fill, tmpfs

pytestmark = pytest.mark.browser

PHRASE = "Hmeimim military base"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    # A write gives up on the lock after 50 ms (and answers 503) instead of 10 s.
    server = LiveServer(tmp_path_factory.mktemp("busy"), workers=2, SQLITE_BUSY_TIMEOUT_MS="50")
    yield server
    server.stop()


@pytest.fixture
def reader(browser, busy_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=busy_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, "busy")
    page.goto(f"/articles/{SEED_SLUG}")
    yield page
    assert errors == []
    context.close()


@pytest.fixture
def other_worker(busy_server):
    connection = sqlite3.connect(busy_server.root / "live.db", isolation_level=None, timeout=10)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def stored_bodies(server, body: str) -> int:
    with sqlite3.connect(server.root / "live.db") as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM annotations WHERE body_markdown = ?", (body,)
        ).fetchone()
    connection.close()
    return count


# Everything the flash region says, however briefly.
FLASH_LOG = """() => {
  window.flashLog = [];
  const flash = document.getElementById("flash");
  new MutationObserver(() => window.flashLog.push(flash.textContent))
    .observe(flash, { childList: true, subtree: true, characterData: true });
}"""


def write_comment(page, body: str) -> None:
    drag_select(page, PHRASE)
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    page.get_by_placeholder("Your comment (Markdown)").fill(body)


def test_a_busy_answer_is_sent_again_and_saved_once(reader, busy_server, other_worker):
    write_comment(reader, "Saved after a wait")
    before = set(card_ids(reader))
    reader.evaluate(FLASH_LOG)
    other_worker.execute("BEGIN IMMEDIATE")
    with reader.expect_response(lambda r: r.request.method == "POST" and r.status == 503):
        reader.get_by_role("button", name="Save comment").click()
    other_worker.execute("ROLLBACK")  # the lock comes free before the page tries again

    expect(reader.locator(".card")).to_have_count(len(before) + 1, timeout=10_000)
    (new_id,) = set(card_ids(reader)) - before
    expect(reader.locator(f"#annotation-{new_id} .comment")).to_have_text("Saved after a wait")
    assert any("trying again" in said for said in reader.evaluate("window.flashLog"))
    expect(reader.locator("#flash")).not_to_contain_text("trying again")
    assert stored_bodies(busy_server, "Saved after a wait") == 1


def test_a_server_that_stays_busy_is_reported_and_the_text_kept(reader, busy_server, other_worker):
    write_comment(reader, "Still here after the wait")
    before = set(card_ids(reader))
    other_worker.execute("BEGIN IMMEDIATE")
    refused = []
    reader.on(
        "response", lambda r: refused.append(r.status) if r.request.method == "POST" else None
    )
    reader.get_by_role("button", name="Save comment").click()

    # Shown in the flash area, said in the page's live region.
    alert = reader.locator("#flash .flash-error")
    expect(alert).to_contain_text("nothing was changed", timeout=15_000)
    expect(reader.locator("#announcer")).to_contain_text("nothing was changed")
    assert refused == [503, 503, 503]  # the first try and two more, each answered 503
    expect(reader.get_by_placeholder("Your comment (Markdown)")).to_have_value(
        "Still here after the wait"
    )
    expect(reader.get_by_role("toolbar")).to_be_visible()
    other_worker.execute("ROLLBACK")
    assert set(card_ids(reader)) == before
    assert stored_bodies(busy_server, "Still here after the wait") == 0

    # The reader saves again by hand once the server is free.
    reader.get_by_role("button", name="Save comment").click()
    expect(reader.locator(".card")).to_have_count(len(before) + 1)
    assert stored_bodies(busy_server, "Still here after the wait") == 1


@pytest.fixture
def full_disk_server(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        server = LiveServer(tmp_path, workers=1, database_url=f"sqlite:///{disk / 'live.db'}")
        server.disk = disk
        yield server
        server.stop()


def test_a_full_disk_is_reported_at_once_and_the_text_kept(browser, full_disk_server):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=full_disk_server.url
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, "full")
    page.goto(f"/articles/{SEED_SLUG}")
    write_comment(page, "Kept while the disk is full")
    before = set(card_ids(page))
    filler = fill(full_disk_server.disk)
    posts = []
    page.on("response", lambda r: posts.append(r.status) if r.request.method == "POST" else None)
    page.get_by_role("button", name="Save comment").click()

    alert = page.locator("#flash .flash-error")
    expect(alert).to_have_text(
        "Saving is paused: the server cannot write to its database. Nothing was saved."
    )
    assert posts == [503]  # said at once: a fault is not retried in the background
    expect(page.get_by_placeholder("Your comment (Markdown)")).to_have_value(
        "Kept while the disk is full"
    )
    assert set(card_ids(page)) == before

    filler.unlink()  # the operator frees space; the reader saves again by hand
    page.get_by_role("button", name="Save comment").click()
    expect(page.locator(".card")).to_have_count(len(before) + 1)
    assert errors == []
    context.close()
