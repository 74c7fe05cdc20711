"""Reports for instructors: participation per assignment and student (page and CSV),
scores from a rubric with overrides and the grade book, one student's work, where the
class is confused, the notes of an assignment as CSV; deadlines, time zones, extensions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)

from webapp.reports import deadlines, grading, insight, views  # noqa: E402,F401
