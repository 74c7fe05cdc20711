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


def style(locator, prop: str, pseudo: str | None = None) -> str:
    return locator.evaluate(
        "(e, [prop, pseudo]) => getComputedStyle(e, pseudo).getPropertyValue(prop)", [prop, pseudo]
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
    yellow = page.locator(f"mark[data-at='{starts[first]}']")
    blue = page.locator(f"mark[data-at='{starts[second]}']")
    for mark, line_style in ((yellow, "solid"), (blue, "wavy")):
        assert style(mark, "background-color") == "rgba(0, 0, 0, 0)"
        assert "underline" in style(mark, "text-decoration-line")
        assert style(mark, "text-decoration-style") == line_style
        assert style(mark, "print-color-adjust") == "exact"

    # The notes: numbered, in view, after the article, their numbers beside the marks.
    cards = page.locator(".card")
    notes = [cards.nth(i) for i in range(cards.count())]
    assert [n.get_attribute("data-note") for n in notes] == ["1", "2"]
    for note in notes:
        expect(note).to_be_visible()
        assert style(note, "content", "::before") != "none"
    article = page.locator("#article-body").bounding_box()
    assert notes[0].bounding_box()["y"] > article["y"] + article["height"]
    expect(page.locator(".card-blue .comment")).to_have_text("Balance of what, exactly?")
    numbers = {
        page.locator(f"#annotation-{first}").get_attribute("data-note"),
        page.locator(f"#annotation-{second}").get_attribute("data-note"),
    }
    assert {yellow.get_attribute("data-note"), blue.get_attribute("data-note")} == numbers
    assert style(yellow, "content", "::after") != "none"

    # What is for the screen only does not print.
    for selector in (".site-header", "#annotate-form", ".contexts", ".filters", ".card-actions"):
        assert style(page.locator(selector).first, "display") == "none", selector
    assert page.locator("main button:visible").count() == 0
    assert page.locator("main form:visible").count() == 0
    expect(page.get_by_role("list", name="Highlight colours")).to_be_visible()

    pdf = tmp_path / "article.pdf"
    page.pdf(path=str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000
    assert page.errors == []
