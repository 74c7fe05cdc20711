from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth import bp
from webapp.extensions import db, login_manager
from webapp.htmx import is_htmx
from webapp.models import User
from webapp.notifications.views import keep_page_reads, page_reads_wanted
from webapp.services import notifications
from webapp.services.accounts import (
    AccountError,
    authenticate,
    create_user,
    end_session,
    load_session,
    start_session,
)
from webapp.services.limits import (
    RateLimited,
    check_login_allowed,
    clear_login_failures,
    record_login_failure,
)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # "<user id>:<login session token>" (User.get_id): a session that was logged out, or
    # has expired, no longer loads, whatever cookie comes with it.
    if not page_reads_wanted():
        return load_session(db.session, session_id)
    # A page: what it asks of the reader's notifications comes with their row.
    user = load_session(db.session, session_id, also=_page_reads)
    if user is not None:
        keep_page_reads(user.id, *user.loaded_with)
    return user


def _page_reads(user_id: int) -> tuple:
    return (
        notifications.due_and_unread_columns(user_id),
        lambda now: notifications.due_and_unread_values(now, user_id),
    )


@login_manager.unauthorized_handler
def unauthorized():
    if request.method == "GET" and not is_htmx():
        # full_path ends in "?" when there is no query string
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401, description="Log in to save highlights and comments.")


def safe_next(default: str = "/") -> str:
    """The `next` target if it stays on this site."""
    target = request.values.get("next") or default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def log_in(user: User, remember: bool) -> None:
    """Start a new login session: a new token, so new session and remember cookies."""
    if current_user.is_authenticated:
        end_session(db.session, current_user.session_token)
    start_session(db.session, user, timedelta(days=current_app.config["REMEMBER_DAYS"]))
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password."""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            check_login_allowed(db.session, username, request.remote_addr)
            user = authenticate(db.session, username, request.form.get("password", ""))
        except RateLimited as error:
            page = render_template("auth/login.html", error=str(error), next=safe_next())
            return page, 429, {"Retry-After": str(error.retry_after)}
        except AccountError as error:
            record_login_failure(db.session, username, request.remote_addr)
            db.session.commit()
            return render_template("auth/login.html", error=str(error), next=safe_next()), 400
        clear_login_failures(db.session, username, request.remote_addr)
        log_in(user, remember=bool(request.form.get("remember")))
        db.session.commit()
        return redirect(safe_next())
    return render_template("auth/login.html", next=safe_next())


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account and log in."""
    if request.method == "POST":
        try:
            user = create_user(
                db.session, request.form.get("username", ""), request.form.get("password", "")
            )
        except AccountError as error:
            db.session.rollback()
            return render_template("auth/signup.html", error=str(error), next=safe_next()), 400
        log_in(user, remember=False)
        db.session.commit()
        return redirect(safe_next())
    return render_template("auth/signup.html", next=safe_next())


@bp.post("/logout")
def logout():
    """Log out: this login session ends, and its cookies no longer work anywhere."""
    if current_user.is_authenticated:
        end_session(db.session, current_user.session_token)
        db.session.commit()
        logout_user()
    return redirect(url_for("reader.library"))
