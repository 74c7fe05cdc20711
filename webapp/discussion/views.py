from __future__ import annotations

from flask import abort, current_app, flash, render_template, request
from flask_login import current_user, login_required

from webapp.discussion import bp
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.models import Annotation, Reply
from webapp.reader.cards import (
    already_saved,
    back_to,
    card_page,
    card_response,
    get_annotation,
    get_reply,
    input_error,
    require,
    require_open,
)
from webapp.reader.state import refuse_unreadable_context
from webapp.routing import parse_row_id
from webapp.services import discussion
from webapp.services.annotations import AnnotationInputError
from webapp.services.limits import RateLimited, check_write_allowed
from webapp.visibility import viewer_of

bp.before_request(refuse_unreadable_context)


@bp.get("/annotations/<id:annotation_id>/replies/new")
@login_required
def reply_form(annotation_id: int):
    """The card with a reply box open (under the note, or under one reply)."""
    annotation = get_annotation(annotation_id, with_deleted_threads=True)
    require_open(annotation.classroom_id)
    require(viewer_of(current_user).can_take_part(annotation), "Only class members can reply.")
    parent = parse_row_id(request.args.get("parent")) or 0
    if not is_htmx():
        return card_page(annotation, "Reply", replying=parent)
    return card_response(annotation, replying=parent)


@bp.post("/annotations/<id:annotation_id>/replies")
@login_required
def reply(annotation_id: int):
    """Reply to an annotation or to a reply in its thread."""
    annotation = get_annotation(annotation_id, with_deleted_threads=True)
    require_open(annotation.classroom_id)
    require(viewer_of(current_user).can_take_part(annotation), "Only class members can reply.")
    key = request.form.get("idempotency_key")
    try:
        if not already_saved(Reply, key):
            limit = current_app.config["WRITES_PER_MINUTE"]
            check_write_allowed(db.session, current_user.id, limit)
        reply = discussion.add_reply(
            db.session,
            current_user,
            annotation,
            request.form.get("body", ""),
            request.form.get("parent_id"),
            key,
        )
    except RateLimited as error:
        abort(429, description=str(error))
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    # A repeated request is answered with the thread its reply went to.
    annotation = reply.annotation
    return card_response(annotation) if is_htmx() else back_to(annotation)


@bp.get("/replies/<id:reply_id>/edit")
@login_required
def edit_reply(reply_id: int):
    """The card with one reply as an edit form."""
    found = get_reply(reply_id, check_author=True)
    if not is_htmx():
        return card_page(found.annotation, "Edit reply", editing_reply=found.id)
    return card_response(found.annotation, editing_reply=found.id)


@bp.post("/replies/<id:reply_id>/edit")
@login_required
def update_reply(reply_id: int):
    """Save a changed reply."""
    found = get_reply(reply_id, check_author=True)
    try:
        discussion.update_reply(db.session, found, current_user, request.form.get("body", ""))
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    return card_response(found.annotation) if is_htmx() else back_to(found.annotation)


@bp.post("/replies/<id:reply_id>/delete")
@login_required
def delete_reply(reply_id: int):
    """Delete one's reply."""
    found = get_reply(reply_id, check_author=True)
    discussion.delete_reply(db.session, found, current_user)
    db.session.commit()
    annotation = found.annotation
    if not is_htmx():
        return back_to(annotation)
    # The last reply under a deleted note takes the card with it.
    return card_response(annotation, blocks=False)


@bp.post("/annotations/<id:annotation_id>/vote")
@login_required
def vote(annotation_id: int):
    """Upvote (once per person), or take the upvote back."""
    annotation = get_annotation(annotation_id)
    require_open(annotation.classroom_id)
    viewer = viewer_of(current_user)
    require(
        annotation.classroom_id is not None and viewer.can_take_part(annotation),
        "Only members of the note's class can vote on it.",
    )
    require(viewer.can_vote(annotation), "You cannot upvote your own note.")
    discussion.toggle_vote(db.session, current_user, annotation)
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


@bp.post("/annotations/<id:annotation_id>/answered")
@login_required
def answered(annotation_id: int):
    """The asker or an instructor marks a question answered (or not)."""
    annotation = get_annotation(annotation_id)
    require_open(annotation.classroom_id)
    require(
        viewer_of(current_user).can_mark_answered(annotation),
        "Only the asker or an instructor can mark a question answered.",
    )
    try:
        discussion.set_answered(
            db.session, annotation, current_user, request.form.get("answered") == "1"
        )
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


@bp.post("/annotations/<id:annotation_id>/pin")
@login_required
def pin(annotation_id: int):
    """An instructor pins a note to the top of the class's sidebar (or unpins it)."""
    annotation = get_annotation(annotation_id)
    require_open(annotation.classroom_id)
    require(viewer_of(current_user).can_moderate(annotation), "Only instructors can pin notes.")
    discussion.set_pinned(db.session, annotation, current_user, request.form.get("pinned") == "1")
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


def moderate_hidden(item: Annotation | Reply, annotation: Annotation, what: str):
    """Hide or unhide a note or a reply of `annotation`, as its class's instructor."""
    require_open(annotation.classroom_id)
    require(viewer_of(current_user).can_moderate(annotation), f"Only instructors can hide {what}.")
    try:
        discussion.set_hidden(
            db.session,
            item,
            annotation,
            current_user,
            request.form.get("hidden") == "1",
            request.form.get("reason"),
        )
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


@bp.post("/annotations/<id:annotation_id>/hide")
@login_required
def hide(annotation_id: int):
    """An instructor hides a note from the class (its author still sees it, with why)."""
    annotation = get_annotation(annotation_id)
    return moderate_hidden(annotation, annotation, "notes")


@bp.post("/replies/<id:reply_id>/hide")
@login_required
def hide_reply(reply_id: int):
    """An instructor hides a reply (its author still sees it, with why)."""
    found = get_reply(reply_id)
    return moderate_hidden(found, found.annotation, "replies")


@bp.post("/annotations/<id:annotation_id>/flag")
@login_required
def flag(annotation_id: int):
    """A member flags a note or one of its replies for the instructors."""
    annotation = get_annotation(annotation_id, with_deleted_threads=True)
    require_open(annotation.classroom_id)
    require(
        annotation.classroom_id is not None and viewer_of(current_user).can_take_part(annotation),
        "Only members of the note's class can flag it.",
    )
    reply_id = parse_row_id(request.form.get("reply_id"))
    if request.form.get("reply_id") and reply_id is None:
        abort(422, description="That reply id is not valid.")
    target = get_reply(reply_id) if reply_id else None
    if target is not None and target.annotation_id != annotation.id:
        abort(422, description="That reply is not in this thread.")
    try:
        new = discussion.flag(
            db.session, current_user, annotation, target, request.form.get("reason")
        )
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    message = "Flagged for the instructors." if new else "You had flagged this already."
    if not is_htmx():
        flash(message, "info")
        return back_to(annotation)
    notice = render_template("partials/_flash_oob.html", message=message, level="info")
    return card_response(annotation, notice=notice)
