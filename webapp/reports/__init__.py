"""Reports for instructors: participation per assignment and student, on a page and as CSV."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)

from webapp.reports import views  # noqa: E402,F401
