"""The moderation queue in the browser, with the keyboard only: hide a flagged note and
keep a flagged reply; each is swapped in place (no reload), the focus lands on what was
done, and the status region says it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_live import Services

pytestmark = pytest.mark.browser


class Flags(Services):
    def reply(self, annotation_id: int, author: str, body: str) -> int:
        from webapp.models import Annotation
        from webapp.services.accounts import find_user
        from webapp.services.discussion import add_reply

        def work(session):
            note = session.get(Annotation, annotation_id)
            return add_reply(session, find_user(session, author), note, body, None).id

        return self._write(work)

    def flag(self, annotation_id: int, reply_id: int | None, who: str, reason: str) -> None:
        from webapp.models import Annotation, Reply
        from webapp.services.accounts import find_user
        from webapp.services.discussion import flag

        def work(session):
            note = session.get(Annotation, annotation_id)
            reply = session.get(Reply, reply_id) if reply_id else None
            flag(session, find_user(session, who), note, reply, reason)

        self._write(work)


@pytest.fixture(scope="module")
def services(live_server):
    services = Flags(live_server)
    yield services
    services.close()


def test_hide_and_keep_with_the_keyboard(page, services):
    classroom = services.classroom(students=2)
    ann, ben = classroom.students
    note_id = services.note(classroom, ann, *services.phrase("Russian forces were needed"), "Hm")
    reply_id = services.reply(note_id, ben, "Nonsense.")
    services.flag(note_id, None, ben, "Off topic")
    services.flag(note_id, reply_id, ann, "Rude")

    log_in(page, classroom.instructor)
    page.goto(f"/classes/{classroom.id}")
    link = page.locator("#flags-link")
    expect(link).to_have_text("2 unreviewed flags")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/classes/{classroom.id}/flags")
    expect(page.locator("#flag-count")).to_have_text("2 unreviewed flags.")
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    note = page.locator(f"#flag-note-{note_id}")
    expect(note).to_contain_text("Off topic")
    note.get_by_label("Reason shown to the author, if hidden").focus()
    page.keyboard.type("Not about the article")
    page.keyboard.press("Tab")
    expect(note.get_by_role("button", name="Hide")).to_be_focused()
    page.keyboard.press("Enter")
    done = page.locator(f"#flag-note-{note_id} .flag-done")
    expect(done).to_have_text("Reviewed: hidden from the class.")
    expect(done).to_be_focused()
    expect(page.locator("#flash")).to_contain_text(f"Hidden from the class: the note by {ann}")
    # Said in the page's one polite live region, wherever focus is.
    expect(page.locator("#announcer")).to_contain_text(f"Hidden from the class: the note by {ann}")
    expect(page.locator("#flag-count")).to_have_text("1 unreviewed flag.")

    reply = page.locator(f"#flag-reply-{reply_id}")
    expect(reply).to_contain_text("Rude")
    keep = reply.get_by_role("button", name="Keep")
    keep.focus()
    page.keyboard.press("Space")
    done = page.locator(f"#flag-reply-{reply_id} .flag-done")
    expect(done).to_have_text("Reviewed: kept.")
    expect(done).to_be_focused()
    expect(page.locator("#flash")).to_contain_text(f"Kept: the reply by {ben}")
    expect(page.locator("#announcer")).to_contain_text(f"Kept: the reply by {ben}")
    expect(page.locator("#flag-count")).to_have_text("No unreviewed flags.")
    assert page.evaluate("window.__marker") == 1

    # the reviewed tab keeps the record
    page.goto(f"/classes/{classroom.id}/flags?show=reviewed")
    expect(page.locator(f"#flag-note-{note_id}")).to_contain_text(
        f"reviewed by {classroom.instructor} (hidden"
    )
    assert page.errors == []


def test_a_note_is_flagged_without_scripts_too(browser, live_server, services):
    """The Flag box's form is built when the box opens (static/js/keys.js); without
    JavaScript it is there from the start, and flagging works as a plain form."""
    classroom = services.classroom(students=2)
    ann, ben = classroom.students
    note_id = services.note(classroom, ann, *services.phrase("They have two options"), "Hm")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, ben)
        page.goto(classroom.url)
        card = page.locator(f"#annotation-{note_id}")
        card.locator("summary", has_text="Flag this note").click()
        card.get_by_label("Why flag it?").fill("Off topic")
        card.get_by_role("button", name="Flag for the instructors").click()
        expect(page.locator("#flash")).to_contain_text("Flagged for the instructors.")
    finally:
        context.close()
    page = browser.new_page(base_url=live_server.url)
    try:
        log_in(page, classroom.instructor)
        page.goto(f"/classes/{classroom.id}/flags")
        expect(page.locator(f"#flag-note-{note_id}")).to_contain_text("Off topic")
    finally:
        page.close()
