"""An instructor brings a reading in from the browser and gives it to a class; a student
annotates it. Paste, preview, publish, assign with a due date, then highlight and comment as
a student of the class; and the form by keyboard, with its errors announced."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_reader import card_ids, drag_select, highlight, mark_text

pytestmark = pytest.mark.browser

ARTICLE = """# The Lighthouse Keepers of Skerryvore

By Morag Stevenson

June 12, 2023

For a hundred years, three keepers shared the tower on a rock twelve miles out to sea.

Each night one of them climbed the stairs to trim the wicks and wind the clockwork that
turned the great lens.

Original url:

<https://example.org/skerryvore>
"""
TITLE = "The Lighthouse Keepers of Skerryvore"


def test_paste_preview_publish_assign_then_a_student_annotates(browser, live_server, page):
    teacher = sign_up(page, "teacher")
    page.goto("/classes")
    page.get_by_label("Class name").fill("Maritime History")
    page.get_by_role("button", name="Create class").click()
    code = page.locator(".join-code").inner_text().strip()

    # The form: the three ways in are a radio group, worked by the keyboard.
    page.goto("/")
    page.get_by_role("link", name="Add an article").click()
    expect(page).to_have_url(re.compile(r"/articles/new$"))
    paste = page.get_by_role("radio", name="Paste text")
    expect(paste).to_be_checked()
    paste.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Upload a file")).to_be_checked()
    expect(page.get_by_label("File", exact=True)).to_be_visible()
    expect(page.get_by_label("Text", exact=True)).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(paste).to_be_checked()

    # Nothing pasted: the message is announced and tied to the field.
    page.get_by_role("button", name="Preview").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The text is empty")
    textbox = page.get_by_role("textbox", name="Text")
    expect(textbox).to_have_attribute("aria-invalid", "true")
    expect(textbox).to_have_accessible_description(re.compile("The text is empty"))
    assert page.url.endswith("/articles/new")

    page.get_by_label("Text", exact=True).fill(ARTICLE)
    page.get_by_role("button", name="Preview").click()

    # The preview: details taken from the text, editable; the body as readers will see it.
    expect(page.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    expect(page.get_by_label("Byline")).to_have_value("Morag Stevenson")
    expect(page.locator(".word-count")).to_have_text("38 words")
    body = page.locator("#preview-body")
    expect(body).to_contain_text("three keepers shared the tower")
    expect(body).not_to_contain_text("Original url")
    page.get_by_label("Byline").fill("Morag Stevenson and Ewan Hay")
    page.get_by_role("button", name="Publish").click()

    expect(page).to_have_url(re.compile(r"/articles/the-lighthouse-keepers-of-skerryvore$"))
    expect(page.locator("#article-title")).to_have_text(TITLE)
    expect(page.locator(".byline")).to_have_text("By Morag Stevenson and Ewan Hay")
    article_url = page.url

    # Assign it right away, with a due date.
    page.get_by_role("navigation", name="Your article").get_by_role(
        "link", name="Assign to a class"
    ).click()
    page.get_by_label("Class", exact=True).select_option(label="Maritime History")
    page.get_by_label("Due date").fill("2030-03-15")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#flash")).to_contain_text("Assigned to Maritime History")
    expect(page.locator("#assign")).to_contain_text("15 Mar 2030")
    assert page.errors == []

    # A student of the class reads it, highlights a passage and comments on another.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url)
    student = context.new_page()
    student.errors = []
    student.on("pageerror", lambda error: student.errors.append(str(error)))
    sign_up(student, "student")
    student.goto(f"/join/{code}")
    student.get_by_role("button", name=re.compile("Join")).click()
    student.goto("/")
    shelf = student.locator("#shelf-assigned")
    expect(shelf.get_by_role("link", name=TITLE)).to_be_visible()
    shelf.get_by_role("link", name=TITLE).click()
    expect(student.locator("#article-title")).to_have_text(TITLE)
    expect(student.locator("nav.owner-tools")).to_have_count(0)

    first = highlight(student, "three keepers shared the tower")
    assert mark_text(student, first) == "three keepers shared the tower"
    drag_select(student, "wind the clockwork")
    toolbar = student.get_by_role("toolbar")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    student.get_by_placeholder("Your comment (Markdown)").fill("Who kept the clock *wound*?")
    student.get_by_role("button", name="Save comment").click()
    expect(student.locator(".card")).to_have_count(2)
    second = [i for i in card_ids(student) if i != first][0]
    expect(student.locator(f"#annotation-{second} .comment em")).to_have_text("wound")
    assert student.errors == []
    context.close()

    # The instructor sees the student's comment in the class's view of the article.
    page.goto(article_url)
    expect(page.locator(f"#annotation-{second} .comment")).to_contain_text("Who kept the clock")
    assert teacher and page.errors == []


def test_a_stranger_cannot_open_the_private_article(browser, live_server, page):
    sign_up(page, "owner")
    page.goto("/articles/new")
    page.get_by_label("Text", exact=True).fill("# A Private Note\n\nOnly mine to read.\n")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/articles/a-private-note$"))
    url = page.url
    context = browser.new_context(base_url=live_server.url)
    other = context.new_page()
    response = other.goto(url)
    assert response.status == 404
    expect(other.get_by_role("alert")).to_contain_text("There is no article")
    context.close()
