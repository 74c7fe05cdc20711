"""Notifications in the browser, with the keyboard only: the header names the unread
count, "Mark read" swaps the list and the count in place (no reload)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_live import Services
from tests.conftest import SEED_SLUG

pytestmark = pytest.mark.browser


class Replies(Services):
    def reply(self, annotation_id: int, author: str, body: str) -> None:
        from webapp.models import Annotation
        from webapp.services.accounts import find_user
        from webapp.services.discussion import add_reply

        def work(session):
            note = session.get(Annotation, annotation_id)
            add_reply(session, find_user(session, author), note, body, None)

        self._write(work)


@pytest.fixture(scope="module")
def services(live_server):
    services = Replies(live_server)
    yield services
    services.close()


def test_mark_read_with_the_keyboard_updates_the_list_and_the_header(page, services):
    classroom = services.classroom(students=2)
    ann, ben = classroom.students
    note_id = services.note(classroom, ann, *services.phrase("Russian forces were needed"), "Why?")
    services.reply(note_id, ben, "Because of the base.")
    services.reply(note_id, classroom.instructor, "Good question.")

    log_in(page, ann)
    page.goto("/notifications")
    link = page.locator("#notifications-link")
    # Two replies and the class's assignment.
    expect(link).to_have_attribute("aria-label", "Notifications, 3 unread")
    page.evaluate("window.__marker = 1")  # gone if the page reloads
    page.get_by_role("button", name=f"Mark read: {ben} replied to your note").focus()
    page.keyboard.press("Enter")
    expect(link).to_have_attribute("aria-label", "Notifications, 2 unread")
    expect(page.locator("li.notification.unread")).to_have_count(2)
    page.get_by_role("button", name="Mark all read").focus()
    page.keyboard.press("Enter")
    expect(page.locator("li.notification.unread")).to_have_count(0)
    expect(link).not_to_have_attribute("aria-label", "Notifications, 2 unread")
    assert link.get_attribute("aria-label") is None
    assert page.evaluate("window.__marker") == 1
    # The summary links to the note in its class.
    hrefs = page.locator("li.notification a").evaluate_all("links => links.map(a => a.href)")
    assert f"/articles/{SEED_SLUG}?context=class-{classroom.id}#annotation-{note_id}" in "".join(
        hrefs
    )
    assert page.errors == []
