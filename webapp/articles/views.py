from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.articles import bp
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Document
from webapp.reader.documents import get_document, hold_share
from webapp.routing import parse_row_id
from webapp.services import articles
from webapp.services.classes import ClassError, assign, classes_of, parse_due
from webapp.services.deadlines import fmt
from webapp.visibility import may_assign, membership, owns

OWNER_ONLY = "Only the person who added this article can change it."


def get_owned(slug: str) -> Document:
    """An article the current user owns: 404 if they may not read it, 403 if they may
    read it but it is not theirs."""
    document, _ = get_document(slug)
    if not owns(current_user, document):
        abort(403, description=OWNER_ONLY)
    return document


def taught_classes():
    return [m for m in classes_of(db.session, current_user) if m.is_instructor]


def manage_page(document: Document, status: int = 200, **form):
    return render_view(
        "articles/manage.html",
        "content",
        status=status,
        document=document,
        version=document.current_version,
        taught=taught_classes(),
        assignments=articles.assignments_of_document(db.session, document),
        versions=articles.versions_of(db.session, document),
        others=articles.others_involved(db.session, document),
        share_url=(
            url_for("articles.shared", token=document.share_token, _external=True)
            if document.share_token
            else None
        ),
        **form,
    )


def to_manage(document: Document, anchor: str | None = None):
    return redirect(url_for("articles.manage", slug=document.slug, _anchor=anchor))


@bp.get("/articles/<slug>/manage")
@login_required
def manage(slug: str):
    """The owner's page for an article: assign, share link, versions, archive, delete."""
    return manage_page(get_owned(slug))


@bp.post("/articles/<slug>/assign")
@login_required
def assign_to_class(slug: str):
    """Assign the article to one of the classes one teaches, with an optional due date."""
    document = get_owned(slug)
    classroom_id = parse_row_id(request.form.get("classroom_id"))
    mine = membership(current_user, classroom_id) if classroom_id else None
    if mine is None or not mine.is_instructor:
        return manage_page(document, 400, assign_error="Choose one of the classes you teach.")
    if not may_assign(current_user, document):
        return manage_page(document, 400, assign_error="Restore the article before assigning it.")
    try:
        due_at = parse_due(
            request.form.get("due"), request.form.get("due_time"), mine.classroom.time_zone
        )
        assign(db.session, mine.classroom, document, due_at)
    except ClassError as error:
        db.session.rollback()
        return manage_page(document, 400, assign_error=str(error))
    db.session.commit()
    due = f", due {fmt(due_at, mine.classroom.time_zone)}" if due_at else ""
    flash(f"Assigned to {mine.classroom.name}{due}. Its members can read it now.", "info")
    return to_manage(document, "assign")


@bp.post("/articles/<slug>/share")
@login_required
def share(slug: str):
    """Turn the share link on (`on=1`) or off (`on=0`)."""
    document = get_owned(slug)
    if document.archived_at is not None:
        return manage_page(document, 409, share_error="Restore the article before sharing it.")
    if request.form.get("on") == "1":
        articles.share_on(document)
        message = "The share link is on: whoever opens it can read the article."
    else:
        articles.share_off(document)
        message = "The share link is off: it no longer opens the article."
    db.session.commit()
    flash(message, "info")
    return to_manage(document, "share")


@bp.get("/shared/<token>")
def shared(token: str):
    """A share link: remember it in this browser's session and open the article."""
    document = articles.find_shared(db.session, token)
    if document is None:
        abort(404, description="This share link does not work: it was turned off or mistyped.")
    hold_share(token)
    return redirect(url_for("reader.article", slug=document.slug))


@bp.post("/articles/<slug>/archive")
@login_required
def archive(slug: str):
    """Archive: out of every library; its notes stay readable by their authors."""
    document = get_owned(slug)
    articles.archive(document)
    db.session.commit()
    flash("Archived. It left every library; restore it from here or from Mine.", "info")
    return to_manage(document)


@bp.post("/articles/<slug>/restore")
@login_required
def restore(slug: str):
    """Bring an archived article back to the libraries it was in."""
    document = get_owned(slug)
    articles.restore(document)
    db.session.commit()
    flash("Restored: it is back in the libraries it was in.", "info")
    return to_manage(document)


@bp.get("/articles/<slug>/delete")
@login_required
def confirm_delete(slug: str):
    """Ask before deleting for good."""
    document = get_owned(slug)
    return render_view(
        "articles/delete.html",
        "content",
        document=document,
        version=document.current_version,
        others=articles.others_involved(db.session, document),
    )


@bp.post("/articles/<slug>/delete")
@login_required
def delete(slug: str):
    """Delete for good, while no one else has annotated the article."""
    document = get_owned(slug)
    title = document.current_version.title
    try:
        articles.delete_for_good(db.session, document)
    except articles.ArticleError as error:
        db.session.rollback()
        return manage_page(document, 409, delete_error=str(error))
    db.session.commit()
    flash(f"Deleted {title} for good.", "info")
    return redirect(url_for("reader.library"))


@bp.get("/articles/<slug>/versions")
def versions(slug: str):
    """Every version of the article: when, by whom, what changed."""
    document, version = get_document(slug)
    return render_view(
        "articles/versions.html",
        "content",
        document=document,
        version=version,
        versions=articles.versions_of(db.session, document),
        owned=owns(current_user, document),
    )
