"""Read-only JSON-LD export of annotations (W3C Web Annotation Data Model)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from webapp.api import views  # noqa: E402,F401
