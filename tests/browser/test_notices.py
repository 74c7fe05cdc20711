"""Notices and the theme, in a real browser: a notice goes on its own after a while (not
while hovered or focused), says its message in the polite live region, and on the wide
reader sits clear of the article column, and on a phone at the bottom of the screen, clear of
the passage acted on; the theme toggle says its state, remembers it, and applies it before
the first paint."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_phone import PHONE, save_highlight, touch_page
from tests.browser.test_reader import drag_select
from tests.conftest import SEED_SLUG
from tests.support.axe import assert_no_axe_violations

pytestmark = pytest.mark.browser

SEED_URL = f"/articles/{SEED_SLUG}"
SHORT = 1_000  # ms: the lifetime this test gives notices (the page's own is longer)


def delete_a_new_highlight(page) -> None:
    drag_select(page, "Russian forces were needed in the country long-term")
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).click()
    # Said before the next act, as a person hears it (messages of one moment, within 80 ms,
    # are said together).
    expect(page.locator("#announcer")).to_have_text("Highlight saved.")
    page.locator(".card").first.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()


def test_the_undo_notice_waits_while_held_then_goes_and_was_announced(page):
    sign_up(page)
    page.goto(SEED_URL)
    region = page.locator("#flash")
    # Long enough to act on.
    assert int(region.get_attribute("data-dismiss-after")) >= 10_000
    page.evaluate(f"document.getElementById('flash').dataset.dismissAfter = {SHORT}")

    delete_a_new_highlight(page)
    notice = region.locator(".flash")
    # Said once, in words (the Undo button's label is not part of the message).
    expect(page.locator("#announcer")).to_have_text("Note deleted.")

    # Held by focus: it stays, well past its lifetime.
    page.get_by_role("button", name="Undo").focus()
    expect(notice).to_have_attribute("data-paused", "")
    page.wait_for_function("ms => new Promise(r => setTimeout(() => r(true), ms))", arg=4 * SHORT)
    expect(notice).to_be_visible()

    # Let go: it goes on its own.
    page.locator("#article-body").focus()
    expect(notice).to_have_count(0, timeout=40_000)
    # The message is still what the live region said.
    expect(page.locator("#announcer")).to_have_text("Note deleted.")
    assert page.errors == []


def test_a_notice_holding_focus_outlives_an_answer_that_clears_notices(page):
    sign_up(page)
    page.goto(SEED_URL)
    delete_a_new_highlight(page)
    undo = page.get_by_role("button", name="Undo")
    undo.focus()
    # Another answer arrives and would empty #flash out of band (as every card answer does).
    page.evaluate(
        """() => htmx.swap(document.getElementById("main"),
             '<div id="flash" hx-swap-oob="innerHTML"></div>', { swapStyle: "none" })"""
    )
    expect(undo).to_be_focused()
    # Its own answer takes it away: pressed, its work is done.
    undo.press("Enter")
    expect(page.locator("#flash .flash")).to_have_count(0)
    assert page.errors == []


@pytest.mark.parametrize("width", [1440, 960])
def test_beside_the_notes_a_notice_is_clear_of_the_article_and_on_screen(page, width):
    sign_up(page)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(SEED_URL)
    delete_a_new_highlight(page)
    notice = page.locator("#flash .flash").bounding_box()
    article = page.locator("article.article").bounding_box()
    assert notice["x"] >= article["x"] + article["width"]
    assert 0 <= notice["y"] and notice["y"] + notice["height"] <= 900, notice
    assert_no_axe_violations(page, "undo notice")


def test_the_theme_toggle_says_its_state_and_is_remembered(page):
    page.emulate_media(color_scheme="light")
    page.goto("/")
    toggle = page.get_by_role("button", name="Theme: System")
    expect(toggle).to_be_visible()
    paper = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(paper)

    toggle.click()
    expect(page.get_by_role("button", name="Theme: Light")).to_be_visible()
    page.get_by_role("button", name="Theme: Light").click()
    expect(page.get_by_role("button", name="Theme: Dark")).to_be_visible()
    expect(page.locator("#announcer")).to_have_text("Theme: Dark")
    dark = page.evaluate(paper)
    assert dark != light
    # Dark by the toggle while the system is light: as clean as by the system.
    assert_no_axe_violations(page, "library, dark by the toggle")

    # Remembered, and applied before the first paint: the theme is on <html> by the time
    # <body> exists, before anything in it can be painted.
    page.add_init_script(
        "new MutationObserver((records, observer) => {"
        "  if (!document.body) return;"
        "  window.__early = document.documentElement.dataset.theme || 'none';"
        "  observer.disconnect();"
        "}).observe(document, { childList: true, subtree: true });"
    )
    page.goto("/")
    expect(page.get_by_role("button", name="Theme: Dark")).to_be_visible()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("window.__early") == "dark"
    assert page.evaluate(paper) == dark

    # Back to the system's: dark when the system is dark.
    page.get_by_role("button", name="Theme: Dark").click()
    expect(page.get_by_role("button", name="Theme: System")).to_be_visible()
    assert page.evaluate(paper) == light
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(paper) == dark
    assert page.errors == []


# Where `phrase` is on the screen now (its first occurrence in the article's text).
PHRASE_RECT = """
phrase => {
  const body = document.getElementById("article-body");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  const at = text.indexOf(phrase);
  const point = (index) => {
    for (const [node, base] of nodes) {
      if (index >= base && index <= base + node.data.length) return [node, index - base];
    }
  };
  const range = document.createRange();
  range.setStart(...point(at));
  range.setEnd(...point(at + phrase.length));
  const r = range.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom };
}
"""


def test_on_a_phone_the_undo_notice_shows_where_the_reader_is_clear_of_the_passage(
    browser, live_server
):
    page = touch_page(browser, live_server, PHONE)
    try:
        sign_up(page)
        page.goto(SEED_URL)
        # Long enough for this test on a busy machine; the page's own is 12 s.
        page.evaluate("document.getElementById('flash').dataset.dismissAfter = 120000")
        phrase = "lay down their arms"  # far down the article
        card_id = save_highlight(page, phrase)
        start = page.locator(f"#{card_id}").get_attribute("data-start")
        page.evaluate("getSelection().removeAllRanges()")
        expect(page.get_by_role("toolbar")).to_be_hidden()
        # The highlight just above the bottom of the screen, where a notice would go.
        page.evaluate(
            """at => {
              const r = document.querySelector(`mark[data-at='${at}']`).getBoundingClientRect();
              window.scrollBy(0, r.bottom - (window.innerHeight - 60));
            }""",
            start,
        )
        assert page.evaluate("window.scrollY") > 1_000
        page.locator(f"mark[data-at='{start}']").first.tap()
        sheet = page.get_by_role("dialog", name="Notes")
        expect(sheet).to_be_visible()
        sheet.locator(f"#{card_id}").get_by_role("button", name="Delete").tap()

        # The notice is on the screen, over the sheet, its Undo focused and reachable.
        undo = page.get_by_role("button", name="Undo")
        expect(undo).to_be_focused()
        expect(page.locator("#announcer")).to_contain_text("Note deleted.")
        notice = page.locator("#flash .flash")
        height = page.viewport_size["height"]

        def on_screen():
            box = notice.bounding_box()
            assert 0 <= box["y"] and box["y"] + box["height"] <= height, box
            return box

        on_screen()
        # Back to the text: the passage acted on is in view, clear of the notice.
        sheet.get_by_role("button", name="Close notes").tap()
        expect(page.get_by_role("dialog")).to_have_count(0)
        box = on_screen()
        page.wait_for_function(
            "([phrase, top]) => { const r = (" + PHRASE_RECT.strip() + ")(phrase);"
            " return r.top >= 0 && r.bottom <= top; }",
            arg=[phrase, box["y"]],
        )
        # Nor over the Notes button.
        notes = page.locator(".notes-open").bounding_box()
        assert box["x"] + box["width"] <= notes["x"] or box["y"] + box["height"] <= notes["y"]

        # Still reachable: Undo brings the note back.
        undo.tap()
        expect(page.locator("#announcer")).to_contain_text("Note restored.")
        expect(page.locator(f"mark[data-at='{start}']").first).to_be_visible()
        assert page.errors == []
    finally:
        page.context.close()
