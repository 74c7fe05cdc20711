"""The moderation queue: flagged notes and replies of a class, for its instructors."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.classes import bp
from webapp.classes.views import form_id, get_membership
from webapp.extensions import db
from webapp.htmx import fragments, is_htmx, render_view
from webapp.models import Annotation, Reply
from webapp.services import moderation
from webapp.services.annotations import AnnotationInputError
from webapp.services.discussion import check_reason

NO_FLAG = "There is no unreviewed flag on that note or reply in this class."
SAID = {
    moderation.HIDDEN: "Hidden from the class",
    moderation.KEPT: "Kept",
}


@bp.get("/classes/<id:classroom_id>/flags")
@login_required
def flags(classroom_id: int):
    """Flagged notes and replies waiting for review (or, with show=reviewed, done)."""
    mine = get_membership(classroom_id, instructor=True)
    show = request.args.get("show") or "open"
    if show not in ("open", "reviewed"):
        abort(400, description="Show open or reviewed flags.")
    classroom = mine.classroom
    return render_view(
        "classes/flags.html",
        "content",
        classroom=classroom,
        me=mine,
        show=show,
        items=moderation.queue(db.session, classroom, reviewed=show == "reviewed"),
        unreviewed=moderation.unreviewed_count(db.session, classroom),
    )


@bp.post("/classes/<id:classroom_id>/flags/review")
@login_required
def review(classroom_id: int):
    """Hide or keep a flagged note or reply; its flags are marked reviewed."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    classroom = mine.classroom
    annotation_id = form_id("annotation_id")
    reply_id = form_id("reply_id")
    if annotation_id is None or (request.form.get("reply_id") and reply_id is None):
        abort(404, description=NO_FLAG)
    outcome = request.form.get("outcome", "")
    if outcome not in moderation.OUTCOMES:
        abort(400, description="Choose to hide or to keep it.")
    open_flags = moderation.item_flags(db.session, classroom, annotation_id, reply_id)
    if not open_flags:
        abort(404, description=NO_FLAG)
    annotation = db.session.get(Annotation, annotation_id)
    reply = db.session.get(Reply, reply_id) if reply_id else None
    try:
        reason = check_reason(request.form.get("reason"))
        moderation.review(db.session, open_flags, annotation, reply, current_user, outcome, reason)
    except AnnotationInputError as error:
        abort(422, description=str(error))
    db.session.commit()
    what = "reply" if reply else "note"
    author = (reply or annotation).author.username
    message = f"{SAID[outcome]}: the {what} by {author}. Flags marked reviewed."
    if not is_htmx():
        flash(message, "info")
        return redirect(url_for("classes.flags", classroom_id=classroom_id))
    item = moderation.FlaggedItem(annotation, reply, open_flags)
    return fragments(
        render_template("classes/_flag_item.html", item=item, classroom=classroom, done=True),
        render_template(
            "classes/_flag_count.html",
            classroom=classroom,
            unreviewed=moderation.unreviewed_count(db.session, classroom),
            oob=True,
        ),
        render_template("partials/_flash_oob.html", message=message, level="info"),
    )
