"""Deadlines on pages: the class's time zone, extensions, and the due dates shown to
readers (template globals for the library, the class page and the reader's banner)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.models import Assignment, Document
from webapp.reports import bp
from webapp.reports.access import (
    get_assignment,
    get_student,
    get_taught_class,
    title_of,
    to_student,
)
from webapp.services import deadlines
from webapp.services.deadlines import DeadlineError


@bp.app_template_global()
def due_iso(at) -> str:
    return deadlines.iso_utc(at)


@bp.app_template_global()
def due_text(at, zone_name: str = deadlines.DEFAULT_ZONE) -> str:
    return deadlines.fmt(at, zone_name)


@bp.app_template_global()
def due_left(at) -> str:
    return deadlines.time_left(at)


@bp.app_template_global()
def due_local(at, zone_name: str = deadlines.DEFAULT_ZONE) -> dict[str, str]:
    """The date and time fields of a form, in the class's zone."""
    moment = deadlines.local(at, zone_name)
    return {"date": moment.strftime("%Y-%m-%d"), "time": moment.strftime("%H:%M")}


@bp.app_template_global()
def time_zones() -> tuple[str, ...]:
    return deadlines.zone_names()


@bp.app_template_global()
def my_dues(assignments: list[Assignment]) -> dict[int, deadlines.Due]:
    """assignment id -> when it is due for the signed-in reader (their extension counts)."""
    user_id = current_user.id if current_user.is_authenticated else None
    return deadlines.dues_for(db.session, assignments, user_id)


@bp.app_template_global()
def library_dues(versions) -> dict[int, list[tuple[str, deadlines.Due]]]:
    """document id -> [(class, Due)] for the articles shown, for the signed-in reader."""
    if not current_user.is_authenticated:
        return {}
    ids = [v.document_id for v in versions]
    return deadlines.assigned_dues(db.session, current_user.id, ids) if ids else {}


@bp.app_template_global()
def reader_due(document: Document, context, facts=None) -> deadlines.Due | None:
    """The due date of this article in the reader's class context, for the banner.
    `facts`: the class's assignment of the article as the reader's view read it already
    (reader/shared.ClassFacts), when it did."""
    if context is None or context.classroom is None or not current_user.is_authenticated:
        return None
    if facts is not None:
        if facts.assignment is None or facts.assignment[2] is None:
            return None
        _, _, due_at, extended = facts.assignment
        at = extended if extended is not None else due_at
        return deadlines.Due(None, at, context.classroom.time_zone, extended is not None)
    for assignment in context.classroom.assignments:
        if assignment.document_id == document.id:
            return deadlines.dues_for(db.session, [assignment], current_user.id).get(assignment.id)
    return None


@bp.post("/classes/<id:classroom_id>/time-zone", endpoint="set_time_zone")
@login_required
def set_time_zone(classroom_id: int):
    """The class's time zone: due dates are typed and shown in it."""
    classroom = get_taught_class(classroom_id)
    try:
        name = deadlines.check_zone(request.form.get("time_zone"))
    except DeadlineError as error:
        from webapp.classes.views import class_page, get_membership

        return class_page(get_membership(classroom_id), 400, zone_error=str(error))
    classroom.time_zone = name
    db.session.commit()
    flash(f"Due dates of {classroom.name} are now typed and shown in {name} time.", "info")
    return redirect(url_for("classes.show", classroom_id=classroom.id, _anchor="deadlines"))


@bp.post(
    "/classes/<id:classroom_id>/assignments/<id:assignment_id>/students/<id:user_id>/extension",
    endpoint="extension",
)
@login_required
def extension(classroom_id: int, assignment_id: int, user_id: int):
    """Give one student a later deadline for one assignment (empty date: take it back)."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    student = get_student(classroom, user_id)
    try:
        due_at = deadlines.parse_due(
            request.form.get("due"), request.form.get("due_time"), classroom.time_zone
        )
    except DeadlineError as error:
        from webapp.reports.grading import student_page

        return student_page(classroom, assignment, student, 400, extension_error=str(error))
    deadlines.grant_extension(db.session, assignment, student.id, due_at, current_user.id)
    db.session.commit()
    if due_at is None:
        flash(f"{student.username} has the class's deadline for {title_of(assignment)}.", "info")
    else:
        when = deadlines.fmt(due_at, classroom.time_zone)
        flash(f"{student.username} now has until {when} for {title_of(assignment)}.", "info")
    return to_student(classroom, assignment, student, "extension")
