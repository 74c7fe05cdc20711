"""A bare highlight is its author's own, in a class view too; sharing starts with a comment.

Two students of one class, each in their own browser, on the class view of the article.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_live import reader, services  # noqa: F401 - fixtures
from tests.browser.test_reader import card_ids, drag_select, marks_of

pytestmark = pytest.mark.browser


def test_a_highlight_in_a_class_view_stays_with_its_author(services, reader):  # noqa: F811
    klass = services.classroom(students=2)
    name_a, name_b = klass.students
    a = reader(name_a)
    a.goto(klass.url)

    # The toolbar says where what goes before anything is saved.
    drag_select(a, "Hmeimim military base")
    toolbar = a.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    hint = toolbar.locator("#toolbar-hint")
    expect(hint).to_have_text(re.compile(r"^Highlights are private; comments go to Live class"))
    in_class = hint.inner_text()
    button = toolbar.get_by_role("button", name="Highlight", exact=True)
    expect(button).to_have_accessible_description(in_class)
    button.click()
    expect(a.locator(".card")).to_have_count(1)
    (mine,) = card_ids(a)

    # The mark stays for its author, in this class view, also after a reload.
    expect(marks_of(a, mine).first).to_be_visible()
    expect(a.locator(f"#annotation-{mine} .badge-private")).to_have_text("Only you")
    a.reload()
    expect(marks_of(a, mine).first).to_be_visible()

    # A classmate sees nothing of it.
    b = reader(name_b)
    b.goto(klass.url)
    expect(b.locator("#article-body")).to_be_visible()
    expect(marks_of(b, mine, known_on=a)).to_have_count(0)
    expect(b.locator(f"#annotation-{mine}")).to_have_count(0)

    # A comment goes to the class: the classmate sees it.
    drag_select(a, "The rapid return of refugees to Syria")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    expect(toolbar.get_by_label("Post to")).to_have_value(f"class-{klass.id}")
    expect(toolbar.get_by_label("Post to")).to_be_visible()
    a.get_by_placeholder("Your comment (Markdown)").fill("Return to what?")
    toolbar.get_by_role("button", name="Save comment").click()
    expect(a.locator(".card")).to_have_count(2)
    (shared,) = set(card_ids(a)) - {mine}
    b.reload()
    expect(b.locator(f"#annotation-{shared} .comment")).to_have_text("Return to what?")
    expect(marks_of(b, shared).first).to_be_visible()
    expect(marks_of(b, mine, known_on=a)).to_have_count(0)

    # Choosing "Only me" for the next comment changes what the toolbar says.
    drag_select(a, "White Helmets")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    toolbar.get_by_label("Post to").select_option("private")
    expect(hint).to_have_text("Highlights and comments are private.")
    toolbar.get_by_role("button", name="Cancel").click()
    drag_select(a, "Western-sponsored propaganda tools")
    expect(hint).to_have_text(in_class)
    assert a.errors == [] and b.errors == []
