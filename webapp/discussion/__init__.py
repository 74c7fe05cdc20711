"""Class discussion around a note: replies, votes, answered questions, pins, hiding, flags."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("discussion", __name__)

from webapp.discussion import views  # noqa: E402,F401
