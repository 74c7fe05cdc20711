"""Every error becomes a clear message: a page, or a flash fragment for htmx."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.database import (
    BUSY,
    FILE_GONE,
    DatabaseFileError,
    FaultLog,
    committed,
    describe_fault,
    unavailable_kind,
    write_intent,
)
from webapp.extensions import db, login_manager
from webapp.htmx import is_htmx
from webapp.security import WRITE_METHODS

CSRF_MESSAGE = (
    "Your session's security token is missing or out of date, so nothing was saved. "
    "Reload the page and try again."
)
BUSY_MESSAGE = "The database is busy, so nothing was changed. Try again in a moment."
SAVED_MESSAGE = "Your change was saved, but the page could not be updated: reload it to see it."
RETRY_AFTER_SECONDS = 1
# A read-only or full disk, a database server down or dropped: an operator must act.
FAULT_MESSAGE = "Saving is paused: the server cannot write to its database. Nothing was saved."
FAULT_READ_MESSAGE = (
    "This page cannot be shown now: the server cannot reach its database. Try again in a minute."
)
FAULT_RETRY_AFTER_SECONDS = 30
DATABASE_FILE_MESSAGE = (
    "Saving is paused: the server's database file has gone missing or was replaced, "
    "so nothing was saved. Try again in a minute; if this persists, tell the administrator."
)
FILE_GONE_RETRY_AFTER_SECONDS = 30


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


def unavailable_response(kind: str) -> Response:
    """503 with Retry-After: the database cannot be used for now (busy, read-only, full,
    unreachable, its file gone), so nothing was changed."""
    if kind == BUSY:
        message, wait = BUSY_MESSAGE, RETRY_AFTER_SECONDS
    elif kind == FILE_GONE:
        message, wait = DATABASE_FILE_MESSAGE, FILE_GONE_RETRY_AFTER_SECONDS
    elif request.method in WRITE_METHODS:
        message, wait = FAULT_MESSAGE, FAULT_RETRY_AFTER_SECONDS
    else:
        message, wait = FAULT_READ_MESSAGE, FAULT_RETRY_AFTER_SECONDS
    try:
        response = make_response(error_response(503, message))
    except SQLAlchemyError:
        # Drawing the page asked the database after all: say it plainly.
        _rollback()
        body = f'<p class="flash flash-error" role="alert">{escape(message)}</p>'
        response = make_response(body, 503)
        if is_htmx():
            response.headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    response.headers["Retry-After"] = str(wait)
    return response


def _rollback() -> None:
    with suppress(SQLAlchemyError):  # the connection may be gone: there is nothing to undo
        db.session.rollback()
    # Drawing the message only reads: never wait for the write lock again.
    write_intent.set(False)


def _prepare_error_page(may_query: bool) -> None:
    """Undo the request's transaction, and settle whom the page's header names. The user
    already loaded stays (kept out of the rollback, which would expire it). Otherwise, when
    `may_query` (the database answers reads), the user is loaded as usual; when it may not,
    the header names nobody and offers to log in: the page never needs the database."""
    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    loaded = state is not None and "username" in state.dict
    if loaded and state.session is not None:
        state.session.expunge(user)
    _rollback()
    if loaded or not may_query:
        if not loaded:
            g._login_user = login_manager.anonymous_user()
        return
    if user is None:
        try:
            current_user._get_current_object()  # Flask-Login loads it and keeps it in g
        except SQLAlchemyError:
            _rollback()
            g._login_user = login_manager.anonymous_user()


def init_app(app: Flask) -> None:
    faults = FaultLog(app.logger)
    app.extensions["database_faults"] = faults

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        _prepare_error_page(may_query=True)
        return error_response(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        _prepare_error_page(may_query=error.code < 500)
        return error_response(error.code, error.description or error.name)

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(DatabaseFileError)
    def _database(error: Exception):
        kind = unavailable_kind(error)
        if kind is None:
            raise error  # not the database being unavailable: a 500, logged
        _prepare_error_page(may_query=kind == BUSY)  # contention still lets reads through
        if committed.get():
            return saved_response()
        faults.refused(kind, f"{describe_fault(error)} ({request.method} {request.path})")
        return unavailable_response(kind)

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        _prepare_error_page(may_query=False)
        if committed.get():
            return saved_response()
        return error_response(500, "Something went wrong on our side; nothing was changed.")

    @app.after_request
    def _writes_work_again(response: Response) -> Response:
        if committed.get() and request.method in WRITE_METHODS:
            faults.recovered()
        return response
