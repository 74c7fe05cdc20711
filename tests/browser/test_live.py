"""Live class discussion in two real browsers against gunicorn with two workers.

What one student creates, edits, deletes or replies reaches the other within 5 seconds,
without a reload, without moving their scroll position and without losing what they are
typing; an idle poll swaps nothing; a note arriving out of sight shows an "N new" notice.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import log_in, watch_errors
from tests.browser.test_reader import PHRASE_RECTS, card_ids, drag_select, marks_of
from tests.conftest import PASSWORD, SEED_SLUG
from webapp.services.annotations import CARDS_PER_PAGE

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms: the contract for a change to reach the other reader
_names = itertools.count(1)


@dataclass
class Class:
    id: int
    instructor: str
    students: list[str]

    @property
    def url(self) -> str:
        return f"/articles/{SEED_SLUG}?context=class-{self.id}"


class Services:
    """Set up accounts, classes and notes with the app's own services, on the live server's
    database (the test process is one more client of the same SQLite file)."""

    def __init__(self, server):
        from webapp import create_app

        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"],
                "SECRET_KEY": server.env["SECRET_KEY"],
                "SEEDS_DIR": server.env["SEEDS_DIR"],
                "INSTANCE_PATH": str(server.root),
            }
        )

    def _write(self, work):
        from webapp.database import write_intent
        from webapp.extensions import db

        # BEGIN IMMEDIATE, like the app's writing requests: the workers write too.
        token = write_intent.set(True)
        try:
            with self.app.app_context():
                result = work(db.session)
                db.session.commit()
                return result
        finally:
            write_intent.reset(token)

    def document(self, session):
        from webapp.models import Document

        return session.scalar(sa.select(Document).where(Document.slug == SEED_SLUG))

    def classroom(self, students: int = 2) -> Class:
        from webapp.services.accounts import create_user
        from webapp.services.classes import assign, create_class, join_class

        n = next(_names)
        names = [f"live{n}-teacher", *(f"live{n}-{chr(97 + i)}" for i in range(students))]

        def work(session):
            teacher, *others = [create_user(session, name, PASSWORD) for name in names]
            classroom = create_class(session, teacher, f"Live class {n}")
            for student in others:
                join_class(session, student, classroom.join_code)
            assign(session, classroom, self.document(session), None)
            return classroom.id

        return Class(self._write(work), names[0], names[1:])

    def note(self, classroom: Class, author: str, start: int, end: int, body: str) -> int:
        from webapp.services.accounts import find_user
        from webapp.services.annotations import create_annotation

        def work(session):
            version = self.document(session).current_version
            form = {
                "start": str(start),
                "end": str(end),
                "exact": version.text[start:end],
                "colour": "yellow",
                "body": body,
                "intent": "comment",
                "audience": f"class-{classroom.id}",
            }
            return create_annotation(session, find_user(session, author), version, form).id

        return self._write(work)

    def phrase(self, phrase: str) -> tuple[int, int]:
        with self.app.app_context():
            from webapp.extensions import db

            text = self.document(db.session).current_version.text
        start = text.index(phrase)
        return start, start + len(phrase)

    def words(self, count: int, after: str) -> list[tuple[int, int]]:
        """`count` passages of one long word each, spread over the text after `after`."""
        with self.app.app_context():
            from webapp.extensions import db

            text = self.document(db.session).current_version.text
        found = [m.span() for m in re.finditer(r"\w{6,}", text) if m.start() > text.index(after)]
        step = len(found) / count
        return [found[int(i * step)] for i in range(count)]

    def close(self) -> None:
        from webapp.extensions import db

        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def services(live_server):
    services = Services(live_server)
    yield services
    services.close()


@pytest.fixture
def reader(browser, live_server):
    """Open a browser context (a separate person) logged in as `username`, at `url` if given."""
    contexts = []

    def open_as(username: str, height: int = 900, width: int = 1400, url: str | None = None):
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=live_server.url
        )
        contexts.append(context)
        page = watch_errors(context.new_page())
        log_in(page, username)
        if url:
            page.goto(url)
        return page

    yield open_as
    for context in contexts:
        context.close()


def mark_no_reload(page) -> None:
    page.evaluate("window.__sameDocument = true")


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def is_poll(response) -> bool:
    return "/changes?" in response.url


def live_cursor(page) -> str:
    return page.locator("#live").get_attribute("hx-get")


def test_two_students_see_each_other_live_under_two_workers(live_server, services, reader):
    # The app runs under gunicorn with two worker processes: a poll may reach either, so the
    # cursor can only live in the database.
    assert live_server.workers == 2
    assert len(live_server.worker_pids()) == 2

    klass = services.classroom(students=2)
    name_a, name_b = klass.students
    start, end = services.phrase("Hmeimim military base")
    b_note = services.note(klass, name_b, start, end, "Why *forty* years?")

    a = reader(name_a)
    b = reader(name_b, height=700)
    for page in (a, b):
        page.goto(klass.url)
        expect(page.locator(f"#annotation-{b_note}")).to_be_visible()
        mark_no_reload(page)

    # B opens a reply box on their note and starts typing, then scrolls the article a bit.
    b_card = b.locator(f"#annotation-{b_note}")
    b_card.get_by_role("link", name="Reply").click()
    box = b_card.get_by_placeholder("Your reply (Markdown)")
    expect(box).to_be_visible()
    box.click()
    typed = "I think the base outlasts"
    b.keyboard.type(typed)
    b.evaluate("window.scrollTo(0, 250)")
    scroll_y = b.evaluate("window.scrollY")
    assert scroll_y > 0, "the article is too short to scroll in this viewport"

    def b_is_undisturbed():
        expect(box).to_have_value(typed)
        expect(box).to_be_focused()
        assert b.evaluate("window.scrollY") == scroll_y
        assert_no_reload(b)

    # A selects a passage with the mouse and comments on it.
    phrase = "The rapid return of refugees to Syria"
    drag_select(a, phrase)
    toolbar = a.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    expect(toolbar.get_by_label("Post to")).to_have_value(f"class-{klass.id}")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    a.get_by_placeholder("Your comment (Markdown)").fill("Return to **what**, though?")
    before = set(card_ids(a))
    a.get_by_role("button", name="Save comment").click()
    expect(a.locator(".card")).to_have_count(len(before) + 1)
    saved = time.monotonic()
    (a_note,) = set(card_ids(a)) - before

    # B sees the mark and the card within 5 s, without a reload.
    expect(marks_of(b, a_note).first).to_be_attached(timeout=LIVE)
    b_new_card = b.locator(f"#annotation-{a_note}")
    expect(b_new_card.locator(".comment strong")).to_have_text("what", timeout=LIVE)
    print(f"\nB saw A's new note {time.monotonic() - saved:.2f} s after A saved it")
    assert "".join(marks_of(b, a_note).all_text_contents()) == phrase
    b_is_undisturbed()

    # A edits the comment: B sees the new text.
    a_card = a.locator(f"#annotation-{a_note}")
    a_card.get_by_role("link", name="Edit").click()
    a_card.locator("textarea[name=body]").fill("Return to *which* homes?")
    a_card.get_by_role("button", name="Save").click()
    expect(a_card.locator(".comment em")).to_have_text("which")
    saved = time.monotonic()
    expect(b_new_card.locator(".comment em")).to_have_text("which", timeout=LIVE)
    print(f"B saw the edit after {time.monotonic() - saved:.2f} s")
    b_is_undisturbed()

    # A deletes it: B's mark and card go.
    a_card.get_by_role("button", name="Delete").click()
    expect(a_card).to_have_count(0)
    saved = time.monotonic()
    expect(b_new_card).to_have_count(0, timeout=LIVE)
    expect(marks_of(b, a_note)).to_have_count(0, timeout=LIVE)
    print(f"B saw the deletion after {time.monotonic() - saved:.2f} s")
    b_is_undisturbed()

    # A replies to B's note while B is typing in that very card: the poll brings the card,
    # and the guard keeps B's card (and B's words) as they are.
    a_b_card = a.locator(f"#annotation-{b_note}")
    a_b_card.get_by_role("link", name="Reply").click()
    a_b_card.get_by_placeholder("Your reply (Markdown)").fill("Since 2015, extended in 2017.")
    with b.expect_response(lambda r: is_poll(r) and r.status == 200, timeout=LIVE) as poll:
        a_b_card.get_by_role("button", name="Post reply").click()
        expect(a_b_card.locator(".thread .comment")).to_have_text(["Since 2015, extended in 2017."])
    assert f'id="annotation-{b_note}"' in poll.value.text()
    expect(b.locator("#live")).to_have_attribute("hx-get", re.compile(r"cursor=\d+"))
    b_is_undisturbed()
    expect(b_card.locator(".thread")).to_have_count(0)

    # B posts the reply: the card comes back with the whole thread, A's reply included.
    b.keyboard.type(" every government since.")
    b_card.get_by_role("button", name="Post reply").click()
    expect(b_card.locator(".thread .comment")).to_have_text(
        ["Since 2015, extended in 2017.", typed + " every government since."]
    )
    assert b.evaluate("window.scrollY") == scroll_y

    # With nobody typing in it, A's next reply shows up in B's card live.
    a_b_card.locator(":scope > .card-actions").get_by_role("link", name="Reply").click()
    a_b_card.get_by_placeholder("Your reply (Markdown)").fill("Good point.")
    a_b_card.get_by_role("button", name="Post reply").click()
    expect(a_b_card.locator(".thread .comment")).to_have_count(3)
    saved = time.monotonic()
    expect(b_card.locator(".thread .comment")).to_have_text(
        ["Since 2015, extended in 2017.", typed + " every government since.", "Good point."],
        timeout=LIVE,
    )
    print(f"B saw A's reply after {time.monotonic() - saved:.2f} s")

    assert_no_reload(a)
    assert_no_reload(b)
    assert a.errors == [] and b.errors == []


def test_a_poll_with_nothing_new_swaps_nothing(services, reader):
    klass = services.classroom(students=1)
    (student,) = klass.students
    services.note(klass, klass.instructor, *services.phrase("White Helmets"), "Whose words?")
    page = reader(student, url=klass.url)
    expect(page.locator(".card")).to_have_count(1)
    # The notes' print numbers are drawn once the page is idle after its load: wait for them.
    expect(page.locator("#cards > .card").first).to_have_attribute("data-note", "1")
    cards_before = page.locator("#cards").inner_html()
    body_before = page.locator("#article-body").inner_html()
    cursor = live_cursor(page)
    page.evaluate(
        """() => {
          window.__mutations = [];
          const observer = new MutationObserver(records => window.__mutations.push(...records));
          const all = { childList: true, subtree: true, attributes: true, characterData: true };
          observer.observe(document.getElementById("cards"), all);
          observer.observe(document.getElementById("article-body"), all);
        }"""
    )

    polls = []
    for _ in range(2):
        with page.expect_response(is_poll, timeout=LIVE) as info:
            pass
        polls.append(info.value)
    for response in polls:
        assert response.status == 204, response.url
        assert response.body() == b""
        assert f"context=class-{klass.id}" in response.url
    assert page.evaluate("window.__mutations.length") == 0
    assert page.locator("#cards").inner_html() == cards_before
    assert page.locator("#article-body").inner_html() == body_before
    assert live_cursor(page) == cursor
    expect(page.locator("#live-notice")).to_be_hidden()
    assert page.errors == []


def test_a_note_arriving_out_of_sight_shows_n_new(services, reader):
    klass = services.classroom(students=2)
    name_a, name_b = klass.students
    # Enough notes further down the article that the sidebar scrolls, all on its first page.
    for n, (start, end) in enumerate(services.words(CARDS_PER_PAGE, after="He added that")):
        services.note(
            klass,
            klass.instructor,
            start,
            end,
            f"Note {n + 1}: a remark long enough to take a few lines in the sidebar, "
            "so that a page of them does not fit on one screen.",
        )
    a = reader(name_a)
    b = reader(name_b)
    for page in (a, b):
        page.goto(klass.url)
        expect(page.locator(".card")).to_have_count(CARDS_PER_PAGE)
    sidebar = b.locator("#sidebar")
    assert sidebar.evaluate("s => s.scrollHeight > s.clientHeight + 200"), "sidebar too short"
    sidebar.evaluate("s => { s.scrollTop = s.scrollHeight; }")
    mark_no_reload(b)

    # A comments on a passage near the top of the article (a bare highlight would stay
    # A's own): in position order its card goes first, far above what B is looking at.
    drag_select(a, "Russian forces were needed in the country long-term")
    toolbar = a.get_by_role("toolbar")
    toolbar.get_by_role("button", name="Comment", exact=True).click()
    a.get_by_placeholder("Your comment (Markdown)").fill("Needed by whom?")
    toolbar.get_by_role("button", name="Save comment").click()
    expect(a.locator(".card")).to_have_count(CARDS_PER_PAGE + 1)
    new_id = card_ids(a)[0]

    notice = b.locator("#live-notice")
    expect(notice).to_be_visible(timeout=LIVE)
    expect(notice).to_have_text("1 new note")
    new_card = b.locator(f"#annotation-{new_id}")
    assert card_ids(b)[0] == new_id
    expect(new_card).not_to_be_in_viewport()

    notice.click()
    expect(new_card).to_be_in_viewport()
    expect(new_card).to_be_focused()
    expect(notice).to_be_hidden()
    assert_no_reload(b)
    assert a.errors == [] and b.errors == []


def test_a_note_arriving_while_selecting_keeps_the_selection_and_the_toolbar(services, reader):
    klass = services.classroom(students=2)
    ann, ben = klass.students
    page = reader(ben, url=klass.url)
    toolbar = page.get_by_role("toolbar")

    # ben selects a passage; ann's note on the same paragraph arrives by the poll. Its card
    # comes in, the paragraph waits: ben's selection is the same, on the same text nodes.
    drag_select(page, "Interfax news agency cited Assad")
    expect(toolbar).to_be_visible()
    assert page.evaluate("getSelection().toString()") == "Interfax news agency cited Assad"
    node = page.evaluate_handle("getSelection().getRangeAt(0).startContainer")
    start, end = services.phrase("global political balance")
    arrived = services.note(klass, ann, start, end, "Which balance?")
    expect(page.locator(f"#annotation-{arrived}")).to_be_visible()
    mark = page.locator(f'#article-body mark[data-at="{start}"]')
    expect(mark).to_have_count(0)
    assert page.evaluate("getSelection().toString()") == "Interfax news agency cited Assad"
    assert node.evaluate("node => node.isConnected")

    # Once the selection is gone (a click elsewhere in the text), ann's mark shows.
    rects = page.evaluate(PHRASE_RECTS, ["citing an interview", 0, False])
    first = rects["first"]
    page.mouse.click(first["left"] + 1, (first["top"] + first["bottom"]) / 2)
    expect(toolbar).to_be_hidden()
    expect(mark).to_have_count(1)

    # Again, and this time the toolbar highlights the passage still selected; its answer
    # redraws the paragraph, ann's new mark included.
    drag_select(page, "Syria's agreement with Russia")
    expect(toolbar).to_be_visible()
    assert page.evaluate("getSelection().toString()") == "Syria's agreement with Russia"
    start, end = services.phrase("Hmeimim military base")
    arrived = services.note(klass, ann, start, end, "Why there?")
    expect(page.locator(f"#annotation-{arrived}")).to_be_visible()
    mark = page.locator(f'#article-body mark[data-at="{start}"]')
    expect(mark).to_have_count(0)
    assert page.evaluate("getSelection().toString()") == "Syria's agreement with Russia"
    before = set(card_ids(page))
    toolbar.get_by_role("button", name="Highlight", exact=True).click()
    expect(page.locator(".card")).to_have_count(len(before) + 1)
    (own,) = set(card_ids(page)) - before
    expect(page.locator(f"#annotation-{own} .quote")).to_have_text("Syria's agreement with Russia")
    expect(mark).to_have_count(1)
    assert page.errors == []


def test_a_click_asks_for_the_notes_at_the_character_clicked(services, reader):
    """Two of ann's notes side by side draw alike (one tint for others' notes): one mark.
    A click asks for the note at the character clicked, and no other."""
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("They have two options")
    middle = start + len("They have ")
    first = services.note(klass, ann, start, middle, "The first half")
    second = services.note(klass, ann, middle, end, "The second half")
    page = reader(ben, url=klass.url)
    mark = page.locator(f'#article-body mark[data-at="{start}"]')
    expect(mark).to_have_text("They have two options")
    title = page.locator("#spot .spot-title")
    # Each time the right half of a phrase's last character (the caret goes after it): the
    # space before "two" is the first note's last character.
    for phrase, note in (("They have ", first), ("They have two", second), ("They", first)):
        last = page.evaluate(PHRASE_RECTS, [phrase, 0])["last"]
        page.mouse.click(last["right"] - 1, (last["top"] + last["bottom"]) / 2)
        expect(title).to_have_text("1 note on this passage")
        expect(page.locator(f"#annotation-{note}")).to_be_focused()
    assert page.errors == []


def test_the_open_notes_at_a_spot_follow_what_others_change(services, reader):
    klass = services.classroom(students=2)
    ann, ben = klass.students
    start, end = services.phrase("Hmeimim military base")
    first = services.note(klass, ann, start, end, "Why there?")
    page = reader(ben, width=1440, url=klass.url)
    page.locator(f'#article-body mark[data-at="{start}"]').click()
    spot = page.locator("#spot")
    title = spot.locator(".spot-title")
    expect(title).to_have_text("1 note on this passage")
    card = page.locator(f"#annotation-{first}")
    expect(card).to_be_focused()

    # ann's second note there comes by the poll: the panel lists it and says so; focus
    # stays on the card.
    second = services.note(klass, ann, start, end, "And for how long?")
    expect(title).to_have_text("2 notes on this passage")
    expect(spot.locator(f"[data-spot-note='{second}']")).to_contain_text("And for how long?")
    expect(page.locator("#announcer")).to_contain_text("2 notes on this passage.")
    expect(card).to_be_focused()

    # The instructor hides it: it leaves the panel too.
    def hide(session):
        from webapp.models import Annotation
        from webapp.services.accounts import find_user
        from webapp.services.discussion import set_hidden

        note = session.get(Annotation, second)
        set_hidden(session, note, note, find_user(session, klass.instructor), True, "Off topic")

    services._write(hide)
    expect(title).to_have_text("1 note on this passage")
    expect(spot.locator(f"[data-spot-note='{second}']")).to_have_count(0)
    expect(card).to_be_focused()
    assert page.errors == []
