"""Exports of notes a person reads: Markdown, and the printable annotated article."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__)

from webapp.exports import views  # noqa: E402,F401
