"""Due dates typed in a class's time zone, written back in it, and what is late."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webapp.services import deadlines
from webapp.services.deadlines import DeadlineError, Deadlines, fmt, parse_due, time_left


def test_a_date_and_time_in_the_class_zone_become_an_instant_in_utc():
    assert parse_due("2026-12-01", "", "UTC") == datetime(2026, 12, 1, 23, 59)
    assert parse_due("2026-12-01", "18:30", "Europe/Paris") == datetime(2026, 12, 1, 17, 30)
    assert parse_due("2026-07-01", "18:30", "Europe/Paris") == datetime(2026, 7, 1, 16, 30)
    assert parse_due("2026-12-01", None, "Asia/Kolkata") == datetime(2026, 12, 1, 18, 29)
    assert parse_due("2026-12-01T08:00", None, "America/New_York") == datetime(2026, 12, 1, 13)
    assert parse_due("", "", "UTC") is None


@pytest.mark.parametrize(
    ("day", "clock", "message"),
    [
        ("2026-02-30", "", "A due date looks like"),
        ("next friday", "", "A due date looks like"),
        ("2026-12-01", "25:00", "A due time looks like"),
        ("2026-12-01", "noon", "A due time looks like"),
        ("2026-12-01", "10:00+02:00", "without a zone"),
        ("", "10:00", "Give a due date"),
        ("0001-01-01", "", "between the years"),
    ],
)
def test_bad_dates_and_times_say_what_is_wrong(day, clock, message):
    with pytest.raises(DeadlineError, match=message):
        parse_due(day, clock, "Europe/Paris")


def test_zone_names_are_iana_names_with_utc_first():
    names = deadlines.zone_names()
    assert names[0] == "UTC" and "Europe/Paris" in names and "America/Los_Angeles" in names
    assert not [n for n in names if n.startswith(("posix/", "right/"))]
    assert deadlines.check_zone("Asia/Tokyo") == "Asia/Tokyo"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "Europe/Paris\x00"):
        with pytest.raises(DeadlineError, match="Choose a time zone"):
            deadlines.check_zone(bad)


def test_a_due_time_is_written_in_the_zone_asked_for():
    due = datetime(2030, 12, 1, 23, 59)  # a Sunday, in UTC
    assert fmt(due, "UTC") == "Sun 1 Dec 2030, 23:59 UTC"
    assert fmt(due, "Europe/Paris") == "Mon 2 Dec 2030, 00:59 CET"
    assert fmt(due, "America/Los_Angeles") == "Sun 1 Dec 2030, 15:59 PST"
    assert deadlines.iso_utc(due) == "2030-12-01T23:59:00Z"


def test_time_left():
    now = datetime(2026, 11, 29, 12, 0)
    assert time_left(now + timedelta(days=2, hours=11), now) == "2 days left"
    assert time_left(now + timedelta(days=1), now) == "1 day left"
    assert time_left(now + timedelta(hours=5, minutes=59), now) == "5 hours left"
    assert time_left(now + timedelta(minutes=1), now) == "1 minute left"
    assert time_left(now + timedelta(seconds=20), now) == "less than a minute left"
    assert time_left(now, now) == "past due"
    assert time_left(now - timedelta(days=3), now) == "past due"


def test_late_is_after_the_deadline_that_applies_to_the_author():
    due = datetime(2026, 12, 1, 23, 59)
    rules = Deadlines(due, {2: due + timedelta(days=2)})
    assert not rules.is_late(1, due)
    assert rules.is_late(1, due + timedelta(seconds=1))
    assert not rules.is_late(2, due + timedelta(days=1))  # extended
    assert rules.is_late(2, due + timedelta(days=3))
    assert not Deadlines(None, {}).is_late(1, datetime(2999, 1, 1))
