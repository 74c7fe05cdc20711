"""The reader from the keyboard alone: selecting and highlighting through the toolbar,
commenting, moving between highlights and their notes, replying and voting. After every
action focus lands somewhere sensible (document.activeElement is checked), and the live
region says what happened."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import announced, into_article, open_article, select_from_caret
from tests.browser.test_live import reader, services  # noqa: F401 - fixtures
from tests.browser.test_reader import card_ids, highlight, marks_of
from webapp.services.annotations import SPOT_NOTES_PER_PAGE

pytestmark = pytest.mark.browser

ACTIVE = """() => {
  const a = document.activeElement;
  return a ? (a.id || a.tagName.toLowerCase() + (a.className ? "." + a.className : "")) : null;
}"""


def active(page) -> str | None:
    return page.evaluate(ACTIVE)


def test_highlight_in_a_chosen_colour_from_the_toolbar_by_keyboard(page):
    open_article(page)
    into_article(page)
    select_from_caret(page, len("Bashar"))
    # Tab goes on to the toolbar, its colour first; the passage stays selected.
    page.keyboard.press("Tab")
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    expect(toolbar.get_by_role("radio", name="Yellow")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("radio", name="Green")).to_be_checked()
    page.keyboard.press("Tab")
    expect(toolbar.get_by_role("button", name="Highlight", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".card")).to_have_count(1)
    (first,) = card_ids(page)
    card = page.locator(f"#annotation-{first}")
    expect(card).to_be_focused()
    expect(card).to_have_class(re.compile(r"\bcard-green\b"))
    expect(marks_of(page, first).first).to_have_class(re.compile(r"\bhl-green\b"))
    expect(announced(page)).to_have_text("Highlight saved.")

    # Escape from the note goes back to its place in the text.
    page.keyboard.press("Escape")
    expect(marks_of(page, first).first).to_be_focused()

    # Escape from the toolbar goes back to the passage, still selected.
    page.keyboard.press("End")
    select_from_caret(page, 5)
    page.keyboard.press("Tab")
    expect(toolbar.get_by_role("radio", name="Green")).to_be_focused()
    selected = page.evaluate("getSelection().toString()")
    page.keyboard.press("Escape")
    expect(toolbar).to_be_hidden()
    expect(page.locator("#article-body")).to_be_focused()
    assert page.evaluate("getSelection().toString()") == selected

    # h uses the colour chosen last.
    page.keyboard.press("h")
    expect(page.locator(".card")).to_have_count(2)
    (second,) = set(card_ids(page)) - {first}
    expect(page.locator(f"#annotation-{second}")).to_have_class(re.compile(r"\bcard-green\b"))
    expect(page.locator(f"#annotation-{second}")).to_be_focused()
    assert page.errors == []


def test_comment_with_ctrl_enter_focuses_the_new_card_and_is_announced(page):
    open_article(page)
    into_article(page)
    select_from_caret(page, len("Bashar al-Assad"))
    page.keyboard.press("c")
    box = page.get_by_placeholder("Your comment (Markdown)")
    expect(box).to_be_focused()
    page.keyboard.type("Who took the photo?")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".card")).to_have_count(1)
    (note,) = card_ids(page)
    expect(page.locator(f"#annotation-{note}")).to_be_focused()
    expect(announced(page)).to_have_text("Comment saved.")

    # Edit with the keyboard: the box takes focus, Ctrl+Enter saves, focus on the card.
    card = page.locator(f"#annotation-{note}")
    card.get_by_role("link", name="Edit").focus()
    page.keyboard.press("Enter")
    edit_box = card.locator("textarea")
    expect(edit_box).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" And when?")
    page.keyboard.press("Control+Enter")
    expect(card.locator(".comment")).to_have_text("Who took the photo? And when?")
    expect(card).to_be_focused()
    expect(announced(page)).to_have_text("Note saved.")

    # Escape closes an edit form; focus goes back to the Edit link that opened it.
    card.get_by_role("link", name="Edit").focus()
    page.keyboard.press("Enter")
    expect(card.locator("textarea")).to_be_focused()
    page.keyboard.press("Escape")
    # Redrawn and ready: its answer is in (no longer busy) and focus is on the new Edit link.
    expect(card).not_to_have_attribute("aria-busy", "true")
    expect(card.locator("textarea")).to_have_count(0)
    expect(card.get_by_role("link", name="Edit")).to_be_focused()

    # Delete, then Undo: focus on Undo, then on the note again.
    card.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    expect(announced(page)).to_have_text("Note deleted.")
    page.keyboard.press("Enter")
    expect(page.locator(f"#annotation-{note}")).to_be_focused()
    expect(announced(page)).to_have_text("Note restored.")
    assert page.errors == []


def test_keys_on_a_card_being_redrawn_do_nothing_and_no_form_loads_a_page(page):
    open_article(page)
    note = highlight(page, "the Syrian rescue workers")
    card = page.locator(f"#annotation-{note}")
    card.get_by_role("link", name="Add comment").click()
    box = card.locator("textarea")
    expect(box).to_be_focused()
    box.fill("Typed, then cancelled.")
    page.evaluate("window.samePage = true")  # gone if the page ever loads again
    sent = []
    page.on("request", lambda r: sent.append((r.method, r.url)))

    # Escape asks for the card back; its answer is held while more keys come.
    held = []
    shown = re.compile(rf"/annotations/{note}(\?|$)")  # the card as it is (Cancel)
    page.route(lambda url: shown.search(url) is not None, lambda route: held.append(route))
    with page.expect_request(lambda r: shown.search(r.url) is not None):
        page.keyboard.press("Escape")
    expect(card).to_have_attribute("aria-busy", "true")
    for _ in range(1_000):  # the route's handler runs as the page's events are taken in
        if held:
            break
        page.evaluate("0")
    assert len(held) == 1
    page.keyboard.press("Control+Enter")  # would save what is being cancelled
    page.keyboard.press("Escape")  # would cancel twice
    expect(card).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(card).not_to_have_attribute("aria-busy", "true")
    expect(card.locator("textarea")).to_have_count(0)
    expect(card.get_by_role("link", name="Add comment")).to_be_focused()
    page.unroute_all()
    assert not [url for method, url in sent if method == "POST"], sent
    assert len([url for _, url in sent if shown.search(url)]) == 1, sent
    expect(card.locator(".comment")).to_have_count(0)

    # A card drawn an instant ago that htmx has not taken up yet: its Delete still goes
    # through htmx, never as a full page load.
    card.evaluate("c => { c.outerHTML = c.outerHTML; }")
    card.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    expect(announced(page)).to_have_text("Note deleted.")
    assert page.evaluate("window.samePage") is True
    assert page.errors == []


def test_n_and_p_step_between_highlights_and_enter_opens_their_notes(page):
    open_article(page)
    # Made in this order; in the text, "the Syrian rescue workers" comes first.
    second = highlight(page, "They have two options")
    first = highlight(page, "the Syrian rescue workers")
    page.evaluate("getSelection().removeAllRanges(); window.scrollTo(0, 0)")
    into_article(page)

    page.keyboard.press("n")
    first_mark = marks_of(page, first).first
    expect(first_mark).to_be_focused()
    expect(first_mark).to_have_attribute("aria-description", "1 note here; Enter opens them")
    page.keyboard.press("n")
    expect(marks_of(page, second).first).to_be_focused()
    page.keyboard.press("p")
    expect(first_mark).to_be_focused()

    # Enter opens the notes at that spot; Escape comes back to the same place.
    page.keyboard.press("Enter")
    expect(page.locator(f"#annotation-{first}")).to_be_focused()
    expect(announced(page)).to_have_text("1 note on this passage.")
    page.keyboard.press("Escape")
    expect(first_mark).to_be_focused()

    # From a note, its quote leads to its highlight.
    page.locator(f"#annotation-{second} .quote a").focus()
    page.keyboard.press("Enter")
    expect(marks_of(page, second).first).to_be_focused()
    assert page.errors == []


def test_marks_are_in_the_accessibility_tree_with_their_note_count(page):
    open_article(page)
    first = highlight(page, "They have two options")
    marks_of(page, first).first.focus()
    cdp = page.context.new_cdp_session(page)
    tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
    described = [
        node
        for node in tree
        if node.get("description", {}).get("value") == "1 note here; Enter opens them"
    ]
    assert described, "no node describes the highlight's notes"
    assert any(n.get("role", {}).get("value") == "mark" for n in described)
    # The live region is one polite status in the tree.
    status = [n for n in tree if n.get("role", {}).get("value") == "status"]
    assert any(
        p["name"] == "live" and p["value"]["value"] == "polite"
        for n in status
        for p in n.get("properties", [])
    )


def test_shortcuts_work_only_in_the_article_and_can_be_turned_off(page):
    open_article(page)
    first = highlight(page, "They have two options")
    page.evaluate("getSelection().removeAllRanges()")

    # In the sidebar, n is a letter, not a move.
    search = page.get_by_role("searchbox", name="Search notes")
    search.focus()
    page.keyboard.press("n")
    expect(search).to_have_value("n")
    expect(search).to_be_focused()
    # Cleared as typed (one search, sent once the keys pause), and its answer heard before
    # the next step: it would otherwise speak over what comes next.
    page.keyboard.press("Backspace")
    expect(announced(page)).to_have_text("1 note shown.")

    # ? shows the keys in a dialog; turning single keys off is remembered.
    into_article(page)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard")
    expect(dialog).to_be_visible()
    toggle = dialog.get_by_role("checkbox", name="Single-key shortcuts")
    toggle.focus()
    page.keyboard.press("Space")
    expect(toggle).not_to_be_checked()
    expect(announced(page)).to_have_text("Single-key shortcuts off.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#article-body")).to_be_focused()
    page.keyboard.press("n")
    expect(page.locator("#article-body")).to_be_focused()

    page.reload()
    into_article(page)
    page.keyboard.press("n")
    expect(marks_of(page, first).first).not_to_be_focused()
    expect(page.locator("#article-body")).to_be_focused()
    # The button in the article's header opens the same list, whatever the setting.
    page.get_by_role("button", name="Keyboard shortcuts").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("checkbox", name="Single-key shortcuts")).not_to_be_checked()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_focused()


def test_reply_and_vote_by_keyboard_keep_focus(services, reader):  # noqa: F811
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Hmeimim military base")
    note = services.note(klass, ann, start, end, "Why *forty* years?")
    page = reader(ben, url=klass.url)
    card = page.locator(f"#annotation-{note}")
    expect(card).to_be_visible()

    # From the highlight to its note, then a few Tabs to Reply.
    into_article(page)
    page.keyboard.press("n")
    expect(marks_of(page, note).first).to_be_focused()
    page.keyboard.press("Enter")
    expect(card).to_be_focused()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Reply":
            break
    expect(card.get_by_role("link", name="Reply")).to_be_focused()

    # Reply: the box takes focus; Ctrl+Enter posts; focus on the posted reply.
    page.keyboard.press("Enter")
    box = card.get_by_placeholder("Your reply (Markdown)")
    expect(box).to_be_focused()
    page.keyboard.type("Since 2015, I think.")
    page.keyboard.press("Control+Enter")
    posted = card.locator(".reply").last
    expect(posted).to_contain_text("Since 2015, I think.")
    expect(posted).to_be_focused()
    expect(announced(page)).to_have_text("Reply posted.")

    # Vote: focus stays on the (redrawn) vote button, now pressed.
    vote = card.get_by_role("button", name="Upvote 0", exact=True)
    vote.focus()
    page.keyboard.press("Enter")
    pressed = card.get_by_role("button", name="Upvote 1", exact=True)
    expect(pressed).to_have_attribute("aria-pressed", "true")
    expect(pressed).to_be_focused()
    expect(announced(page)).to_have_text("Upvoted.")

    # Escape in a reply box closes it and returns to the Reply link.
    card.get_by_role("link", name="Reply").first.focus()
    page.keyboard.press("Enter")
    expect(card.get_by_placeholder("Your reply (Markdown)")).to_be_focused()
    page.keyboard.press("Escape")
    expect(card.get_by_placeholder("Your reply (Markdown)")).to_have_count(0)
    expect(card.get_by_role("link", name="Reply").first).to_be_focused()
    assert page.errors == []


def test_others_notes_are_announced_and_do_not_move_focus(services, reader):  # noqa: F811
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Hmeimim military base")
    note = services.note(klass, ann, start, end, "Why *forty* years?")
    page = reader(ben, url=klass.url)
    card = page.locator(f"#annotation-{note}")
    vote = card.get_by_role("button", name="Upvote 0", exact=True)
    vote.focus()

    # ann replies to her note: ben's copy of the card is redrawn, focus stays on the button.
    def reply(session):
        from webapp.models import Annotation
        from webapp.services.accounts import find_user
        from webapp.services.discussion import add_reply

        add_reply(
            session, find_user(session, ann), session.get(Annotation, note), "Also: why?", None
        )

    services._write(reply)
    expect(card.locator(".reply")).to_contain_text("Also: why?")
    expect(card.get_by_role("button", name="Upvote 0", exact=True)).to_be_focused()

    # A new note from ann is said in the live region; focus does not move.
    start, end = services.phrase("Middle East")
    services.note(klass, ann, start, end, "Which countries?")
    expect(announced(page)).to_have_text(f"1 new note from {ann}.")
    expect(card.get_by_role("button", name="Upvote 0", exact=True)).to_be_focused()

    # A filter says what it shows; focus stays on the filter.
    show = page.get_by_role("combobox", name="Show")
    show.focus()
    show.select_option("questions")
    expect(announced(page)).to_have_text("No notes match.")
    expect(show).to_be_focused()
    assert page.errors == []


def test_pin_hide_and_flag_keep_focus_on_the_control(services, reader):  # noqa: F811
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Hmeimim military base")
    note = services.note(klass, ann, start, end, "Why *forty* years?")

    teacher = reader(klass.instructor, url=klass.url)
    card = teacher.locator(f"#annotation-{note}")
    card.get_by_role("button", name="Pin").focus()
    teacher.keyboard.press("Enter")
    expect(card.get_by_role("button", name="Unpin")).to_be_focused()
    expect(announced(teacher)).to_have_text("Pinned to the top.")

    # Hide: the box opens from the keyboard, Escape closes it back on its summary.
    summary = card.locator("summary", has_text="Hide")
    summary.focus()
    teacher.keyboard.press("Enter")
    reason = card.get_by_label("Reason shown to the author")
    # The box's form is there as it opens, however soon the next key comes.
    assert reason.is_visible()
    reason.focus()
    teacher.keyboard.press("Escape")
    expect(reason).to_be_hidden()
    expect(summary).to_be_focused()
    teacher.keyboard.press("Enter")
    assert reason.is_visible()
    reason.focus()
    teacher.keyboard.type("Off topic")
    teacher.keyboard.press("Enter")
    expect(card.get_by_role("button", name="Unhide")).to_be_focused()
    expect(announced(teacher)).to_have_text("Hidden from the class.")
    teacher.keyboard.press("Enter")
    expect(card.locator("summary", has_text="Hide")).to_be_focused()
    expect(announced(teacher)).to_have_text("Shown to the class again.")
    assert teacher.errors == []

    student = reader(ben, url=klass.url)
    card = student.locator(f"#annotation-{note}")
    # The note's Flag opens a short reason form; sent, focus is back on its Flag.
    flag = card.locator("summary", has_text="Flag this note")
    flag.focus()
    student.keyboard.press("Enter")
    expect(flag.locator("xpath=..")).to_have_attribute("open", "")
    flag.locator("xpath=..").get_by_role("button", name="Flag for the instructors").focus()
    student.keyboard.press("Enter")
    expect(announced(student)).to_have_text("Flagged for the instructors.")
    expect(flag).to_be_focused()
    assert student.errors == []


def test_more_notes_at_a_spot_come_by_keyboard_with_focus_on_the_first(services, reader):  # noqa: F811
    room = services.classroom()
    start, end = services.phrase("They have two options")
    count = SPOT_NOTES_PER_PAGE + 5
    for n in range(count):
        services.note(room, room.students[n % 2], start, end, f"Spot note {n}")
    page = reader(room.instructor, url=room.url)
    into_article(page)
    page.keyboard.press("n")
    mark = page.locator(f'#article-body mark[data-at="{start}"]')
    expect(mark).to_be_focused()
    page.keyboard.press("Enter")
    expect(announced(page)).to_have_text(f"{count} notes on this passage.")
    notes = page.locator("#spot [data-spot-note]")
    expect(notes).to_have_count(SPOT_NOTES_PER_PAGE)

    # The link to the rest is reached and followed from the keyboard.
    more = page.get_by_role("link", name=re.compile(r"^More notes at this spot"))
    more.focus()
    page.keyboard.press("Enter")
    expect(notes).to_have_count(count)
    expect(notes.nth(SPOT_NOTES_PER_PAGE)).to_be_focused()
    expect(notes.nth(SPOT_NOTES_PER_PAGE)).to_contain_text(f"Spot note {SPOT_NOTES_PER_PAGE}")
    expect(announced(page)).to_have_text(
        f"5 more notes, {SPOT_NOTES_PER_PAGE + 1} to {count} of {count}."
    )
    expect(page.locator("#spot [data-spot-more]")).to_have_count(0)
    assert page.errors == []
