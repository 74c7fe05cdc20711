"""Account settings: e-mail address, password change, reset links, deleting the account."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)

from webapp.account import views  # noqa: E402,F401
