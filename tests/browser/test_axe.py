"""axe-core finds nothing, of any impact, on every page and state of the app: in the light
and the dark theme, at 1,440 and 375 px wide.

Each state is reached once, as a person would reach it (logged in as a member of the demo
class, a selection made with the mouse, a form opened), then checked four times in place:
the colour scheme and the viewport change, the state stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser import conftest
from tests.browser.conftest import PASSWORD, sign_up
from tests.browser.test_live import Services
from tests.browser.test_reader import drag_select
from tests.conftest import SEED_SLUG
from tests.support.axe import axe_violations, describe
from tests.support.servers import LiveServer, flask
from webapp.services.demo import CLASS_NAME, INSTRUCTOR, STUDENTS
from webapp.services.demo import PASSWORD as DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEACHER, (STUDENT, CLASSMATE, _) = INSTRUCTOR, STUDENTS
VARIANTS = [("light", 1440), ("dark", 1440), ("light", 375), ("dark", 375)]
HEIGHT = 900

ARTICLE = """# A Short Walk Along the Shore

By Test Desk

June 1, 2024

The tide went out slowly, leaving ribbons of weed across the sand.

Gulls argued over a crab while the walkers watched from the dunes.
"""


@dataclass
class Site:
    server: LiveServer
    services: Services
    class_id: int
    join_code: str
    hidden_note: int
    assignment_id: int
    student_id: int
    archived_class_id: int

    @property
    def class_url(self) -> str:
        return f"/articles/{SEED_SLUG}?context=class-{self.class_id}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("axe"))
    services = Services(server)
    try:
        flask(server.env, "demo")
        yield Site(server, services, *_extra_notes(services))
    finally:
        services.close()
        server.stop()


def _extra_notes(services: Services) -> tuple[int, str, int, int, int, int]:
    """A private note of the student's, a note of a classmate's hidden by the instructor,
    and an overlap (notes at one spot); an archived class of the same people, its reading
    past due, with a note of the student's in it."""
    from datetime import datetime

    import sqlalchemy as sa

    from webapp.models import Classroom
    from webapp.services import class_roles
    from webapp.services.accounts import find_user
    from webapp.services.annotations import create_annotation
    from webapp.services.classes import assign, assignments_of, create_class, join_class
    from webapp.services.discussion import set_hidden

    def note(session, author, phrase, audience, body, colour="green"):
        version = services.document(session).current_version
        start = version.text.index(phrase)
        form = {
            "start": str(start),
            "end": str(start + len(phrase)),
            "exact": phrase,
            "colour": colour,
            "body": body,
            "intent": "comment" if body else "highlight",
            "audience": audience,
        }
        return create_annotation(session, find_user(session, author), version, form)

    def work(session):
        classroom = session.scalar(sa.select(Classroom).where(Classroom.name == CLASS_NAME))
        audience = f"class-{classroom.id}"
        note(session, STUDENT, "military base", "private", "Only mine: check the date.", "blue")
        note(session, STUDENT, "Hmeimim", "private", "", "pink")
        hidden = note(session, CLASSMATE, "Assad", audience, "Off topic, really.", "purple")
        session.flush()
        teacher = find_user(session, TEACHER)
        set_hidden(session, hidden, hidden, teacher, True, "Please keep to the text")
        student = find_user(session, STUDENT)

        archived = create_class(session, teacher, "Last term's seminar")
        join_class(session, student, archived.join_code)
        assign(session, archived, services.document(session), datetime(2024, 3, 1, 23, 59))
        note(session, STUDENT, "Interfax", f"class-{archived.id}", "From last term.", "yellow")
        class_roles.archive(archived)
        session.flush()
        return (
            classroom.id,
            classroom.join_code,
            hidden.id,
            assignments_of(session, classroom)[0].id,
            student.id,
            archived.id,
        )

    return services._write(work)


@pytest.fixture
def page(browser, site):
    context = browser.new_context(
        viewport={"width": 1440, "height": HEIGHT},
        base_url=site.server.url,
        reduced_motion="reduce",
    )
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str) -> None:
    conftest.log_in(page, username, DEMO_PASSWORD)


def card(page, phrase: str):
    return page.locator(".card", has=page.locator(".quote", has_text=phrase)).first


# --- the states ------------------------------------------------------------------------


def library_anonymous(page, site):
    page.goto("/")


def library_student(page, site):
    log_in(page, STUDENT)


def reader_anonymous(page, site):
    page.goto(f"/articles/{SEED_SLUG}")


def reader_private(page, site):
    log_in(page, STUDENT)
    page.goto(f"/articles/{SEED_SLUG}?context=private")
    expect(card(page, "military base")).to_be_visible()


def reader_class_student(page, site):
    log_in(page, STUDENT)
    page.goto(site.class_url)
    expect(page.locator(".card").first).to_be_visible()


def reader_class_instructor(page, site):
    log_in(page, TEACHER)
    page.goto(site.class_url)
    expect(page.locator(f"#annotation-{site.hidden_note} .hidden-note")).to_be_visible()


def selection_toolbar(page, site):
    log_in(page, STUDENT)
    page.goto(site.class_url)
    drag_select(page, "Russian forces were needed in the country long-term")
    expect(page.get_by_role("toolbar")).to_be_visible()


def comment_form(page, site):
    selection_toolbar(page, site)
    page.get_by_role("toolbar").get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_label("Post to")).to_be_visible()


def editing(page, site):
    reader_private(page, site)
    card(page, "military base").get_by_role("link", name="Edit").click()
    expect(page.locator(".card-edit textarea")).to_be_visible()


def reply_form(page, site):
    reader_class_student(page, site)
    card(page, "White Helmets").get_by_role("link", name="Reply").first.click()
    expect(page.locator(".reply-form textarea")).to_be_visible()


def hide_box(page, site):
    reader_class_instructor(page, site)
    box = card(page, "White Helmets").locator(".hide-box")
    box.locator("summary").click()
    expect(box.get_by_label("Reason shown to the author")).to_be_visible()


def undo_notice(page, site):
    sign_up(page, "axe")
    page.goto(f"/articles/{SEED_SLUG}")
    drag_select(page, "Russian forces were needed in the country long-term")
    page.get_by_role("toolbar").get_by_role("button", name="Highlight", exact=True).click()
    page.locator(".card").first.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()


def notes_at_one_spot(page, site):
    log_in(page, STUDENT)
    page.goto(f"/articles/{SEED_SLUG}?context=private")
    page.locator("#article-body mark").filter(has_text="Hmeimim").first.click()
    # The notes there: the list of them at that spot, or the first one's card lit.
    expect(page.locator("#spot .spot, .card.active").first).to_be_visible()


def classes_list(page, site):
    log_in(page, TEACHER)
    page.goto("/classes")


def class_page_instructor(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}")


def class_page_student(page, site):
    log_in(page, STUDENT)
    page.goto(f"/classes/{site.class_id}")


def join_confirmation(page, site):
    sign_up(page, "joiner")
    page.goto(f"/join/{site.join_code}")
    expect(page.get_by_role("button", name=re.compile("Join"))).to_be_visible()


def participation(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/participation")


def login_with_errors(page, site):
    page.goto("/login")
    page.fill("input[name=username]", "nobody-here")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_be_visible()


def signup_with_errors(page, site):
    page.goto("/signup")
    page.fill("input[name=username]", TEACHER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_be_visible()


def not_found(page, site):
    response = page.goto("/articles/no-such-article")
    assert response.status == 404


def account_settings(page, site):
    log_in(page, STUDENT)
    page.goto("/account")


def notifications(page, site):
    log_in(page, STUDENT)
    page.goto("/notifications")


def notification_settings(page, site):
    log_in(page, STUDENT)
    page.goto("/notifications/settings")


def article_new(page, site):
    log_in(page, TEACHER)
    page.goto("/articles/new")


def _paste_and_preview(page):
    page.goto("/articles/new")
    page.get_by_label("Text", exact=True).fill(ARTICLE)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Publish")).to_be_visible()


def article_preview(page, site):
    sign_up(page, "author")
    _paste_and_preview(page)


def _published(page) -> str:
    sign_up(page, "author")
    _paste_and_preview(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#article-body")).to_be_visible()
    return page.url.split("/articles/")[1].split("?")[0]


def article_manage(page, site):
    page.goto(f"/articles/{_published(page)}/manage")


def article_versions(page, site):
    page.goto(f"/articles/{_published(page)}/versions")


def moderation_queue(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/flags")


def moderation_reviewed(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/flags?show=reviewed")


def groups_page(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/groups")


def leave_confirmation(page, site):
    log_in(page, STUDENT)
    page.goto(f"/classes/{site.class_id}/leave")
    expect(page.get_by_role("button", name=re.compile("Leave"))).to_be_visible()


def shortcuts_dialog(page, site):
    reader_class_student(page, site)
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.locator("#keys-dialog")).to_be_visible()


def assignment_scores(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/assignments/{site.assignment_id}/scores")
    expect(page.locator("h1")).to_be_visible()


def student_drill_down(page, site):
    log_in(page, TEACHER)
    page.goto(
        f"/classes/{site.class_id}/assignments/{site.assignment_id}/students/{site.student_id}"
    )
    expect(page.locator("h1")).to_contain_text(STUDENT)


def confusion_view(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}/assignments/{site.assignment_id}/discussion")
    expect(page.locator("h1")).to_be_visible()


def archived_class_student(page, site):
    log_in(page, STUDENT)
    page.goto(f"/classes/{site.archived_class_id}")
    expect(page.get_by_text("archived", exact=False).first).to_be_visible()


def archived_reader_student(page, site):
    log_in(page, STUDENT)
    page.goto(f"/articles/{SEED_SLUG}?context=class-{site.archived_class_id}")
    expect(card(page, "Interfax")).to_be_visible()
    # The reading was due last term: the banner says so.
    expect(page.locator("#due-banner.past")).to_be_visible()


def deadline_banner(page, site):
    reader_class_student(page, site)
    expect(page.locator("#due-banner time")).to_be_visible()


def purposes_form_error(page, site):
    log_in(page, TEACHER)
    page.goto(f"/classes/{site.class_id}")
    field = page.locator(".purposes-form").get_by_label("Blue")
    # As a browser that does not keep to maxlength would send it: the server says no.
    field.evaluate("input => input.removeAttribute('maxlength')")
    field.fill("A question for the whole class")  # 30 characters, the limit is 24
    page.locator(".purposes-form").get_by_role("button", name="Save purposes").click()
    expect(page.locator("#purposes-error")).to_contain_text("the limit is 24")


def notes_sheet(page, site):
    page.set_viewport_size({"width": 375, "height": HEIGHT})
    log_in(page, STUDENT)
    page.goto(site.class_url)
    page.locator(".notes-open").click()
    expect(page.get_by_role("dialog", name="Notes")).to_be_visible()


# The sheet is the phone's (wider, the notes sit beside the text and it closes).
notes_sheet.variants = [("light", 375), ("dark", 375)]


STATES = [
    library_anonymous,
    library_student,
    reader_anonymous,
    reader_private,
    reader_class_student,
    reader_class_instructor,
    selection_toolbar,
    comment_form,
    editing,
    reply_form,
    hide_box,
    undo_notice,
    notes_at_one_spot,
    classes_list,
    class_page_instructor,
    class_page_student,
    join_confirmation,
    participation,
    login_with_errors,
    signup_with_errors,
    not_found,
    account_settings,
    notifications,
    notification_settings,
    article_new,
    article_preview,
    article_manage,
    article_versions,
    moderation_queue,
    moderation_reviewed,
    groups_page,
    leave_confirmation,
    shortcuts_dialog,
    assignment_scores,
    student_drill_down,
    confusion_view,
    archived_class_student,
    archived_reader_student,
    deadline_banner,
    purposes_form_error,
    notes_sheet,
]


@pytest.mark.parametrize("state", STATES, ids=lambda state: state.__name__)
def test_no_axe_violations(page, site, state):
    state(page, site)
    failures = []
    for scheme, width in getattr(state, "variants", VARIANTS):
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": HEIGHT})
        violations = axe_violations(page)
        if violations:
            failures.append(describe(violations, f"{state.__name__}, {scheme}, {width} px"))
    assert not failures, "\n\n".join(failures)
