"""Highlights and comments: create, show, edit, delete; answered with htmx partials."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("annotations", __name__)

from webapp.annotations import views  # noqa: E402,F401
