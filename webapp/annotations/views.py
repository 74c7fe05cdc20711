from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.annotations import bp
from webapp.annotations.cards import (
    CardExtras,
    ReaderState,
    SidebarQuery,
    context_for,
    render_card,
)
from webapp.extensions import db
from webapp.htmx import fragments, is_htmx
from webapp.models import Annotation, Reply
from webapp.reader.views import get_document, readable
from webapp.routing import parse_row_id
from webapp.services import discussion
from webapp.services.annotations import (
    COLOURS,
    AnnotationInputError,
    annotations_for_reader,
    create_annotation,
    delete_annotation,
    restore_annotation,
    update_annotation,
)
from webapp.services.limits import RateLimited, check_write_allowed
from webapp.visibility import can_see, can_see_reply, viewer_of


def get_annotation(
    annotation_id: int, check_author: bool = False, with_deleted_threads: bool = False
) -> Annotation:
    """An annotation the current user may see (404 otherwise).

    With check_author, one that is not theirs is a 403 whether or not they can see it:
    changing it is refused either way, and saying so is clearer than "not found".
    """
    annotation = db.session.get(Annotation, annotation_id)
    live = annotation is not None and (annotation.deleted_at is None or with_deleted_threads)
    if not live:
        abort(404, description="That annotation does not exist or is not visible to you.")
    if check_author and not viewer_of(current_user).can_edit(annotation):
        abort(403, description="Only the author of an annotation can change or delete it.")
    if not can_see(current_user, annotation, with_deleted_threads) or not readable(
        annotation.document
    ):
        abort(404, description="That annotation does not exist or is not visible to you.")
    return annotation


def get_reply(reply_id: int, check_author: bool = False) -> Reply:
    reply = db.session.get(Reply, reply_id)
    if reply is None or reply.deleted_at is not None:
        abort(404, description="That reply does not exist or is not visible to you.")
    if check_author and not viewer_of(current_user).can_edit(reply):
        abort(403, description="Only the author of a reply can change or delete it.")
    if not can_see_reply(current_user, reply) or not readable(reply.annotation.document):
        abort(404, description="That reply does not exist or is not visible to you.")
    return reply


def require(allowed: bool, message: str) -> None:
    if not allowed:
        abort(403, description=message)


def input_error(error: AnnotationInputError):
    abort(422, description=str(error))


def cleared_flash() -> str:
    return '<div id="flash" hx-swap-oob="innerHTML"></div>'


def state_for(annotation: Annotation, context=None) -> ReaderState:
    """Everything the reader shows in the current view: for redrawing blocks."""
    document = annotation.document
    if document.current_version is None:
        abort(404, description="That article no longer exists.")
    return ReaderState.load(
        document, document.current_version, context or context_for(document), SidebarQuery()
    )


def card_response(
    annotation: Annotation,
    *,
    blocks: bool = False,
    oob: str | None = None,
    editing: bool = False,
    replying: int | None = None,
    editing_reply: int | None = None,
    notice: str = "",
):
    """The annotation's card as the context shows it (the main swap, or out of band) and,
    when marks changed, the blocks it covers. A card the context no longer shows is
    removed. Only this annotation is loaded, unless its blocks are redrawn too."""
    document = annotation.document
    context = context_for(document)
    found = annotations_for_reader(
        db.session,
        current_user,
        document,
        context,
        with_deleted_threads=True,
        only_ids=[annotation.id],
    )
    shown = found[0] if found else None
    parts = []
    if shown is not None:
        parts.append(
            render_card(
                shown,
                CardExtras.load([shown], context),
                oob=oob,
                editing=editing,
                replying=replying,
                editing_reply=editing_reply,
            )
        )
    elif oob:
        parts.append(f'<div id="annotation-{annotation.id}" hx-swap-oob="delete"></div>')
    else:
        parts.append("")
    if blocks:
        parts += state_for(annotation, context).blocks_for([annotation])
    parts.append(notice or cleared_flash())
    return fragments(*parts)


def card_page(annotation: Annotation, heading: str, **flags):
    """The no-JavaScript page for a card form (edit, reply)."""
    state = state_for(annotation)
    return render_template(
        "annotations/edit.html",
        annotation=annotation,
        x=state.extras([annotation]),
        heading=heading,
        colours=COLOURS,
        **flags,
    )


def back_to(annotation: Annotation):
    """The no-JavaScript answer to a write: the article, at the card."""
    return redirect(
        url_for(
            "reader.article",
            slug=annotation.document.slug,
            context=f"class-{annotation.classroom_id}" if annotation.classroom_id else "private",
            _anchor=f"annotation-{annotation.id}",
        )
    )


@bp.post("/articles/<slug>/annotations")
@login_required
def create(slug: str):
    """Save a highlight (and optional comment) on the current version of an article."""
    document, version = get_document(slug, annotate=True)
    try:
        check_write_allowed(db.session, current_user.id, current_app.config["WRITES_PER_MINUTE"])
    except RateLimited as error:
        abort(429, description=str(error))
    form = request.form.to_dict()
    form.setdefault("audience", form.get("context", "private"))
    try:
        annotation = create_annotation(db.session, current_user, version, form)
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    if not is_htmx():
        return back_to(annotation)
    state = ReaderState.load(document, version, context_for(document), SidebarQuery())
    parts = state.blocks_for([annotation])
    if state.context.contains(annotation):
        parts.append(render_card(annotation, state.extras([annotation]), oob="outerHTML"))
        parts.append(cleared_flash())
    else:
        where = annotation.classroom.name if annotation.classroom else "your private notes"
        parts.append(
            render_template(
                "partials/_flash_oob.html",
                message=f"Saved to {where}. Switch the view to see it there.",
                level="info",
            )
        )
    response = fragments(*parts)
    response.headers["HX-Trigger"] = json.dumps(
        {"annotation-saved": {"id": annotation.id, "comment": bool(annotation.body_markdown)}}
    )
    return response


@bp.get("/annotations/<id:annotation_id>")
def show(annotation_id: int):
    """One card (htmx), or the article scrolled to it."""
    annotation = get_annotation(annotation_id, with_deleted_threads=True)
    if is_htmx():
        return card_response(annotation)
    return back_to(annotation)


@bp.get("/annotations/<id:annotation_id>/edit")
@login_required
def edit(annotation_id: int):
    """The card as an edit form."""
    annotation = get_annotation(annotation_id, check_author=True)
    if is_htmx():
        return card_response(annotation, editing=True)
    return card_page(annotation, "Edit note", editing=True)


@bp.post("/annotations/<id:annotation_id>/edit")
@login_required
def update(annotation_id: int):
    """Save a changed comment, colour, tags or question mark."""
    annotation = get_annotation(annotation_id, check_author=True)
    colour_before = annotation.colour
    try:
        update_annotation(db.session, annotation, current_user, request.form.to_dict())
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    if not is_htmx():
        return back_to(annotation)
    return card_response(annotation, blocks=annotation.colour != colour_before)


@bp.post("/annotations/<id:annotation_id>/delete")
@login_required
def delete(annotation_id: int):
    """Delete an annotation: its mark goes; its card too, unless replies keep the thread."""
    annotation = get_annotation(annotation_id, check_author=True)
    delete_annotation(db.session, annotation, current_user)
    db.session.commit()
    if not is_htmx():
        flash("The note was deleted.", "info")
        return back_to(annotation)
    undo = render_template(
        "partials/_undo_delete.html",
        annotation=annotation,
        context_key=context_for(annotation.document).key,
    )
    return card_response(annotation, blocks=True, notice=undo)


@bp.post("/annotations/<id:annotation_id>/restore")
@login_required
def restore(annotation_id: int):
    """Undo a delete: the mark and the card come back."""
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None:
        abort(404, description="That annotation does not exist.")
    require(
        viewer_of(current_user).can_edit(annotation),
        "Only the author of an annotation can restore it.",
    )
    restore_annotation(db.session, annotation, current_user)
    db.session.commit()
    if not is_htmx():
        return back_to(annotation)
    return card_response(annotation, blocks=True, oob="outerHTML")


# --- discussion ---------------------------------------------------------------------------


@bp.get("/annotations/<id:annotation_id>/replies/new")
@login_required
def reply_form(annotation_id: int):
    """The card with a reply box open (under the note, or under one reply)."""
    annotation = get_annotation(annotation_id, with_deleted_threads=True)
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
    require(viewer_of(current_user).can_take_part(annotation), "Only class members can reply.")
    try:
        check_write_allowed(db.session, current_user.id, current_app.config["WRITES_PER_MINUTE"])
        discussion.add_reply(
            db.session,
            current_user,
            annotation,
            request.form.get("body", ""),
            request.form.get("parent_id"),
        )
    except RateLimited as error:
        abort(429, description=str(error))
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
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
    require(
        annotation.classroom_id is not None and viewer_of(current_user).can_take_part(annotation),
        "Only members of the note's class can vote on it.",
    )
    discussion.toggle_vote(db.session, current_user, annotation)
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


@bp.post("/annotations/<id:annotation_id>/answered")
@login_required
def answered(annotation_id: int):
    """The asker or an instructor marks a question answered (or not)."""
    annotation = get_annotation(annotation_id)
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
    require(viewer_of(current_user).can_moderate(annotation), "Only instructors can pin notes.")
    discussion.set_pinned(db.session, annotation, current_user, request.form.get("pinned") == "1")
    db.session.commit()
    return card_response(annotation) if is_htmx() else back_to(annotation)


def moderate_hidden(item: Annotation | Reply, annotation: Annotation, what: str):
    """Hide or unhide a note or a reply of `annotation`, as its class's instructor."""
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
