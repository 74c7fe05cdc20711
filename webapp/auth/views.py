from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth import bp
from webapp.extensions import db, login_manager
from webapp.htmx import is_htmx
from webapp.models import User
from webapp.routing import parse_row_id
from webapp.services.accounts import AccountError, authenticate, create_user
from webapp.services.limits import (
    RateLimited,
    check_login_allowed,
    clear_login_failures,
    record_login_failure,
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    row_id = parse_row_id(user_id)  # from the session or the remember cookie
    return db.session.get(User, row_id) if row_id is not None else None


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            check_login_allowed(db.session, username)
            user = authenticate(db.session, username, request.form.get("password", ""))
        except RateLimited as error:
            return render_template("auth/login.html", error=str(error), next=safe_next()), 429
        except AccountError as error:
            record_login_failure(db.session, username, request.remote_addr or "")
            db.session.commit()
            return render_template("auth/login.html", error=str(error), next=safe_next()), 400
        clear_login_failures(db.session, user.username)
        db.session.commit()
        login_user(user, remember=bool(request.form.get("remember")))
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
        db.session.commit()
        login_user(user)
        return redirect(safe_next())
    return render_template("auth/signup.html", next=safe_next())


@bp.post("/logout")
def logout():
    """Log out."""
    if current_user.is_authenticated:
        logout_user()
    return redirect(url_for("reader.library"))
