"""Classes: create, join with a code or a link, members and roles, assigned articles."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("classes", __name__)

from webapp.classes import groups, life, moderation, views  # noqa: E402,F401
