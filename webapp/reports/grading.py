"""Scores from a rubric, overrides, one student's work, and the grade book."""

from __future__ import annotations

from flask import flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Assignment, Classroom, User
from webapp.reports import bp
from webapp.reports.access import (
    get_assignment,
    get_student,
    get_taught_class,
    title_of,
    to_student,
)
from webapp.services import grading
from webapp.services import rubric as rubrics
from webapp.services.classes import assignments_of
from webapp.services.csv_export import (
    CONTENT_TYPE,
    content_disposition,
    filename_part,
    to_csv_bytes,
)
from webapp.services.deadlines import Deadlines

ASSIGNMENT = "/classes/<id:classroom_id>/assignments/<id:assignment_id>"


def scores_page(classroom: Classroom, assignment: Assignment, status: int = 200, **form):
    rubric = form.pop("rubric", None) or grading.rubric_for(db.session, assignment)
    return render_view(
        "reports/scores.html",
        "content",
        status=status,
        classroom=classroom,
        assignment=assignment,
        assignments=assignments_of(db.session, classroom),
        title=title_of(assignment),
        rubric=rubric,
        own_rubric=grading.has_own_rubric(db.session, assignment),
        labels=rubrics.LABELS,
        scores=grading.class_scores(db.session, classroom, assignment),
        **form,
    )


@bp.get(f"{ASSIGNMENT}/scores", endpoint="scores")
@login_required
def scores(classroom_id: int, assignment_id: int):
    """Each student's score for an assignment, from the rubric shown beside it."""
    classroom = get_taught_class(classroom_id)
    return scores_page(classroom, get_assignment(classroom, assignment_id))


@bp.post(f"{ASSIGNMENT}/rubric", endpoint="rubric")
@login_required
def save_rubric(classroom_id: int, assignment_id: int):
    """Set the assignment's rubric (the scores follow at once)."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    try:
        rubric = rubrics.from_form(request.form)
    except rubrics.RubricError as error:
        return scores_page(classroom, assignment, 400, rubric_error=str(error))
    grading.save_rubric(db.session, assignment, rubric, current_user)
    db.session.commit()
    flash(f"Saved the rubric of {title_of(assignment)}; the scores below follow it.", "info")
    return redirect(
        url_for("reports.scores", classroom_id=classroom.id, assignment_id=assignment.id)
    )


def student_page(
    classroom: Classroom, assignment: Assignment, student: User, status: int = 200, **form
):
    deadlines = Deadlines.load(db.session, assignment)
    score = grading.student_score(db.session, assignment, student.id, student.username)
    evidence = {(e.fact.kind, e.fact.id): e for e in score.score.evidence}
    return render_view(
        "reports/student.html",
        "content",
        status=status,
        classroom=classroom,
        assignment=assignment,
        title=title_of(assignment),
        student=student,
        items=grading.student_work(db.session, assignment, student.id),
        evidence=evidence,
        score=score,
        rubric=grading.rubric_for(db.session, assignment),
        deadline=deadlines.for_user(student.id),
        extended=student.id in deadlines.extensions,
        **form,
    )


@bp.get(f"{ASSIGNMENT}/students/<id:user_id>", endpoint="student")
@login_required
def student(classroom_id: int, assignment_id: int, user_id: int):
    """One student's notes and replies for an assignment, each linked to its place, with
    what counted for the score and why."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    return student_page(classroom, assignment, get_student(classroom, user_id))


@bp.post(f"{ASSIGNMENT}/students/<id:user_id>/score", endpoint="override")
@login_required
def override(classroom_id: int, assignment_id: int, user_id: int):
    """Replace a student's computed score, with a reason (empty score: back to computed)."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    student = get_student(classroom, user_id)
    try:
        points, reason = grading.parse_override(
            request.form.get("points"), request.form.get("reason")
        )
    except grading.GradingError as error:
        return student_page(classroom, assignment, student, 400, override_error=str(error))
    grading.set_override(db.session, assignment, student.id, points, reason, current_user)
    db.session.commit()
    if points is None:
        flash(f"{student.username}'s score is the computed one again.", "info")
    else:
        flash(f"{student.username}'s score is now {points}: {reason}", "info")
    return to_student(classroom, assignment, student, "score")


@bp.get("/classes/<id:classroom_id>/gradebook.csv", endpoint="gradebook")
@login_required
def gradebook(classroom_id: int):
    """The grade book: a row per student, a column per assignment, as CSV."""
    classroom = get_taught_class(classroom_id)
    header, rows = grading.gradebook(db.session, classroom, assignments_of(db.session, classroom))
    name = "gradebook-{}.csv".format(filename_part(classroom.name, f"class-{classroom.id}"))
    response = make_response(to_csv_bytes(header, rows))
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
