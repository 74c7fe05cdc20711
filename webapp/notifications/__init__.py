"""Notifications: the list with its unread count, settings, unsubscribe links, e-mail."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from webapp.notifications import views  # noqa: E402,F401
