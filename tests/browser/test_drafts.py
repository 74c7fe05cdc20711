"""Drafts survive: a comment or reply typed and not sent comes back after a reload (and
leaving asks first); a send that fails offline says so and keeps the text; a send whose
answer was lost is sent again with the same idempotency key and saved once."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import announced, into_article, open_article, select_from_caret
from tests.browser.test_live import reader, services  # noqa: F401 - fixtures
from tests.browser.test_reader import card_ids

pytestmark = pytest.mark.browser

DRAFTS = """() => Object.keys(localStorage)
  .filter((k) => k.startsWith("marginalia:draft:"))
  .map((k) => [k.split(":").slice(3).join(":"), JSON.parse(localStorage.getItem(k))])"""


def drafts(page) -> dict[str, dict]:
    return dict(page.evaluate(DRAFTS))


def accept_leaving(page) -> list[str]:
    """Accept 'leave the page?' prompts; returns the list of prompts seen."""
    seen: list[str] = []

    def answer(dialog) -> None:
        seen.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    return seen


def test_a_typed_comment_comes_back_after_a_reload(page):
    open_article(page)
    prompts = accept_leaving(page)
    into_article(page)
    select_from_caret(page, len("Bashar al-Assad"))
    page.keyboard.press("c")
    page.keyboard.type("Half-written thought")
    (name,) = drafts(page)
    assert name.startswith("note:")
    assert drafts(page)[name]["text"] == "Half-written thought"

    page.reload()
    assert prompts == ["beforeunload"]
    box = page.get_by_placeholder("Your comment (Markdown)")
    expect(box).to_have_value("Half-written thought")
    expect(box).to_be_focused()
    expect(announced(page)).to_have_text("Your unsent comment is back.")
    page.keyboard.type(", finished.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".card")).to_have_count(1)
    (note,) = card_ids(page)
    expect(page.locator(f"#annotation-{note} .quote")).to_have_text("Bashar al-Assad")
    expect(page.locator(f"#annotation-{note} .comment")).to_have_text(
        "Half-written thought, finished."
    )
    assert drafts(page) == {}

    # Sent: nothing comes back, and leaving asks nothing.
    page.reload()
    expect(page.locator(f"#annotation-{note}")).to_be_visible()
    expect(page.get_by_role("toolbar")).to_be_hidden()
    assert prompts == ["beforeunload"]
    assert page.errors == []


def test_a_cancelled_comment_is_not_kept(page):
    open_article(page)
    into_article(page)
    select_from_caret(page, len("Bashar"))
    page.keyboard.press("c")
    page.keyboard.type("Never mind")
    assert len(drafts(page)) == 1
    page.keyboard.press("Escape")
    expect(page.locator("#article-body")).to_be_focused()
    # Escape keeps it (the same passage opens it again); Cancel drops it.
    page.keyboard.press("c")
    box = page.get_by_placeholder("Your comment (Markdown)")
    expect(box).to_have_value("Never mind")
    page.get_by_role("toolbar").get_by_role("button", name="Cancel").click()
    assert drafts(page) == {}


def test_a_reply_survives_a_reload_and_a_failed_send_offline(services, reader):  # noqa: F811
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Hmeimim military base")
    note = services.note(klass, ann, start, end, "Why *forty* years?")
    page = reader(ben)
    prompts = accept_leaving(page)
    page.goto(klass.url)
    card = page.locator(f"#annotation-{note}")
    card.get_by_role("link", name="Reply").click()
    box = card.get_by_placeholder("Your reply (Markdown)")
    expect(box).to_be_focused()
    page.keyboard.type("Forty-nine, in fact")
    (draft,) = drafts(page).values()
    assert draft["text"] == "Forty-nine, in fact" and draft["key"]

    # A reload (a crash would do the same): the reply box opens again with the text.
    page.reload()
    assert prompts == ["beforeunload"]
    box = card.get_by_placeholder("Your reply (Markdown)")
    expect(box).to_have_value("Forty-nine, in fact")
    assert card.locator("input[name=idempotency_key]").input_value() == draft["key"]

    # Offline: the send fails, says so, and keeps the text (and its key).
    page.context.set_offline(True)
    box.focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#flash")).to_contain_text("cannot be reached")
    expect(announced(page)).to_contain_text("cannot be reached")
    expect(box).to_have_value("Forty-nine, in fact")
    assert list(drafts(page).values())[0]["key"] == draft["key"]

    page.context.set_offline(False)
    box.focus()
    page.keyboard.press("Control+Enter")
    posted = card.locator(".reply")
    expect(posted).to_have_count(1)
    expect(posted).to_contain_text("Forty-nine, in fact")
    assert drafts(page) == {}
    assert page.errors == []


def test_a_send_whose_answer_was_lost_is_saved_once(services, reader):  # noqa: F811
    """The server saves the reply, the answer never reaches the page (the connection
    drops): the reader sends again, with the same key, and the reply is there once."""
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Middle East")
    note = services.note(klass, ann, start, end, "Which countries?")
    page = reader(ben, url=klass.url)
    card = page.locator(f"#annotation-{note}")
    card.get_by_role("link", name="Reply").click()
    card.get_by_placeholder("Your reply (Markdown)").fill("Syria, Iraq, Iran.")

    sent = []

    def lose_the_answer(route) -> None:
        sent.append(route.request.post_data)
        route.fetch()  # the server saves it...
        route.abort("connectionreset")  # ...and the page never hears back

    page.route(f"**/annotations/{note}/replies", lose_the_answer)
    card.get_by_role("button", name="Post reply").click()
    expect(page.locator("#flash")).to_contain_text("cannot be reached")
    page.unroute(f"**/annotations/{note}/replies")

    # The page sends the same request again (same key): answered with the saved reply.
    replayed = []
    page.on("request", lambda r: replayed.append(r.post_data) if "/replies" in r.url else None)
    card.get_by_role("button", name="Post reply").click()
    expect(card.locator(".reply")).to_have_count(1)
    assert json.dumps(sent[0]) and "idempotency_key=" in sent[0]
    key = next(p for p in sent[0].split("&") if p.startswith("idempotency_key="))
    assert key in replayed[0]
    page.reload()
    expect(page.locator(f"#annotation-{note} .reply")).to_have_count(1)
    assert page.errors == []
