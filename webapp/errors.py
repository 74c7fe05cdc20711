"""Every error becomes a clear message: a page, or a flash fragment for htmx."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.database import DatabaseFileError, write_intent
from webapp.extensions import db, login_manager
from webapp.htmx import is_htmx

CSRF_MESSAGE = (
    "Your session's security token is missing or out of date, so nothing was saved. "
    "Reload the page and try again."
)


def error_response(status: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(status=status, error=message), status
    if is_htmx():
        body = render_template("partials/_flash.html", message=message, level="error")
        return body, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        db.session.rollback()
        return error_response(error.code, error.description or error.name)

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        db.session.rollback()
        return error_response(500, "Something went wrong on our side; nothing was changed.")

    init_database_file_errors(app)


DATABASE_FILE_MESSAGE = (
    "Saving is paused: the server's database file has gone missing or was replaced, "
    "so nothing was saved. Try again in a minute; if this persists, tell the administrator."
)
RETRY_AFTER_SECONDS = 30


def init_database_file_errors(app: Flask) -> None:
    @app.errorhandler(DatabaseFileError)
    def _database_file(error: DatabaseFileError):
        current_app.logger.error("Refused a request: %s", error)
        # The page must not need the database it could not use: no user load, no write.
        write_intent.set(False)
        if "_login_user" not in g:
            g._login_user = login_manager.anonymous_user()
        response = make_response(error_response(503, DATABASE_FILE_MESSAGE))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
