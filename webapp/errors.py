"""Every error becomes a clear message: a page, or a flash fragment for htmx."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.database import DatabaseFileError, committed, is_unavailable, write_intent
from webapp.extensions import db, login_manager
from webapp.htmx import is_htmx

CSRF_MESSAGE = (
    "Your session's security token is missing or out of date, so nothing was saved. "
    "Reload the page and try again."
)
BUSY_MESSAGE = "The database is busy, so nothing was changed. Try again in a moment."
SAVED_MESSAGE = "Your change was saved, but the page could not be updated: reload it to see it."
RETRY_AFTER_SECONDS = 1


def error_response(status: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(status=status, error=message), status
    if is_htmx():
        body = render_template("partials/_flash.html", message=message, level="error")
        return body, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return render_template("error.html", status=status, message=message), status


def saved_response():
    """The answer when the request's change was committed and drawing the answer failed:
    the change stands, so this is no error (a 5xx would say nothing was changed)."""
    if is_htmx():
        body = render_template("partials/_flash.html", message=SAVED_MESSAGE, level="info")
        return body, 200, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    flash(SAVED_MESSAGE, "info")
    back = urlsplit(request.referrer or "")
    same_site = back.netloc == request.host and back.scheme in {"http", "https"}
    return redirect(back.path + (f"?{back.query}" if back.query else "") if same_site else "/", 303)


def busy_response():
    """503 with Retry-After: the database could not be had in time, nothing was changed."""
    try:
        response = make_response(error_response(503, BUSY_MESSAGE))
    except SQLAlchemyError:
        # Not even a read gets through (the page shows who is logged in): say it plainly.
        _rollback()
        body = f'<p class="flash flash-error" role="alert">{escape(BUSY_MESSAGE)}</p>'
        response = make_response(body, 503)
        if is_htmx():
            response.headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _rollback() -> None:
    with suppress(SQLAlchemyError):  # the connection may be gone: there is nothing to undo
        db.session.rollback()
    # Drawing the message only reads: never wait for the write lock again.
    write_intent.set(False)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        _rollback()
        return error_response(error.code, error.description or error.name)

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError):
        if not is_unavailable(error):
            raise error  # not the database being busy: a 500, logged
        _rollback()
        if committed.get():
            return saved_response()
        app.logger.warning("%s %s: database unavailable: %s", request.method, request.path, error)
        return busy_response()

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        _rollback()
        if committed.get():
            return saved_response()
        return error_response(500, "Something went wrong on our side; nothing was changed.")

    init_database_file_errors(app)


DATABASE_FILE_MESSAGE = (
    "Saving is paused: the server's database file has gone missing or was replaced, "
    "so nothing was saved. Try again in a minute; if this persists, tell the administrator."
)
FILE_GONE_RETRY_AFTER_SECONDS = 30


def init_database_file_errors(app: Flask) -> None:
    @app.errorhandler(DatabaseFileError)
    def _database_file(error: DatabaseFileError):
        current_app.logger.error("Refused a request: %s", error)
        # The page must not need the database it could not use: no user load, no write.
        write_intent.set(False)
        if "_login_user" not in g:
            g._login_user = login_manager.anonymous_user()
        response = make_response(error_response(503, DATABASE_FILE_MESSAGE))
        response.headers["Retry-After"] = str(FILE_GONE_RETRY_AFTER_SECONDS)
        return response
