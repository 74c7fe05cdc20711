"""Images copied into articles, served by the app (readers never load third-party content)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("media", __name__)

from webapp.media import views  # noqa: E402,F401
