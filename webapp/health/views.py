from __future__ import annotations

from flask import current_app, jsonify

from webapp.extensions import db
from webapp.health import bp
from webapp.services.health import database_problems, migration_heads

RETRY_AFTER_SECONDS = 10


@bp.get("/healthz")
def healthz():
    """200 when the database is reachable, writable and at the current migration, else 503
    with the reasons; no session, no user."""
    heads = migration_heads(current_app.extensions["migrate"].directory)
    problems = database_problems(db.engine, heads)
    if problems:
        response = jsonify(status="unavailable", problems=problems)
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        response = jsonify(status="ok", database=db.engine.dialect.name)
    response.headers["Cache-Control"] = "no-store"
    return response
