from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required, logout_user

from webapp.account import bp
from webapp.auth.views import log_in
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import User
from webapp.services import accounts
from webapp.services.accounts import AccountError
from webapp.services.limits import (
    RateLimited,
    check_login_allowed,
    check_reset_allowed,
    clear_login_failures,
    record_login_failure,
    record_reset_request,
)
from webapp.services.outbox import queue_account_mail
from webapp.visibility import teaches_student

DELETE_CHOICES = {
    "keep": "Keep my class notes and replies, shown as by “a former member”",
    "delete": "Delete my notes and erase my replies (others' replies stay, under a note "
    "marked deleted)",
}
FORGOT_SENT = (
    "If an account with that name or address has an e-mail address, a link to set a new "
    "password is on its way to it. The link works once, for {hours} hours."
)


def settings_page(status: int = 200, **extra):
    return render_view(
        "account/settings.html",
        "content",
        status=status,
        mail_enabled=current_app.config["MAIL_ENABLED"],
        **extra,
    )


def limited(response, error: RateLimited):
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def checked_password(error_page) -> str | None:
    """The form's `password` field when login limits allow checking it (the same limits as
    the login form: a stolen session must not be a way around them); else an answer."""
    try:
        check_login_allowed(db.session, current_user.username, request.remote_addr)
    except RateLimited as error:
        return limited(error_page(429, str(error)), error)
    return None


def wrong_password(error_page, error: AccountError):
    """A failed password check counts as a failed login for the limits."""
    db.session.rollback()
    record_login_failure(db.session, current_user.username, request.remote_addr)
    db.session.commit()
    return error_page(400, str(error))


@bp.get("/account")
@login_required
def settings():
    """Account settings: e-mail address, password, notifications, deleting the account."""
    return settings_page()


@bp.post("/account/email")
@login_required
def change_email():
    """Set or clear the e-mail address (the password confirms it is you)."""

    def error_page(status: int, message: str):
        return settings_page(status, email_error=message)

    if (refused := checked_password(error_page)) is not None:
        return refused
    try:
        accounts.check_password(current_user, request.form.get("password", ""))
    except AccountError as error:
        return wrong_password(error_page, error)
    try:
        email = accounts.set_email(
            db.session, current_user, request.form.get("password", ""), request.form.get("email")
        )
    except AccountError as error:
        db.session.rollback()
        return error_page(400, str(error))
    clear_login_failures(db.session, current_user.username, request.remote_addr)
    db.session.commit()
    flash(f"Your e-mail address is now {email}." if email else "Your e-mail address is removed.")
    return redirect(url_for("account.settings", _anchor="email"), 303)


@bp.post("/account/password")
@login_required
def change_password():
    """Change the password; every other login session of this account ends."""

    def error_page(status: int, message: str):
        return settings_page(status, password_error=message)

    if (refused := checked_password(error_page)) is not None:
        return refused
    form = request.form
    try:
        accounts.check_password(current_user, form.get("current_password", ""))
    except AccountError as error:
        return wrong_password(error_page, error)
    try:
        accounts.change_password(
            db.session,
            current_user,
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("confirm_password", ""),
            keep_token=current_user.session_token,
        )
    except AccountError as error:
        db.session.rollback()
        return error_page(400, str(error))
    clear_login_failures(db.session, current_user.username, request.remote_addr)
    db.session.commit()
    flash("Your password is changed. Other devices logged in to this account are logged out.")
    return redirect(url_for("account.settings", _anchor="password"), 303)


def delete_page(status: int = 200, **extra):
    return render_view(
        "account/delete.html",
        "content",
        status=status,
        choices=DELETE_CHOICES,
        chosen=request.form.get("notes", ""),
        **extra,
    )


@bp.get("/account/delete")
@login_required
def delete():
    """Confirm deleting the account, and choose what becomes of the notes."""
    return delete_page()


@bp.post("/account/delete")
@login_required
def delete_confirm():
    """Delete the account (password and confirmation required)."""

    def error_page(status: int, message: str):
        return delete_page(status, error=message)

    choice = request.form.get("notes", "")
    if choice not in DELETE_CHOICES:
        return error_page(400, "Choose what becomes of your notes.")
    if request.form.get("confirm") != "yes":
        return error_page(400, "Tick the box to confirm that the account is to be deleted.")
    if (refused := checked_password(error_page)) is not None:
        return refused
    try:
        accounts.check_password(current_user, request.form.get("password", ""))
    except AccountError as error:
        return wrong_password(error_page, error)
    try:
        accounts.delete_account(
            db.session, current_user, request.form.get("password", ""), choice == "keep"
        )
    except AccountError as error:
        db.session.rollback()
        return error_page(400, str(error))
    db.session.commit()
    logout_user()
    flash(
        "Your account is deleted."
        + (" Your class notes stay, anonymised." if choice == "keep" else "")
    )
    return redirect(url_for("reader.library"), 303)


# --- reset links -------------------------------------------------------------------------------


@bp.post("/classes/<id:classroom_id>/members/<id:user_id>/reset-link")
@login_required
def issue_reset_link(classroom_id: int, user_id: int):
    """An instructor makes a one-time link for a student of the class to set a new
    password; it is shown once, here, to pass on."""
    if not teaches_student(current_user, classroom_id, user_id):
        abort(404, description="You teach no such student in that class.")
    student = db.session.get(User, user_id)
    token = accounts.issue_reset(
        db.session, student, accounts.RESET_BY_INSTRUCTOR, issued_by=current_user
    )
    if current_app.config["MAIL_ENABLED"] and student.email:
        queue_account_mail(db.session, student, "reset_notice")
    db.session.commit()
    response = render_view(
        "account/reset_issued.html",
        "content",
        student=student,
        classroom_id=classroom_id,
        link=url_for("account.reset", token=token, _external=True),
        hours=int(accounts.RESET_BY_INSTRUCTOR.total_seconds() // 3600),
    )
    response.headers["Cache-Control"] = "no-store"  # the link is a password, for a while
    return response


def reset_page(token: str, status: int = 200, **extra):
    reset = accounts.find_reset(db.session, token)
    if reset is None:
        status, extra = 404, {**extra, "error": accounts.BAD_RESET_LINK, "invalid": True}
    response = render_view(
        "account/reset.html", "content", status=status, token=token, reset=reset, **extra
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reset/<token>")
def reset(token: str):
    """A reset link: the form to set a new password, if the link still works."""
    return reset_page(token)


@bp.post("/reset/<token>")
def reset_confirm(token: str):
    """Set a new password through a reset link (once); then log in with it."""
    try:
        user = accounts.use_reset(
            db.session,
            token,
            request.form.get("new_password", ""),
            request.form.get("confirm_password", ""),
        )
    except AccountError as error:
        db.session.rollback()
        return reset_page(token, 400, error=str(error))
    log_in(user, remember=False)
    db.session.commit()
    flash("Your new password is set, and you are logged in.")
    return redirect(url_for("reader.library"), 303)


def forgot_page(status: int = 200, **extra):
    return render_view(
        "account/forgot.html",
        "content",
        status=status,
        mail_enabled=current_app.config["MAIL_ENABLED"],
        hours=int(accounts.RESET_BY_EMAIL.total_seconds() // 3600),
        **extra,
    )


@bp.get("/forgot")
def forgot():
    """Ask for a password reset link by e-mail (when this server sends e-mail)."""
    return forgot_page()


@bp.post("/forgot")
def forgot_send():
    """Send a reset link to the account's address; the answer is the same whether or not
    there is such an account."""
    if not current_app.config["MAIL_ENABLED"]:
        return forgot_page(404, error="This server does not send e-mail.")
    identifier = (request.form.get("login") or "").strip()[:254]
    if not identifier:
        return forgot_page(400, error="Enter your username or your e-mail address.")
    try:
        check_reset_allowed(db.session, identifier, request.remote_addr)
    except RateLimited as error:
        return limited(forgot_page(429, error=str(error)), error)
    record_reset_request(db.session, identifier, request.remote_addr)
    for user in accounts.accounts_for_reset(db.session, identifier):
        queue_account_mail(db.session, user, "password_reset")
    db.session.commit()
    hours = int(accounts.RESET_BY_EMAIL.total_seconds() // 3600)
    return forgot_page(sent=FORGOT_SENT.format(hours=hours))
