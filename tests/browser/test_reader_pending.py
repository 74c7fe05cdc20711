"""Pressing Highlight draws the passage at once, as a pending mark, before the server has
answered; the server's marks take its place, and a write that fails takes it away and says
so. The answer is held in the network (Playwright's routing) to see the moment between."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import announced, open_article
from tests.browser.test_reader import card_ids, drag_select, mark_text
from tests.support.axe import assert_no_axe_violations

pytestmark = pytest.mark.browser

PHRASE = "the main issue being discussed"
CREATE = re.compile(r"/articles/[^/?]+/annotations(\?|$)")


def hold_the_write(page) -> list:
    """Every new note's request is held (not sent on) until the test lets it go."""
    held = []
    page.route(
        lambda url: CREATE.search(url) is not None,
        lambda route: held.append(route) if route.request.method == "POST" else route.fallback(),
    )
    return held


def press_highlight(page, held: list) -> None:
    drag_select(page, PHRASE)
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Highlight", exact=True).click()
    for _ in range(1_000):  # the route's handler runs as the page's events are taken in
        if held:
            break
        page.evaluate("0")
    assert len(held) == 1


def pending_text(page) -> str:
    return "".join(page.locator("#article-body mark.pending-mark").all_text_contents())


def test_the_highlight_shows_at_once_and_the_servers_mark_replaces_it(page):
    open_article(page)
    held = hold_the_write(page)
    press_highlight(page, held)

    # Before any answer: the passage is drawn, pending, and nothing counts it as a note.
    pending = page.locator("#article-body mark.pending-mark")
    expect(pending.first).to_be_visible()
    assert pending_text(page) == PHRASE
    expect(pending.first).to_have_class(re.compile(r"\bhl-yellow\b"))
    assert page.locator("#article-body mark[data-at]").count() == 0
    assert page.locator(".card").count() == 0
    # Its text reads as before: no highlight role, nothing hidden from a screen reader.
    assert pending.evaluate_all(
        "ms => ms.every(m => m.getAttribute('role') === 'none' && !m.closest('[aria-hidden]'))"
    )
    assert "saved" not in announced(page).inner_text().lower()
    assert_no_axe_violations(page)

    held[0].continue_()
    expect(page.locator(".card")).to_have_count(1)
    (note,) = card_ids(page)
    expect(pending).to_have_count(0)
    assert mark_text(page, note) == PHRASE
    expect(announced(page)).to_contain_text("Highlight saved.")
    page.unroute_all()
    # The text is whole again: offsets and quotes of the next note are right.
    drag_select(page, "Interfax reported")
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator(".card")).to_have_count(2)
    assert page.locator(f"#annotation-{max(card_ids(page))} .quote").inner_text() == (
        "Interfax reported"
    )
    assert page.errors == []


def test_a_write_that_fails_takes_the_pending_mark_away_and_says_so(page):
    open_article(page)
    held = hold_the_write(page)
    press_highlight(page, held)
    expect(page.locator("#article-body mark.pending-mark").first).to_be_visible()

    held[0].abort("connectionrefused")
    expect(page.locator("#flash")).to_contain_text("The server cannot be reached")
    expect(announced(page)).to_contain_text("The server cannot be reached")
    assert page.locator("#article-body mark").count() == 0
    assert page.locator(".card").count() == 0
    assert "saved" not in announced(page).inner_text().lower()
    # The passage is selected again, its toolbar back: pressing Highlight once more saves it.
    assert page.evaluate("getSelection().toString()") == PHRASE
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    page.unroute_all()
    toolbar.get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator(".card")).to_have_count(1)
    assert mark_text(page, card_ids(page)[0]) == PHRASE
    assert page.errors == []


def test_a_write_the_server_refuses_takes_the_pending_mark_away(page):
    open_article(page)
    held = hold_the_write(page)
    # The article changed under the reader: the quote no longer matches its offsets.
    page.evaluate(
        """document.body.addEventListener("htmx:configRequest", (event) => {
             event.detail.parameters.exact = "something else";
           }, { once: true })"""
    )
    press_highlight(page, held)
    expect(page.locator("#article-body mark.pending-mark").first).to_be_visible()
    held[0].continue_()
    expect(page.locator("#flash")).to_contain_text("does not match the article")
    assert page.locator("#article-body mark").count() == 0
    assert page.locator(".card").count() == 0
    assert page.errors == []
