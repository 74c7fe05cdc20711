from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_app_context,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.database import DatabaseFileError, committed, is_unavailable, write_intent
from webapp.extensions import csrf, db
from webapp.htmx import fragments, is_htmx, render_view
from webapp.models import User, utcnow
from webapp.notifications import bp
from webapp.notifications.unsubscribe import read_token
from webapp.routing import parse_row_id
from webapp.services import notifications as service

BAD_UNSUBSCRIBE = (
    "This unsubscribe link does not work: it is not one this site made, or its account "
    "no longer exists. Change what you receive in your notification settings."
)


@bp.app_context_processor
def _unread_notifications():
    def unread() -> int:
        if not current_user.is_authenticated:
            return 0
        known = _known(current_user.id)
        if known is not None:
            return known[1]
        return service.unread_count(db.session, current_user)

    return {"unread_notifications": unread}


# What a page asks of the signed-in reader's notifications (whether a deadline reminder is
# missing, the header's unread count), read once before the view: with the login session
# (auth/views.load_user) or by _remind_deadlines. Kept with the request and user it is for
# (an app context, and g, can outlive a request: tests hold one); forgotten when the
# request writes anything.
PAGE_READS = "page_reads"


def page_reads_wanted() -> bool:
    """Whether this request is a page that reminds of deadlines and shows the count."""
    return (
        has_request_context()
        and request.method == "GET"
        and not is_htmx()
        and request.endpoint not in (None, "static")
        and request.blueprint not in ("api", "health")
    )


def keep_page_reads(user_id: int, missing: bool, unread: int) -> None:
    setattr(g, PAGE_READS, (request._get_current_object(), user_id, bool(missing), unread))


def _known(user_id: int) -> tuple[bool, int] | None:
    known = g.get(PAGE_READS)
    if known is not None and known[:2] == (request._get_current_object(), user_id):
        return known[2:]
    return None


@event.listens_for(Session, "after_flush")
def _forget_page_reads(session, context) -> None:
    if has_app_context():
        g.pop(PAGE_READS, None)


@bp.before_app_request
def _remind_deadlines() -> None:
    """Deadline reminders for the signed-in reader when a page is opened, so that they
    appear without the e-mail sender running (which makes them for everyone too)."""
    if not page_reads_wanted() or not current_user.is_authenticated:
        return
    now = utcnow()
    known = _known(current_user.id)
    if known is None:
        known = service.due_and_unread(db.session, now, current_user.id)
        keep_page_reads(current_user.id, *known)
    if not known[0]:
        return
    g.pop(PAGE_READS, None)
    # A read-only request: end its read, then write in a transaction of its own that takes
    # the write lock up front (reading then writing in one fails at once under load).
    db.session.commit()
    was_committed = committed.get()
    write_intent.set(True)
    try:
        service.remind_deadlines(db.session, now, current_user.id)
        db.session.commit()
    except (SQLAlchemyError, DatabaseFileError) as error:
        db.session.rollback()
        if isinstance(error, SQLAlchemyError) and not is_unavailable(error):
            raise
        # Busy: the reminders come with a later page; this page is not refused for them.
    finally:
        write_intent.set(False)
        committed.set(was_committed)


def list_context(before: int | None = None) -> dict:
    items, more = service.listed(db.session, current_user, before)
    return {
        "items": items,
        "more": more,
        "before": before,
        "unread": service.unread_count(db.session, current_user),
        "service": service,
    }


@bp.get("/notifications")
@login_required
def index():
    """My notifications, newest first, with what each is about and a link to it."""
    raw = request.args.get("before")
    before = parse_row_id(raw) if raw else None
    if raw and before is None:
        abort(400, description="The place in the list to continue from is not a valid id.")
    return render_view("notifications/index.html", "content", **list_context(before))


def after_marking():
    """The list again (htmx: the list and the header's count, out of band)."""
    if not is_htmx():
        return redirect(url_for("notifications.index"), 303)
    context = list_context()
    return fragments(
        render_block("notifications/index.html", "notification_list", **context),
        render_template("partials/_notifications_link.html", unread=context["unread"], oob=True),
    )


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one notification read."""
    if not service.mark_read(db.session, current_user, notification_id):
        abort(404, description="You have no such notification.")
    db.session.commit()
    return after_marking()


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    """Mark every notification read."""
    service.mark_all_read(db.session, current_user)
    db.session.commit()
    return after_marking()


def settings_page(status: int = 200, **extra):
    return render_view(
        "notifications/settings.html",
        "content",
        status=status,
        kinds=service.KINDS,
        chosen=service.settings_of(db.session, current_user.id),
        mail_enabled=current_app.config["MAIL_ENABLED"],
        **extra,
    )


@bp.get("/notifications/settings")
@login_required
def settings():
    """Which notifications I get, in the app and by e-mail."""
    return settings_page()


@bp.post("/notifications/settings")
@login_required
def save_settings():
    """Save the notification settings."""
    form = request.form
    chosen = {
        kind: service.Choice(form.get(f"in_app-{kind}") == "on", form.get(f"email-{kind}") == "on")
        for kind in service.KINDS
    }
    service.save_settings(db.session, current_user.id, chosen)
    db.session.commit()
    flash("Your notification settings are saved.", "info")
    return redirect(url_for("notifications.settings"), 303)


def unsubscribe_target(token: str) -> tuple[User, str] | None:
    found = read_token(token)
    if found is None or found[1] not in service.KINDS:
        return None
    user = db.session.get(User, found[0])
    return (user, found[1]) if user is not None else None


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """The unsubscribe link of an e-mail: asks to confirm (a link opened by a mail
    scanner must not change anything)."""
    target = unsubscribe_target(token)
    return render_view(
        "notifications/unsubscribe.html",
        "content",
        status=200 if target else 404,
        token=token,
        kind=target[1] if target else None,
        label=service.KINDS[target[1]] if target else "",
        error=None if target else BAD_UNSUBSCRIBE,
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # one click from the mail client (RFC 8058): no session, no form token
def unsubscribe_confirm(token: str):
    """Stop e-mails of one kind for the link's account; works without logging in."""
    target = unsubscribe_target(token)
    if target is not None:
        user, kind = target
        service.stop_email(db.session, user.id, kind)
        db.session.commit()
    return render_view(
        "notifications/unsubscribe.html",
        "content",
        status=200 if target else 404,
        token=token,
        kind=target[1] if target else None,
        label=service.KINDS[target[1]] if target else "",
        done=target is not None,
        error=None if target else BAD_UNSUBSCRIBE,
    )
