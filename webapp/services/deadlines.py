"""Due dates with a time, in a class's time zone; extensions; what is late.

- An assignment's `due_at` is an instant, stored naive in UTC like every timestamp.
  Instructors type a date and a time in the class's time zone (an IANA name, default UTC);
  readers see it in their browser's time zone (the page carries the UTC instant in a
  <time datetime>), or in the class's zone where scripts do not run.
- An extension gives one student a later deadline for one assignment.
- A note or reply made after the deadline that applies to its author (theirs with an
  extension, else the assignment's) is late. No due date: nothing is late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Assignment, Extension, Membership, utcnow
from webapp.services.student_rows import set_student_row

DEFAULT_ZONE = "UTC"
DEFAULT_TIME = time(23, 59)


class DeadlineError(ValueError):
    """A due date, time or zone a person can fix; the message says what."""


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zone names a class may choose, UTC first, then by name."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("posix/", "right/", "Etc/", "SystemV/"))
    }
    return (DEFAULT_ZONE, *sorted(names))


def check_zone(name: str | None) -> str:
    """An IANA zone name from a form, or DeadlineError."""
    name = (name or "").strip()
    if name not in zone_names():
        raise DeadlineError(f"Choose a time zone from the list, not {name[:40]!r}.")
    return name


def zone(name: str | None) -> ZoneInfo:
    """The zone of a stored name (UTC for one this machine does not know)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def to_utc(local: datetime, zone_name: str) -> datetime:
    """A wall-clock time in a zone as a naive UTC instant (a time skipped by a clock
    change is read with the offset before it, as the zone database does)."""
    aware = local.replace(tzinfo=zone(zone_name))
    return aware.astimezone(UTC).replace(tzinfo=None)


def local(instant: datetime, zone_name: str) -> datetime:
    """A naive UTC instant as an aware time in a zone."""
    return instant.replace(tzinfo=UTC).astimezone(zone(zone_name))


def parse_due(day: str | None, clock: str | None, zone_name: str) -> datetime | None:
    """A due date and time typed in the class's zone (time optional: 23:59), as naive
    UTC; None when the date is empty. Also takes 'YYYY-MM-DDTHH:MM' in `day`."""
    day = (day or "").strip()
    clock = (clock or "").strip()
    if not day:
        if clock:
            raise DeadlineError("Give a due date for that time, or leave both empty.")
        return None
    if "T" in day and not clock:
        day, _, clock = day.partition("T")
    try:
        when = date.fromisoformat(day)
    except (ValueError, OverflowError):
        raise DeadlineError(f"A due date looks like 2026-12-01, not {day[:20]!r}.") from None
    try:
        at = time.fromisoformat(clock) if clock else DEFAULT_TIME
    except ValueError:
        raise DeadlineError(f"A due time looks like 23:59, not {clock[:20]!r}.") from None
    if at.tzinfo is not None:
        raise DeadlineError("Give the time without a zone: the class's time zone applies.")
    if not 1900 <= when.year <= 9998:
        raise DeadlineError("Give a due date between the years 1900 and 9998.")
    return to_utc(datetime.combine(when, at.replace(second=0, microsecond=0)), zone_name)


def fmt(instant: datetime, zone_name: str, with_zone: bool = True) -> str:
    """'Tue 1 Dec, 23:59 UTC': how the pages write a due time (the browser writes the
    same, in its own zone, without the zone's name)."""
    moment = local(instant, zone_name)
    text = f"{moment:%a} {moment.day} {moment:%b}"
    if moment.year != local(utcnow(), zone_name).year:
        text += f" {moment.year}"
    text += f", {moment:%H:%M}"
    return f"{text} {moment.tzname()}" if with_zone else text


def time_left(instant: datetime, now: datetime | None = None) -> str:
    """'2 days left', '5 hours left', '12 minutes left', or 'past due'."""
    remaining = instant - (now or utcnow())
    if remaining <= timedelta(0):
        return "past due"
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(remaining.total_seconds() // seconds)
        if count >= 1:
            return f"{count} {unit}{'' if count == 1 else 's'} left"
    return "less than a minute left"


def iso_utc(instant: datetime) -> str:
    """The instant for <time datetime>: '2026-12-01T23:59:00Z'."""
    return instant.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Due:
    """When one assignment is due for one person, and in which class zone (`assignment`:
    None when only its columns were read, as for the reader's banner)."""

    assignment: Assignment | None
    at: datetime
    zone_name: str
    extended: bool = False

    @property
    def iso(self) -> str:
        return iso_utc(self.at)

    @property
    def text(self) -> str:
        return fmt(self.at, self.zone_name)

    @property
    def left(self) -> str:
        return time_left(self.at)

    @property
    def past(self) -> bool:
        return self.at <= utcnow()


def extensions_for(
    session: Session, assignment_ids: list[int], user_id: int
) -> dict[int, datetime]:
    """assignment id -> the user's extended deadline, for those that have one."""
    if not assignment_ids:
        return {}
    return dict(
        session.execute(
            sa.select(Extension.assignment_id, Extension.due_at).where(
                Extension.assignment_id.in_(assignment_ids), Extension.user_id == user_id
            )
        ).all()
    )


def dues_for(
    session: Session, assignments: list[Assignment], user_id: int | None
) -> dict[int, Due]:
    """assignment id -> when it is due for this person (their extension counts), for the
    assignments with a due date."""
    dated = [a for a in assignments if a.due_at is not None]
    extended = extensions_for(session, [a.id for a in dated], user_id) if user_id else {}
    return {
        a.id: Due(
            a,
            extended.get(a.id, a.due_at),
            a.classroom.time_zone,
            a.id in extended,
        )
        for a in dated
    }


def assigned_dues(session: Session, user_id: int, document_ids: list[int] | None = None):
    """document id -> [(class name, Due)] for what the person's classes read with a due
    date (optionally only these documents): the library and the reader show them."""
    query = (
        sa.select(Assignment)
        .join(Membership, Membership.classroom_id == Assignment.classroom_id)
        .where(Membership.user_id == user_id, Assignment.due_at.is_not(None))
        .order_by(Assignment.due_at, Assignment.id)
    )
    if document_ids is not None:
        query = query.where(Assignment.document_id.in_(document_ids))
    assignments = list(session.scalars(query))
    dues = dues_for(session, assignments, user_id)
    found: dict[int, list[tuple[str, Due]]] = {}
    for assignment in assignments:
        found.setdefault(assignment.document_id, []).append(
            (assignment.classroom.name, dues[assignment.id])
        )
    return found


def extensions_of(session: Session, assignment: Assignment) -> dict[int, datetime]:
    """user id -> extended deadline, for one assignment."""
    return dict(
        session.execute(
            sa.select(Extension.user_id, Extension.due_at).where(
                Extension.assignment_id == assignment.id
            )
        ).all()
    )


class Deadlines:
    """Every member's deadline for one assignment: is a note or reply made then late?"""

    def __init__(self, due_at: datetime | None, extensions: dict[int, datetime]):
        self.due_at = due_at
        self.extensions = extensions

    @classmethod
    def load(cls, session: Session, assignment: Assignment | None) -> Deadlines:
        if assignment is None or assignment.due_at is None:
            return cls(None, {})
        return cls(assignment.due_at, extensions_of(session, assignment))

    def for_user(self, user_id: int) -> datetime | None:
        if self.due_at is None:
            return None
        return self.extensions.get(user_id, self.due_at)

    def is_late(self, user_id: int, created_at: datetime | None) -> bool:
        deadline = self.for_user(user_id)
        return deadline is not None and created_at is not None and created_at > deadline


def grant_extension(
    session: Session, assignment: Assignment, user_id: int, due_at: datetime | None, by_id: int
) -> Extension | None:
    """Give a student a later deadline (None takes the extension back)."""
    values = None if due_at is None else {"due_at": due_at, "granted_by_id": by_id}
    return set_student_row(session, Extension, assignment, user_id, values)


def late_marks(session: Session, classroom_id: int, document_id: int, annotations, threads):
    """The ids of the cards' notes and replies made late ("annotation-N", "reply-N"), for
    the class's instructors; `threads` maps a note's id to its [(reply, depth)]."""
    assignment = session.scalar(
        sa.select(Assignment).where(
            Assignment.classroom_id == classroom_id, Assignment.document_id == document_id
        )
    )
    deadlines = Deadlines.load(session, assignment)
    if deadlines.due_at is None:
        return set()
    late = set()
    for annotation in annotations:
        if annotation.classroom_id != classroom_id:
            continue
        if deadlines.is_late(annotation.author_id, annotation.created_at):
            late.add(f"annotation-{annotation.id}")
        for reply, _depth in threads.get(annotation.id, []):
            if deadlines.is_late(reply.author_id, reply.created_at):
                late.add(f"reply-{reply.id}")
    return late
