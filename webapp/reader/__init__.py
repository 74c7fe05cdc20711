"""The library and the reader page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reader", __name__)

from webapp.reader import views  # noqa: E402,F401
