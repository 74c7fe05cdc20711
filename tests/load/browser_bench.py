"""In Chromium (Debian's, through Playwright): the reader with many notes against the same
reader with none, round by round. Times are taken inside the page with performance.now().

- page load: navigation start to the load event, and to the sidebar's first card (or, on
  a page with no notes, to the moment the sidebar's list exists);
- Highlight: a passage selected with the mouse, from pressing the toolbar's button to the
  first new `mark` painted in the article (the pending one the page draws at once), and to
  the saved one painted (a `mark[data-at]`, from the server's answer); several passages a
  round, each pressed after an uneven pause (the same ones on every page), the round's
  median kept: the mark is drawn a few milliseconds after the press and the rest is the
  wait for the next frame, so one press a round measured mostly where on the frame clock
  it fell (one round's figure moved by 30 % from that alone);
- typing: per keystroke in the comment box, from keydown to the frame after it. The keys
  come at uneven intervals (the same ones on every page): at a fixed interval they fall at
  the same few points of the browser's frame clock, and where they fall (which shifts with
  how long each key takes to send) moved a round's median by half or more, either way.

htmx's CDN is answered with the local copy (as a browser with it cached would have it): a
machine without internet would otherwise wait for the name lookup to fail, which takes
from a few milliseconds to five seconds, and time that instead of the page.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in
from webapp.config import HTMX_CDN_URL

HTMX_COPY = Path(__file__).resolve().parents[2] / "static" / "vendor" / "htmx.min.js"

TIMEOUT_MS = 60_000

# Installed before any page script: notes when the sidebar and its first card appear.
WATCH_SIDEBAR = """
(() => {
  const seen = (window.__bench = { sidebar: null, firstCard: null });
  const look = () => {
    if (seen.sidebar === null && document.getElementById("cards")) seen.sidebar = performance.now();
    if (seen.firstCard === null && document.querySelector("#cards [id^=annotation-]")) {
      seen.firstCard = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(document, { childList: true, subtree: true });
})();
"""

# Where a reader would drag to select `length` characters of one block, about `which` of
# the way into the article (the text may be cut into many marks): the passage scrolled
# into view, the centres of its first and last characters (viewport coordinates), and
# the id of its block.
PASSAGE_POINTS = """
([which, length]) => {
  const body = document.getElementById("article-body");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const chars = []; // [text node, index] of each character in a span of the text
  while (walker.nextNode()) {
    const text = walker.currentNode;
    if (!text.parentElement.closest("[data-o]")) continue;
    for (let i = 0; i < text.data.length; i++) chars.push([text, i]);
  }
  const blockOf = (at) => chars[at][0].parentElement.closest("[id^=block-]");
  const plain = (at) => /\\w/.test(chars[at][0].data[chars[at][1]]);
  let at = Math.floor(chars.length * which);
  while (at < chars.length - length &&
         !(plain(at) && plain(at + length - 1) && blockOf(at) === blockOf(at + length - 1))) {
    at++;
  }
  const [first, firstIndex] = chars[at];
  const [last, lastIndex] = chars[at + length - 1];
  first.parentElement.scrollIntoView({ block: "center" });
  const centre = (node, index) => {
    const range = document.createRange();
    range.setStart(node, index);
    range.setEnd(node, index + 1);
    const box = range.getBoundingClientRect();
    return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
  };
  const block = blockOf(at);
  return {
    first: centre(first, firstIndex),
    last: centre(last, lastIndex),
    block: block ? block.id : null,
  };
}
"""

# Arms a watch for the first mark added to the block, and the first saved one (with its
# data-at, from the server), each painted (the frame after it), from the moment the
# toolbar's Highlight button is pressed (pointer down on it, or its form sent: a keyboard
# press has no pointer).
WATCH_NEW_MARK = """
(blockId) => {
  const state = (window.__benchMark = { pressed: null, drawn: null, painted: null, saved: null });
  const body = document.getElementById("article-body");
  const hasMark = (node, selector) => node.nodeType === 1 &&
    (node.matches(selector) || node.querySelector(selector)) &&
    (!blockId || node.id === blockId || node.closest("#" + CSS.escape(blockId)));
  const painted = (key) => {
    state[key] = -1; // seen, not yet painted
    requestAnimationFrame(() => setTimeout(() => { state[key] = performance.now(); }));
  };
  const observer = new MutationObserver((records) => {
    if (state.pressed === null) return;
    for (const record of records) {
      const added = Array.from(record.addedNodes);
      if (state.painted === null && added.some((node) => hasMark(node, "mark"))) {
        state.drawn = performance.now();
        painted("painted");
      }
      if (state.saved === null && added.some((node) => hasMark(node, "mark[data-at]"))) {
        observer.disconnect();
        painted("saved");
        return;
      }
    }
  });
  observer.observe(body, { childList: true, subtree: true });
  const press = () => { if (state.pressed === null) state.pressed = performance.now(); };
  const button = document.querySelector("[role=toolbar] button[value=highlight]");
  button.addEventListener("pointerdown", press, { capture: true, once: true });
  button.form.addEventListener("submit", press, { capture: true, once: true });
}
"""

# The toolbar offers the passage just selected (not a comment's passage kept open).
TOOLBAR_READY = """
() => {
  const form = document.getElementById("annotate-form");
  const box = form && form.querySelector(".comment-box");
  return form && !form.hidden && form.elements.start.value !== "" && (!box || box.hidden);
}
"""

WATCH_KEYS = """
() => {
  const box = document.activeElement;
  window.__benchKeys = [];
  box.addEventListener("keydown", () => {
    const pressed = performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      window.__benchKeys.push(performance.now() - pressed);
    }));
  }, { capture: true });
  return box.tagName;
}
"""

PAGE_TIMES = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const seen = window.__bench || {};
  return {
    load: nav.loadEventStart,
    cards: seen.firstCard !== null && seen.firstCard !== undefined ? seen.firstCard : seen.sidebar,
    had_cards: seen.firstCard !== null && seen.firstCard !== undefined,
  };
}
"""

TYPED = "A comment typed key by key, to time each keystroke while the page is busy. "
# The pause after each key (ms): as a person types, unevenly, and the same on every page.
KEY_PAUSES = tuple(random.Random(11).uniform(25, 65) for _ in range(500))
# Where each round's Highlight passages lie (a share of the way into the article), and the
# pause before each press (ms): over a frame and more (60 Hz), the same on every page.
HIGHLIGHT_AT = (0.5, 0.42, 0.58, 0.34, 0.66, 0.46, 0.54)
PRESS_PAUSES = tuple(random.Random(12).uniform(0, 40) for _ in HIGHLIGHT_AT)


def bench_page(browser, base_url: str, username: str, width: int = 1400):
    """A page of a new browser context at `base_url`, logged in as `username`, htmx's CDN
    answered with the local copy and the sidebar watched (WATCH_SIDEBAR)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base_url)
    htmx = HTMX_COPY.read_bytes()
    context.route(
        HTMX_CDN_URL,
        lambda route: route.fulfill(
            body=htmx,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    page = context.new_page()
    page.add_init_script(WATCH_SIDEBAR)
    log_in(page, username)
    return page


def drag_select(page, which: float, length: int) -> str | None:
    """Select a passage with the mouse, as a reader does: press on its first character,
    drag to its last, release. Returns the id of its block."""
    points = page.evaluate(PASSAGE_POINTS, [which, length])
    first, last = points["first"], points["last"]
    page.mouse.move(first["x"] - 2, first["y"])
    page.mouse.down()
    page.mouse.move(last["x"] + 2, last["y"], steps=6)
    page.mouse.up()
    return points["block"]


def highlight_once(page, toolbar, at: float, pause: float) -> dict | None:
    """Select a passage `at` that share of the way into the article and press Highlight
    after `pause` ms: ms from the press to the pending mark drawn (in the DOM), painted,
    and the saved one painted; None if no mark came in time."""
    block = drag_select(page, at, 18)
    page.wait_for_function(TOOLBAR_READY, timeout=TIMEOUT_MS)
    page.evaluate(WATCH_NEW_MARK, block)
    page.wait_for_timeout(pause)
    toolbar.get_by_role("button", name="Highlight", exact=True).click()
    try:
        page.wait_for_function(
            "() => window.__benchMark && window.__benchMark.saved > 0", timeout=TIMEOUT_MS
        )
        marked = page.evaluate("() => window.__benchMark")
        found = {key: marked[key] - marked["pressed"] for key in ("drawn", "painted", "saved")}
    except PlaywrightTimeout:  # reported as "no new mark", not as a crash
        found = None
    # Saved: the toolbar goes by itself.
    page.locator("#annotate-form").wait_for(state="hidden", timeout=TIMEOUT_MS)
    return found


def measure_round(
    page, path: str, expect_cards: bool, keys: int, presses: int = len(HIGHLIGHT_AT)
) -> dict:
    page.goto(path, wait_until="load", timeout=TIMEOUT_MS)
    if expect_cards:
        page.wait_for_function(
            "() => window.__bench && window.__bench.firstCard !== null", timeout=TIMEOUT_MS
        )
    times = page.evaluate(PAGE_TIMES)

    toolbar = page.get_by_role("toolbar")
    timed = [
        highlight_once(page, toolbar, at, pause)
        for at, pause in zip(HIGHLIGHT_AT[:presses], PRESS_PAUSES, strict=False)
    ]
    done = [press for press in timed if press is not None]

    drag_select(page, 0.25, 12)
    page.wait_for_function(TOOLBAR_READY, timeout=TIMEOUT_MS)
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'",
        timeout=TIMEOUT_MS,
    )
    page.evaluate(WATCH_KEYS)
    # Where the typing starts and ends in a trace of the round (browser_ab.py --cpu).
    page.evaluate("() => performance.mark('bench-typing-start')")
    text = (TYPED * (keys // len(TYPED) + 1))[:keys]
    for char, pause in zip(text, KEY_PAUSES * (keys // len(KEY_PAUSES) + 1), strict=False):
        page.keyboard.type(char)
        page.wait_for_timeout(pause)
    page.wait_for_function(f"() => window.__benchKeys.length >= {keys}", timeout=TIMEOUT_MS)
    page.evaluate("() => performance.mark('bench-typing-end')")
    latencies = page.evaluate("() => window.__benchKeys")
    # Cancel, as a reader drops a comment: its draft goes too, so the next page does not
    # open again on it (drafts survive a reload: static/js/drafts.js).
    toolbar.get_by_role("button", name="Cancel", exact=True).click()
    page.locator("#annotate-form").wait_for(state="hidden", timeout=TIMEOUT_MS)
    return {
        "load": times["load"],
        "cards": times["cards"],
        "had_cards": times["had_cards"],
        # The round's median press; None when no press drew its mark in time.
        "highlight": statistics.median(p["painted"] for p in done) if done else None,
        "highlight_drawn": statistics.median(p["drawn"] for p in done) if done else None,
        "highlight_saved": statistics.median(p["saved"] for p in done) if done else None,
        "highlight_presses": timed,
        "keystroke_median": statistics.median(latencies),
        "keystroke_p90": sorted(latencies)[int(len(latencies) * 0.9) - 1] if latencies else None,
    }


def run_browser(
    base_url: str,
    username: str,
    pages: dict[str, tuple[str, bool]],
    rounds: int,
    keys: int,
    after_round: Callable[[], None],
    presses: int = len(HIGHLIGHT_AT),
) -> dict[str, list[dict]]:
    """Each round measures every page once, in turn, the order reversed every other round;
    `after_round` undoes its writes. A first round, not counted, warms the server and the
    browser (its caches, the scripts' compiled code) for every page alike."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"no chromium at {CHROMIUM} (`make chromium`)")
    measured: dict[str, list[dict]] = {name: [] for name in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = bench_page(browser, base_url, username)
            for round_number in range(rounds + 1):
                # Each page goes first in every other round: what a page leaves behind (its
                # idle work, a poll) falls on the next alike.
                order = list(pages.items())
                for name, (path, expect_cards) in order[:: -1 if round_number % 2 else 1]:
                    found = measure_round(page, path, expect_cards, keys, presses)
                    after_round()
                    if round_number:
                        measured[name].append(found)
            page.context.close()
        finally:
            browser.close()
    return measured
