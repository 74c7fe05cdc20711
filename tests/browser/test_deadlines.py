"""The deadline banner in the reader's own time zone: two browsers in two zones read the
same due instant in their own local time; the class's zone is what the server writes."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_live import Services

pytestmark = pytest.mark.browser

DUE = datetime(2030, 12, 1, 23, 59)  # UTC: a Sunday


class Deadlines(Services):
    def due(self, classroom_id: int, when: datetime, zone: str) -> None:
        from webapp.models import Classroom

        def work(session):
            session.get(Classroom, classroom_id).time_zone = zone
            for assignment in session.get(Classroom, classroom_id).assignments:
                assignment.due_at = when

        self._write(work)


@pytest.fixture(scope="module")
def services(live_server):
    services = Deadlines(live_server)
    yield services
    services.close()


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("Europe/Paris", "Mon 2 Dec 2030, 00:59"),
        ("America/Los_Angeles", "Sun 1 Dec 2030, 15:59"),
    ],
)
def test_the_banner_shows_the_due_time_in_the_readers_zone(
    browser, live_server, services, zone, local
):
    classroom = services.classroom(students=1)
    services.due(classroom.id, DUE, "Asia/Tokyo")
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=live_server.url, timezone_id=zone
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(page, classroom.students[0])
        page.goto(classroom.url)
        banner = page.locator("#due-banner")
        when = banner.locator("time")
        expect(when).to_have_attribute("datetime", "2030-12-01T23:59:00Z")
        expect(when).to_have_text(local)
        expect(when).to_have_attribute("title", f"Your time ({zone})")
        expect(banner).to_have_text(re.compile(rf"^\s*Due {re.escape(local)} — \d+ days left\s*$"))
        assert banner.get_attribute("role") == "note"

        # The library and the class page say the same.
        page.goto("/")
        expect(page.locator("#shelf-assigned .due-line time")).to_have_text(local)
        page.goto(f"/classes/{classroom.id}")
        expect(page.locator(".assignment-list time[data-due]")).to_have_text(local)
        assert errors == []
    finally:
        context.close()


def test_without_scripts_the_class_zone_is_written(browser, live_server, services):
    classroom = services.classroom(students=1)
    services.due(classroom.id, DUE, "Asia/Tokyo")
    context = browser.new_context(
        base_url=live_server.url, timezone_id="Europe/Paris", java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, classroom.students[0])
        page.goto(classroom.url)
        expect(page.locator("#due-banner time")).to_have_text("Mon 2 Dec 2030, 08:59 JST")
    finally:
        context.close()
