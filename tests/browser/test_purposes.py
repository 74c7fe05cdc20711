"""Colour purposes in a real browser: a class's instructor renames them on the class page;
the reader's toolbar, legend and cards show them; every colour has its own underline, so
purposes differ without colour."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_reader import drag_select
from tests.conftest import SEED_SLUG

pytestmark = pytest.mark.browser

SEED_URL = f"/articles/{SEED_SLUG}"

UNDERLINES = """
() => Object.fromEntries([...document.querySelectorAll(".legend .legend-sample")].map(s => {
  const style = getComputedStyle(s);
  return [s.textContent.trim(), [style.textDecorationLine, style.textDecorationStyle]];
}))
"""


def test_purposes_show_in_the_reader_with_their_own_underlines(page):
    sign_up(page, prefix="teacher")
    page.goto("/classes")
    page.fill("#class-name", "Close reading")
    page.get_by_role("button", name="Create class").click()
    expect(page.get_by_role("heading", name="Close reading")).to_be_visible()
    class_url = page.url.split("#")[0]

    # The instructor names what the colours mean.
    form = page.locator(".purposes-form")
    expect(form.get_by_label("Blue")).to_have_value("Question")
    form.get_by_label("Blue").fill("Ask in class")
    form.get_by_label("Purple").fill("New word")
    form.get_by_role("button", name="Save purposes").click()
    expect(page.locator("#flash")).to_contain_text("Saved what each highlight colour means")
    expect(page.locator(".purposes-form").get_by_label("Blue")).to_have_value("Ask in class")

    # Two colours for one purpose: a clear message, the typed text kept.
    page.locator(".purposes-form").get_by_label("Pink").fill("ask in class")
    page.locator(".purposes-form").get_by_role("button", name="Save purposes").click()
    expect(page.locator("#purposes-error")).to_contain_text("give each colour its own purpose")
    expect(page.locator(".purposes-form").get_by_label("Pink")).to_have_value("ask in class")

    page.goto(class_url)
    title = page.locator("#assign-document option", has_text="Russian Military").inner_text()
    page.select_option("#assign-document", label=title)
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_role("link", name=re.compile("Russian Military")).first.click()
    page.wait_for_url(re.compile(r"context=class-\d+"))

    legend = page.get_by_role("list", name="Highlight colours")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("Ask in class")
    expect(legend).to_contain_text("New word")
    expect(legend).to_contain_text("Important")
    underlines = page.evaluate(UNDERLINES)
    assert all(line == "underline" for line, _ in underlines.values()), underlines
    styles = {style for _, style in underlines.values()}
    assert styles == {"solid", "dashed", "dotted", "double", "wavy"}, underlines

    # The toolbar's swatches carry the purpose: accessible name and tooltip.
    drag_select(page, "the main issue being discussed")
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    blue = toolbar.get_by_role("radio", name="Blue: Ask in class")
    expect(blue).to_be_attached()
    assert toolbar.locator(".swatch-blue").get_attribute("title") == "Blue: Ask in class"
    # The chosen purpose is written out beside its swatch.
    expect(toolbar.locator(".swatch-yellow .swatch-label")).to_be_visible()
    expect(toolbar.locator(".swatch-yellow .swatch-label")).to_have_text("Important")
    toolbar.locator(".swatch-blue").click()
    expect(toolbar.locator(".swatch-blue .swatch-label")).to_be_visible()
    expect(toolbar.locator(".swatch-yellow .swatch-label")).to_be_hidden()
    toolbar.get_by_role("button", name="Highlight", exact=True).click()

    card = page.locator(".card-blue")
    expect(card).to_have_count(1)
    expect(card.locator(".purpose")).to_have_text(re.compile("Ask in class"))
    mark = page.locator("mark.hl-blue").first
    assert mark.evaluate("m => getComputedStyle(m).textDecorationStyle") == "wavy"
    assert "underline" in mark.evaluate("m => getComputedStyle(m).textDecorationLine")
    # One cue under the mark: its underline is its edge (no second line drawn beneath).
    assert mark.evaluate("m => getComputedStyle(m).boxShadow") == "none"
    edge = mark.evaluate("m => getComputedStyle(m).getPropertyValue('--hl-edge').trim()")
    line = page.evaluate(
        "edge => { const p = document.createElement('p'); p.style.color = edge;"
        " document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c; }",
        edge,
    )
    assert mark.evaluate("m => getComputedStyle(m).textDecorationColor") == line

    # One's private notes keep the default purposes.
    page.goto(f"{SEED_URL}?context=private")
    expect(page.get_by_role("list", name="Highlight colours")).to_contain_text("Question")
    expect(page.get_by_role("list", name="Highlight colours")).not_to_contain_text("Ask in class")
    assert page.errors == []
