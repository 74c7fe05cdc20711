"""Operations: the health check that load balancers and monitors ask."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)

from webapp.health import views  # noqa: E402,F401
