"""Articles from the browser: add (paste, upload, web address), preview, publish; the owner
edits, shares, assigns, archives and deletes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("articles", __name__)

from webapp.articles import editing, views  # noqa: E402,F401
