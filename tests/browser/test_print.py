"""The reader on paper: highlights print as underlines (no backgrounds, which browsers drop),
the notes in view print as numbered notes after the article with their numbers beside the
highlights, and the toolbar, navigation, forms and buttons do not print."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_reader import drag_select, highlight
from tests.conftest import SEED_SLUG

pytestmark = pytest.mark.browser

SEED_URL = f"/articles/{SEED_SLUG}"


def style(page, selector: str, prop: str, pseudo: str | None = None) -> str:
    """The computed value, found and read in one step (the live poll may redraw a block
    between two steps)."""
    return page.evaluate(
        """([selector, prop, pseudo]) =>
             getComputedStyle(document.querySelector(selector), pseudo).getPropertyValue(prop)""",
        [selector, prop, pseudo],
    )


def test_print_underlines_highlights_and_numbers_the_notes(page, tmp_path):
    sign_up(page)
    page.goto(SEED_URL)
    first = highlight(page, "Russian forces were needed in the country long-term")
    drag_select(page, "the main issue being discussed")
    toolbar = page.get_by_role("toolbar")
    toolbar.locator(".swatch-blue").click()
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    page.get_by_placeholder("Your comment (Markdown)").fill("Balance of what, exactly?")
    page.get_by_role("button", name="Save comment").click()
    expect(page.locator(".card")).to_have_count(2)
    second = page.locator(".card-blue").get_attribute("data-annotation")
    starts = {
        n: page.locator(f"#annotation-{n}").get_attribute("data-start") for n in (first, second)
    }

    page.emulate_media(media="print")
    # Highlights: an underline in the colour's own style, no background.
    yellow = f"mark[data-at='{starts[first]}']"
    blue = f"mark[data-at='{starts[second]}']"
    for mark, line_style in ((yellow, "solid"), (blue, "wavy")):
        assert style(page, mark, "background-color") == "rgba(0, 0, 0, 0)"
        assert "underline" in style(page, mark, "text-decoration-line")
        assert style(page, mark, "text-decoration-style") == line_style
        assert style(page, mark, "print-color-adjust") == "exact"

    # The notes: numbered, in view, after the article, their numbers beside the marks.
    cards = page.locator(".card")
    notes = [cards.nth(i) for i in range(cards.count())]
    assert [n.get_attribute("data-note") for n in notes] == ["1", "2"]
    for note in notes:
        expect(note).to_be_visible()
        card = f"#{note.get_attribute('id')}"
        assert style(page, card, "content", "::before") not in ("", "none")
    article = page.locator("#article-body").bounding_box()
    assert notes[0].bounding_box()["y"] > article["y"] + article["height"]
    expect(page.locator(".card-blue .comment")).to_have_text("Balance of what, exactly?")
    numbers = {
        page.locator(f"#annotation-{first}").get_attribute("data-note"),
        page.locator(f"#annotation-{second}").get_attribute("data-note"),
    }
    beside = page.evaluate(
        "sels => sels.map(s => document.querySelector(s).getAttribute('data-note'))", [yellow, blue]
    )
    assert set(beside) == numbers
    assert style(page, yellow, "content", "::after") not in ("", "none")

    # What is for the screen only does not print.
    for selector in (".site-header", "#annotate-form", ".contexts", ".filters", ".card-actions"):
        assert style(page, selector, "display") == "none", selector
    assert page.locator("main button:visible").count() == 0
    assert page.locator("main form:visible").count() == 0
    expect(page.get_by_role("list", name="Highlight colours")).to_be_visible()

    pdf = tmp_path / "article.pdf"
    page.pdf(path=str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000
    assert page.errors == []
