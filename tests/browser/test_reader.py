"""Reading and highlighting in a real browser: mouse, keyboard, across blocks, overlaps, emoji."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import EMOJI_SLUG, sign_up
from tests.conftest import SEED_SLUG

pytestmark = pytest.mark.browser

SEED_URL = f"/articles/{SEED_SLUG}"

# Screen coordinates of the first and last character of `phrase` (the n-th occurrence in the
# article body's rendered text), found through the DOM, as a person would aim the mouse;
# the phrase is scrolled to the middle of the screen first unless `scroll` is false.
PHRASE_RECTS = """
([phrase, occurrence, scroll = true]) => {
  const body = document.getElementById("article-body");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = text.indexOf(phrase, at + 1);
  if (at < 0) throw new Error("phrase not found: " + phrase);
  for (const [node, base] of nodes) {
    if (scroll && at >= base && at < base + node.data.length) {
      node.parentElement.scrollIntoView({ block: "center" });
      break;
    }
  }
  function charRect(index) {
    for (const [node, base] of nodes) {
      if (index >= base && index < base + node.data.length) {
        const range = document.createRange();
        const local = index - base;
        const code = node.data.charCodeAt(local);
        const width = code >= 0xd800 && code <= 0xdbff ? 2 : 1;
        range.setStart(node, local);
        range.setEnd(node, local + width);
        const r = range.getClientRects()[0];
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }
    }
  }
  const last = phrase.length - 1;
  const lastCode = phrase.charCodeAt(last);
  const lastIndex = at + (lastCode >= 0xdc00 && lastCode <= 0xdfff ? last - 1 : last);
  return { first: charRect(at), last: charRect(lastIndex) };
}
"""


def drag_select(page, phrase: str, occurrence: int = 0) -> None:
    """Select `phrase` with the mouse: press on its first character, release on its last."""
    rects = page.evaluate(PHRASE_RECTS, [phrase, occurrence])
    first, last = rects["first"], rects["last"]
    page.mouse.move(first["left"] + 1, (first["top"] + first["bottom"]) / 2)
    page.mouse.down()
    page.mouse.move(last["right"] - 1, (last["top"] + last["bottom"]) / 2, steps=8)
    page.mouse.up()


def card_ids(page) -> list[int]:
    return [
        int(i.split("-")[1]) for i in page.eval_on_selector_all(".card", "cs => cs.map(c => c.id)")
    ]


def marks_of(page, annotation_id: int, known_on=None):
    """The marks on the passage of a note: those starting (data-at) in its range, read
    from its card (and remembered, for after the card is gone). `known_on`: another page
    that has shown the card, for a page that must not show it."""
    ranges = page.__dict__.setdefault("_note_ranges", {})
    if known_on is not None:
        ranges.setdefault(annotation_id, known_on.__dict__["_note_ranges"][annotation_id])
    card = page.locator(f"#annotation-{annotation_id}")
    if annotation_id not in ranges:
        card.wait_for(state="attached", timeout=15_000)
    if card.count():
        ranges[annotation_id] = (
            int(card.get_attribute("data-start")),
            int(card.get_attribute("data-end")),
        )
    start, end = ranges[annotation_id]
    offsets = [
        at
        for at in page.eval_on_selector_all("mark[data-at]", "ms => ms.map(m => +m.dataset.at)")
        if start <= at < end
    ]
    if not offsets:  # none yet (or any more): the one that would start the passage
        return page.locator(f"mark[data-at='{start}']")
    return page.locator(", ".join(f"mark[data-at='{at}']" for at in offsets))


def highlight(page, phrase: str, occurrence: int = 0) -> int:
    before = set(card_ids(page))
    drag_select(page, phrase, occurrence)
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator(".card")).to_have_count(len(before) + 1)
    # Heard, as a listener would, before the next step: messages within 80 ms of each other
    # are said together (static/js/announce.js), and the next one would be joined to it.
    expect(page.locator("#announcer")).to_have_text(re.compile(r"Highlight saved\."))
    (new_id,) = set(card_ids(page)) - before
    marks_of(page, new_id)  # remembers its range, for after its card is gone
    return new_id


def mark_text(page, annotation_id: int) -> str:
    return "".join(marks_of(page, annotation_id).all_text_contents())


def quote_text(page, annotation_id: int) -> str:
    return page.locator(f"#annotation-{annotation_id} .quote").inner_text()


def test_mouse_highlight_and_comment_survive_a_reload(page):
    sign_up(page)
    page.goto(SEED_URL)
    phrase = "Russian forces were needed in the country long-term"
    drag_select(page, phrase)
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    page.get_by_placeholder("Your comment (Markdown)").fill("Is this **really** about balance?")
    url_before = page.url
    page.get_by_role("button", name="Save comment").click()

    card = page.locator(".card")
    expect(card).to_have_count(1)
    (annotation_id,) = card_ids(page)
    expect(page.locator(f"#annotation-{annotation_id} .comment strong")).to_have_text("really")
    assert quote_text(page, annotation_id) == phrase
    assert mark_text(page, annotation_id) == phrase
    assert page.url == url_before  # an htmx partial, not a page load

    second = highlight(page, "the main issue being discussed")
    page.reload()
    assert mark_text(page, annotation_id) == phrase
    assert mark_text(page, second) == "the main issue being discussed"
    expect(page.locator(f"#annotation-{annotation_id} .comment")).to_contain_text("really")
    assert card_ids(page) == [annotation_id, second]  # document order
    assert page.errors == []


def test_selection_across_two_paragraphs_is_one_annotation(page):
    sign_up(page)
    page.goto(SEED_URL)
    start_phrase = "citing an interview with the leader."
    end_phrase = '"Russian armed forces'
    rects_start = page.evaluate(PHRASE_RECTS, [start_phrase, 0])
    # Both where the screen shows them now (the end is a few lines further down).
    rects_end = page.evaluate(PHRASE_RECTS, [end_phrase, 0, False])
    page.mouse.move(rects_start["first"]["left"] + 1, rects_start["first"]["top"] + 5)
    page.mouse.down()
    page.mouse.move(rects_end["last"]["right"] - 1, rects_end["last"]["top"] + 5, steps=10)
    page.mouse.up()
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator(".card")).to_have_count(1)
    (annotation_id,) = card_ids(page)
    blocks = marks_of(page, annotation_id).evaluate_all(
        "ms => [...new Set(ms.map(m => m.closest('[id^=block-]').id))]"
    )
    assert len(blocks) == 2
    assert quote_text(page, annotation_id) == start_phrase + "\n\n" + end_phrase


def test_overlapping_highlights_show_depth_without_nested_marks(page):
    sign_up(page)
    page.goto(SEED_URL)
    first = highlight(page, "He added that Syria's agreement with Russia")
    second = highlight(page, "agreement with Russia over the Hmeimim military base")
    overlap = page.locator("mark.depth-2")
    expect(overlap).to_have_text("agreement with Russia")
    expect(overlap).to_have_class(re.compile(r"\bdepth-2\b"))
    assert page.locator("mark mark").count() == 0
    assert mark_text(page, first) == "He added that Syria's agreement with Russia"
    assert mark_text(page, second) == "agreement with Russia over the Hmeimim military base"

    # A third highlight nested inside the second.
    third = highlight(page, "Hmeimim")
    assert page.locator("mark mark").count() == 0
    expect(page.locator("mark.depth-2")).to_have_text(["agreement with Russia", "Hmeimim"])
    assert mark_text(page, third) == "Hmeimim"


def test_selection_with_bold_caption_and_link(page):
    sign_up(page)
    page.goto(SEED_URL)
    # From inside the bold caption into the next paragraph, starting mid-word.
    caption = highlight(page, "ssad / Kremlin.ru")
    assert quote_text(page, caption) == "ssad / Kremlin.ru"
    assert marks_of(page, caption).first.evaluate("m => m.closest('strong') !== null")
    # Across the bold label and into the link.
    linked = highlight(page, "article: The Growing Risks")
    assert quote_text(page, linked) == "article: The Growing Risks"
    pieces = marks_of(page, linked).evaluate_all(
        "ms => ms.map(m => m.parentElement.closest('strong, a')?.tagName || 'TEXT')"
    )
    assert "STRONG" in pieces and "A" in pieces
    # The dead link does not navigate.
    url = page.url
    page.locator("#article-body a.dead-link").first.click()
    assert page.url == url


def test_emoji_passage_gives_the_exact_quote_back(page):
    sign_up(page)
    page.goto(f"/articles/{EMOJI_SLUG}")
    phrase = "cheered 🎉 when the 𝔐arginalia demo worked, and everyone clapped 👏🏽"
    annotation_id = highlight(page, phrase)
    assert quote_text(page, annotation_id) == phrase
    assert mark_text(page, annotation_id) == phrase
    page.reload()
    assert quote_text(page, annotation_id) == phrase
    assert mark_text(page, annotation_id) == phrase


def test_keyboard_selection_then_h_highlights(page):
    sign_up(page)
    page.goto(SEED_URL)
    rects = page.evaluate(PHRASE_RECTS, ["The rapid return", 0])
    page.mouse.click(rects["first"]["left"] + 1, rects["first"]["top"] + 5)
    for _ in range(len("The rapid return")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("h")
    expect(page.locator(".card")).to_have_count(1)
    (annotation_id,) = card_ids(page)
    assert quote_text(page, annotation_id) == "The rapid return"


def test_click_mark_focuses_card_and_quote_scrolls_to_mark(page):
    sign_up(page)
    page.goto(SEED_URL)
    annotation_id = highlight(page, "They have two options")
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#annotation-{annotation_id} .quote a").click()
    expect(marks_of(page, annotation_id).first).to_be_in_viewport()
    page.evaluate("window.getSelection().removeAllRanges()")
    marks_of(page, annotation_id).first.click()
    expect(page.locator(f"#annotation-{annotation_id}")).to_be_focused()


def test_edit_delete_and_undo(page):
    sign_up(page)
    page.goto(SEED_URL)
    annotation_id = highlight(page, "the Syrian rescue workers")
    card = page.locator(f"#annotation-{annotation_id}")
    card.get_by_role("link", name="Add comment").click()
    card.locator("textarea").fill("A *cover*, he says.")
    card.get_by_role("button", name="Save").click()
    expect(card.locator(".comment em")).to_have_text("cover")

    card.get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0)
    expect(marks_of(page, annotation_id)).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(f"#annotation-{annotation_id}")).to_have_count(1)
    assert mark_text(page, annotation_id) == "the Syrian rescue workers"


def test_bad_selection_shows_a_clear_message(page):
    sign_up(page)
    page.goto(SEED_URL)
    drag_select(page, "credited with saving thousands")
    expect(page.get_by_role("toolbar")).to_be_visible()
    # The article changed under the reader: the quote no longer matches its offsets.
    # (Changed as the request leaves: the toolbar refills its fields while the selection
    # settles, which on a loaded machine can be after a change made here.)
    page.evaluate(
        """document.body.addEventListener("htmx:configRequest", (event) => {
             event.detail.parameters.exact = "something else";
           }, { once: true })"""
    )
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("does not match the article")
    assert page.locator(".card").count() == 0
    assert page.locator("mark").count() == 0


def test_anonymous_reader_is_invited_to_log_in(page):
    page.goto(SEED_URL)
    drag_select(page, "Interfax reported")
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    expect(toolbar.get_by_role("link", name="Log in to highlight")).to_be_visible()


def test_keyboard_only_comment(page):
    sign_up(page)
    page.goto(SEED_URL)
    page.locator("#article-body").focus()  # as Tab would
    for _ in range(len("Bashar al-Assad")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("c")
    expect(page.get_by_placeholder("Your comment (Markdown)")).to_be_focused()
    page.keyboard.type("Who took the photo?")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".card")).to_have_count(1)
    (annotation_id,) = card_ids(page)
    assert quote_text(page, annotation_id) == "Bashar al-Assad"
    expect(page.locator(f"#annotation-{annotation_id} .comment")).to_have_text(
        "Who took the photo?"
    )


def test_the_toolbar_starts_each_note_afresh(page):
    """A question with tags, then another comment and a plain highlight: neither inherits
    the question box, the tags or the comment (nor does a new selection after a cancel)."""
    sign_up(page)
    page.goto(SEED_URL)
    toolbar = page.get_by_role("toolbar")
    comment = page.get_by_placeholder("Your comment (Markdown)")
    tags = toolbar.get_by_placeholder("Tags, e.g. sources bias")
    question = toolbar.get_by_role("checkbox", name="Question")

    drag_select(page, "Russian forces were needed in the country long-term")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    comment.fill("Needed by whom?")
    tags.fill("q1")
    question.check()
    toolbar.get_by_role("button", name="Save comment").click()
    expect(page.locator(".card")).to_have_count(1)
    (asked,) = card_ids(page)
    expect(page.locator(f"#annotation-{asked} .badge-question")).to_have_text("Question")
    expect(page.locator(f"#annotation-{asked} .tags")).to_have_text("#q1")

    drag_select(page, "the main issue being discussed")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    expect(comment).to_have_value("")
    expect(tags).to_have_value("")
    expect(question).not_to_be_checked()
    # Filled in, then abandoned: a new selection starts afresh too.
    comment.fill("Never mind")
    tags.fill("abandoned")
    question.check()
    toolbar.get_by_role("button", name="Cancel").click()
    expect(toolbar).to_be_hidden()

    plain = highlight(page, "Hmeimim military base")
    card = page.locator(f"#annotation-{plain}")
    expect(card.locator(".quote")).to_have_text("Hmeimim military base")
    expect(card.locator(".badge-question")).to_have_count(0)
    expect(card.locator(".tags")).to_have_count(0)
    expect(card.locator(".comment")).to_have_count(0)
    assert page.errors == []
