from __future__ import annotations

from flask import abort, make_response, request
from flask_login import login_required

from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Assignment
from webapp.reports import bp
from webapp.reports.access import get_taught_class
from webapp.services.classes import assignments_of
from webapp.services.csv_export import (
    CONTENT_TYPE,
    content_disposition,
    filename_part,
    to_csv_bytes,
)
from webapp.services.participation import COLUMNS, as_table, participation


def pick_assignment(assignments: list[Assignment]) -> Assignment | None:
    """The assignment the query string names (404 if not one of the class's), or the first."""
    raw = request.args.get("assignment", "")
    if not raw:
        return assignments[0] if assignments else None
    for assignment in assignments:
        if raw == str(assignment.id):
            return assignment
    abort(404, description="That article is not assigned to this class.")


@bp.get("/classes/<id:classroom_id>/participation", endpoint="participation")
@login_required
def participation_page(classroom_id: int):
    """Who took part in one assignment, per student: the page, or its table for htmx."""
    classroom = get_taught_class(classroom_id)
    assignments = assignments_of(db.session, classroom)
    assignment = pick_assignment(assignments)
    report = participation(db.session, classroom, assignment) if assignment else None
    return render_view(
        "reports/participation.html",
        "report",
        classroom=classroom,
        assignments=assignments,
        assignment=assignment,
        report=report,
    )


@bp.get("/classes/<id:classroom_id>/participation.csv", endpoint="participation_csv")
@login_required
def participation_csv(classroom_id: int):
    """The participation table as a CSV download, for a spreadsheet."""
    classroom = get_taught_class(classroom_id)
    assignment = pick_assignment(assignments_of(db.session, classroom))
    if assignment is None:
        abort(404, description="No article is assigned to this class yet.")
    report = participation(db.session, classroom, assignment)
    name = "participation-{}-{}.csv".format(
        filename_part(classroom.name, f"class-{classroom.id}"),
        filename_part(assignment.document.slug, f"article-{assignment.document_id}"),
    )
    response = make_response(to_csv_bytes(COLUMNS, as_table(report)))
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
