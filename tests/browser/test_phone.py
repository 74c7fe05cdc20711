"""The reader on phones and tablets (touch emulation): a single-row toolbar at the bottom
that leaves the selection in view, touch targets of at least 24 px, notes in a bottom
sheet that closes back to the same place, a saved note confirmed where the reader is, a
one-line header, and at 1,024 px the notes beside lines of 60-80 characters."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_article, watch_errors

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
TABLET = {"width": 768, "height": 1024}
SMALL_LAPTOP = {"width": 1024, "height": 768}

# Select `phrase` (its n-th occurrence in the article's text) as a finger would leave it,
# after scrolling it to `where` ("start", "center" or "end") of the screen.
SELECT = """
([phrase, where]) => {
  const body = document.getElementById("article-body");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  const at = text.indexOf(phrase);
  if (at < 0) throw new Error("phrase not found: " + phrase);
  function point(index) {
    for (const [node, base] of nodes) {
      if (index >= base && index <= base + node.data.length) return [node, index - base];
    }
  }
  const range = document.createRange();
  range.setStart(...point(at));
  range.setEnd(...point(at + phrase.length));
  range.startContainer.parentElement.scrollIntoView({ block: where });
  if (where === "end") window.scrollBy(0, 0);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const r = range.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom };
}
"""

# Every control a finger may need on the page that can be seen now, with its size.
TARGETS = """
() => {
  const seen = [];
  const query = "a[href], button, summary, select, .swatch, "
    + "input:not([type=hidden]):not([type=radio])";
  for (const el of document.querySelectorAll(query)) {
    if (el.closest(".swatch") && !el.matches(".swatch")) continue;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (!el.getClientRects().length || style.visibility === "hidden") continue;
    if (r.width <= 1 || r.height <= 1 || r.right <= 0 || r.bottom <= 0) continue; // visually hidden
    if (el.closest(".visually-hidden, .toolbar-hint")) continue;
    seen.push({ what: el.outerHTML.slice(0, 90), width: r.width, height: r.height });
  }
  return seen;
}
"""

LINE_LENGTHS = """
() => {
  // Characters on each line of the article's longest paragraph, through a Range per character.
  const paragraphs = [...document.querySelectorAll("#article-body p")];
  const p = paragraphs.sort((a, b) => b.textContent.length - a.textContent.length)[0];
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  const lines = [];
  let top = null;
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (let i = 0; i < node.data.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top === null || rect.top > top + rect.height / 2) { lines.push(0); top = rect.top; }
      lines[lines.length - 1] += 1;
    }
  }
  return lines;
}
"""


def touch_page(browser, live_server, viewport):
    context = browser.new_context(
        viewport=viewport, has_touch=True, is_mobile=True, base_url=live_server.url
    )
    return watch_errors(context.new_page())


@pytest.fixture
def phone(browser, live_server):
    page = touch_page(browser, live_server, PHONE)
    yield page
    page.context.close()


@pytest.fixture(params=[PHONE, TABLET], ids=["375", "768"])
def handheld(request, browser, live_server):
    page = touch_page(browser, live_server, request.param)
    yield page
    page.context.close()


def select(page, phrase: str, where: str = "center") -> dict:
    rect = page.evaluate(SELECT, [phrase, where])
    expect(page.get_by_role("toolbar")).to_be_visible()
    return rect


def save_highlight(page, phrase: str) -> str:
    """Highlight `phrase` with the toolbar; the new card's id."""
    before = page.locator(".card").count()
    select(page, phrase)
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).tap()
    expect(page.locator(".card")).to_have_count(before + 1)
    return page.locator(".card").last.get_attribute("id")


def small_targets(page) -> list[dict]:
    return [t for t in page.evaluate(TARGETS) if t["width"] < 24 or t["height"] < 24]


def test_toolbar_is_one_row_at_the_bottom_and_leaves_the_selection_in_view(handheld):
    page = handheld
    open_article(page)
    # A passage at the very bottom of the screen: where the bar appears.
    select(page, "the main issue being discussed", where="end")
    toolbar = page.locator("#annotate-form")  # the bar (its role may sit on an inner list)
    height = page.viewport_size["height"]
    page.wait_for_function(
        """() => {
          const bar = document.getElementById("annotate-form").getBoundingClientRect();
          const sel = window.getSelection().getRangeAt(0).getBoundingClientRect();
          return sel.bottom <= bar.top;
        }"""
    )
    box = toolbar.bounding_box()
    assert toolbar.evaluate("t => getComputedStyle(t).position") == "fixed"
    assert abs(box["y"] + box["height"] - height) <= 1, box
    assert box["x"] == 0 and abs(box["width"] - page.viewport_size["width"]) <= 1
    # One row: every visible control shares the same line.
    tops = toolbar.evaluate(
        """t => [...t.querySelectorAll(".swatch, .tool")].filter(e => e.getClientRects().length)
                 .map(e => Math.round(e.getBoundingClientRect().top))"""
    )
    assert len(tops) >= 7 and max(tops) - min(tops) <= 4, tops
    assert box["height"] < 64, box
    # Nothing of the bar lies beyond the screen's edge.
    assert toolbar.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    assert page.errors == []


def test_every_control_is_at_least_24_px(browser, live_server):
    for viewport in (PHONE, TABLET, SMALL_LAPTOP):
        page = touch_page(browser, live_server, viewport)
        try:
            open_article(page)
            save_highlight(page, "the main issue being discussed")
            page.evaluate("window.scrollTo(0, 0)")
            found = page.evaluate(TARGETS)
            assert len(found) > 5, found
            assert small_targets(page) == [], viewport
            # The toolbar, with a selection.
            select(page, "Russian forces were needed")
            assert small_targets(page) == [], viewport
            page.evaluate("window.getSelection().removeAllRanges()")
            expect(page.get_by_role("toolbar")).to_be_hidden()
            # The notes: in the sheet on phones and tablets, beside the text at 1,024 px.
            opener = page.locator(".notes-open")
            if opener.is_visible():
                opener.tap()
                expect(page.get_by_role("dialog", name="Notes")).to_be_visible()
            card = page.locator(".card").first
            expect(card).to_be_visible()
            assert len(small_targets(page)) == 0, (viewport, small_targets(page))
            assert page.errors == []
        finally:
            page.context.close()


def test_tapping_a_highlight_opens_its_notes_in_a_sheet_that_closes_back(phone):
    page = phone
    open_article(page)
    card_id = save_highlight(page, "the main issue being discussed")
    start = page.locator(f"#{card_id}").get_attribute("data-start")
    mark = page.locator(f"mark[data-at='{start}']")
    page.evaluate(
        "at => { document.querySelector(`mark[data-at='${at}']`).scrollIntoView(); "
        "window.scrollBy(0, -120); }",
        start,
    )
    scroll = page.evaluate("window.scrollY")
    mark.tap()

    sheet = page.get_by_role("dialog", name="Notes")
    expect(sheet).to_be_visible()
    assert sheet.get_attribute("aria-modal") == "true"
    card = page.locator(f"#{card_id}")
    expect(card).to_be_visible()
    expect(card).to_be_focused()
    assert card.evaluate("c => c.closest('#notes-sheet') !== null")
    box = sheet.bounding_box()
    assert abs(box["y"] + box["height"] - page.viewport_size["height"]) <= 1

    sheet.get_by_role("button", name="Close notes").tap()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#sidebar")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('mark.hl')")
    assert page.evaluate("window.scrollY") == scroll

    # The notes button and Escape work alike.
    page.locator(".notes-open").tap()
    expect(sheet).to_be_visible()
    expect(page.locator("#notes-sheet-title")).to_be_focused()
    # A modal sheet: Tab goes round inside it.
    for _ in range(40):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('notes-sheet').contains(document.activeElement)"
        )
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".notes-open")).to_be_focused()
    assert page.evaluate("window.scrollY") == scroll
    assert page.errors == []


def test_a_saved_note_is_confirmed_where_the_reader_is(phone):
    page = phone
    open_article(page)
    # Far down the article: the notes are nowhere near.
    rect = select(page, "Russian armed forces")
    page.get_by_role("toolbar").get_by_role("button", name="Comment", exact=True).tap()
    page.get_by_placeholder("Your comment (Markdown)").fill("A note far down the page.")
    scroll = page.evaluate("window.scrollY")
    page.get_by_role("button", name="Save comment").tap()

    toast = page.locator("#saved-toast")
    expect(toast).to_contain_text("Comment saved")
    box = toast.bounding_box()
    height = page.viewport_size["height"]
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, box
    moved = page.evaluate("window.scrollY") - scroll
    # At the bottom, where the toolbar was, clear of the passage as it is on the screen now.
    assert box["y"] + box["height"] > height - 120, (box, height)
    top, bottom = rect["top"] - moved, rect["bottom"] - moved
    assert box["y"] >= bottom or box["y"] + box["height"] <= top, (box, rect, moved)
    notes_button = page.locator(".notes-open").bounding_box()
    assert box["x"] + box["width"] <= notes_button["x"], (box, notes_button)

    toast.get_by_role("button", name="Show note").tap()
    card = page.locator(".card").filter(has_text="A note far down the page.")
    expect(card).to_be_visible()
    expect(card).to_be_focused()
    expect(card).to_be_in_viewport()
    assert page.errors == []


def test_the_header_is_one_line_on_a_phone(phone):
    page = phone
    open_article(page, prefix="a-rather-long-name")
    header = page.locator(".site-header")
    box = header.bounding_box()
    assert box["height"] <= 60, box
    tops = header.evaluate(
        """h => [...h.querySelectorAll(".brand, nav > a, nav > form")]
                 .filter(e => e.getClientRects().length)
                 .map(e => e.getBoundingClientRect())
                 .map(r => Math.round(r.top + r.height / 2))"""
    )
    assert len(tops) >= 4 and max(tops) - min(tops) <= 4, tops
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The notifications link keeps its name.
    expect(page.get_by_role("link", name="Notifications")).to_be_visible()


def test_at_1024_px_the_notes_sit_beside_lines_of_60_to_80_characters(browser, live_server):
    page = touch_page(browser, live_server, SMALL_LAPTOP)
    try:
        open_article(page)
        article = page.locator("#article-body").bounding_box()
        sidebar = page.locator("#sidebar").bounding_box()
        assert sidebar["x"] >= article["x"] + article["width"], (article, sidebar)
        assert sidebar["y"] < article["y"] + 200  # beside, not under
        lines = page.evaluate(LINE_LENGTHS)
        full = sorted(lines[:-1])
        assert len(full) >= 3, lines
        median = full[len(full) // 2]
        assert 60 <= median <= 80, lines
        width_ch = page.evaluate(
            """() => {
              const body = document.getElementById("article-body");
              const probe = document.createElement("span");
              probe.style.cssText = "display:inline-block;width:1ch";
              body.appendChild(probe);
              const ch = probe.getBoundingClientRect().width;
              probe.remove();
              return body.getBoundingClientRect().width / ch;
            }"""
        )
        assert 50 <= width_ch <= 80, width_ch
        # The sheet is not used beside the text.
        expect(page.locator(".notes-open")).to_be_hidden()
        assert page.errors == []
    finally:
        page.context.close()


def test_the_notes_at_a_spot_follow_a_delete_an_undo_and_an_edit(phone):
    page = phone
    open_article(page)
    # Long enough for this test on a busy machine; the page's own is 12 s.
    page.evaluate("document.getElementById('flash').dataset.dismissAfter = 120000")
    outer = save_highlight(page, "the main issue being discussed")
    page.evaluate("getSelection().removeAllRanges()")
    inner = save_highlight(page, "the main issue")
    page.evaluate("getSelection().removeAllRanges()")
    expect(page.get_by_role("toolbar")).to_be_hidden()
    start = page.locator(f"#{outer}").get_attribute("data-start")
    page.locator(f"mark[data-at='{start}']").first.tap()
    sheet = page.get_by_role("dialog", name="Notes")
    expect(sheet).to_be_visible()
    spot = page.locator("#spot")
    title = spot.locator(".spot-title")
    expect(title).to_have_text("2 notes on this passage")
    expect(title).to_be_focused()

    # Delete one of them from the list: the panel shows the other alone, and says so.
    inner_id = inner.split("-")[1]
    spot.locator(f"[data-spot-note='{inner_id}']").get_by_role("link").tap()
    expect(page.locator(f"#{inner}")).to_be_focused()
    page.locator(f"#{inner}").get_by_role("button", name="Delete").tap()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    expect(title).to_have_text("1 note on this passage")
    expect(spot.locator(f"[data-spot-note='{inner_id}']")).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text("1 note on this passage.")
    expect(undo).to_be_focused()

    # Undo: the restored card has focus, and the panel has the note again.
    undo.tap()
    expect(page.locator(f"#{inner}")).to_be_focused()
    expect(title).to_have_text("2 notes on this passage")
    expect(spot.locator(f"[data-spot-note='{inner_id}']")).to_have_count(1)
    expect(page.locator(f"#{inner}")).to_be_focused()

    # An edit shows there too.
    card = page.locator(f"#{outer}")
    card.get_by_role("link", name="Add comment").tap()
    card.locator("textarea").fill("Refugees first.")
    card.get_by_role("button", name="Save").tap()
    outer_id = outer.split("-")[1]
    expect(spot.locator(f"[data-spot-note='{outer_id}'] .comment")).to_have_text("Refugees first.")
    expect(title).to_have_text("2 notes on this passage")
    assert page.errors == []
