from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.annotations import bp
from webapp.extensions import db
from webapp.htmx import fragments, is_htmx
from webapp.models import Annotation, DocumentVersion
from webapp.reader.views import get_document
from webapp.services.annotations import (
    COLOURS,
    AnnotationInputError,
    annotations_for_reader,
    card_key,
    create_annotation,
    delete_annotation,
    highlights_of,
    restore_annotation,
    update_annotation,
)
from webapp.services.documents import layout_for
from webapp.services.limits import RateLimited, check_write_allowed
from webapp.text.marks import render_block
from webapp.visibility import can_edit, can_see

OOB_OUTER = (("hx-swap-oob", "outerHTML"),)


def get_annotation(annotation_id: int, check_author: bool = False) -> Annotation:
    """A live annotation the current user may see (404 otherwise).

    With check_author, one that is not theirs is a 403 whether or not they can see it:
    changing it is refused either way, and saying so is clearer than "not found".
    """
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None or annotation.deleted_at is not None:
        abort(404, description="That annotation does not exist or is not visible to you.")
    if check_author and not can_edit(current_user, annotation):
        abort(403, description="Only the author of an annotation can change or delete it.")
    if not can_see(current_user, annotation):
        abort(404, description="That annotation does not exist or is not visible to you.")
    return annotation


def changed_blocks(annotation: Annotation) -> list[str]:
    """The blocks an annotation covers, re-rendered with every visible highlight, out of band."""
    version = (
        db.session.get(DocumentVersion, annotation.version_id) if annotation.version_id else None
    )
    if version is None:
        return []
    visible = annotations_for_reader(db.session, current_user, annotation.document)
    highlights = highlights_of(visible, version)
    layout = layout_for(version)
    return [
        render_block(block, highlights, OOB_OUTER)
        for block in layout.blocks_between(annotation.start, annotation.end)
    ]


def card_html(annotation: Annotation, editing: bool = False, oob: str | None = None) -> str:
    return render_template(
        "partials/_card.html", annotation=annotation, editing=editing, oob=oob, colours=COLOURS
    )


def card_position(annotation: Annotation) -> str:
    """Where a new card goes so the sidebar stays in document order: after the card
    before it (if that one is loaded; if not, a later page of cards will bring it)."""
    visible = annotations_for_reader(db.session, current_user, annotation.document)
    key = card_key(annotation)
    preceding = [a for a in visible if not a.is_orphan and card_key(a) < key]
    return f"afterend:#annotation-{preceding[-1].id}" if preceding else "afterbegin:#cards"


def input_error(error: AnnotationInputError):
    abort(422, description=str(error))


def cleared_flash() -> str:
    return '<div id="flash" hx-swap-oob="innerHTML"></div>'


@bp.post("/articles/<slug>/annotations")
@login_required
def create(slug: str):
    """Save a highlight (and optional comment) on the current version of an article."""
    _document, version = get_document(slug)
    try:
        check_write_allowed(db.session, current_user.id, current_app.config["WRITES_PER_MINUTE"])
    except RateLimited as error:
        abort(429, description=str(error))
    try:
        annotation = create_annotation(db.session, current_user, version, request.form.to_dict())
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("reader.article", slug=slug, _anchor=f"annotation-{annotation.id}"))
    response = fragments(
        *changed_blocks(annotation),
        f'<div hx-swap-oob="{card_position(annotation)}">{card_html(annotation)}</div>',
        cleared_flash(),
    )
    response.headers["HX-Trigger"] = json.dumps(
        {"annotation-saved": {"id": annotation.id, "comment": bool(annotation.body_markdown)}}
    )
    return response


@bp.get("/annotations/<id:annotation_id>")
def show(annotation_id: int):
    """One card (htmx), or the article scrolled to it."""
    annotation = get_annotation(annotation_id)
    if is_htmx():
        return card_html(annotation)
    return redirect(
        url_for(
            "reader.article", slug=annotation.document.slug, _anchor=f"annotation-{annotation.id}"
        )
    )


@bp.get("/annotations/<id:annotation_id>/edit")
@login_required
def edit(annotation_id: int):
    """The card as an edit form."""
    annotation = get_annotation(annotation_id, check_author=True)
    if is_htmx():
        return card_html(annotation, editing=True)
    return render_template("annotations/edit.html", annotation=annotation, colours=COLOURS)


@bp.post("/annotations/<id:annotation_id>/edit")
@login_required
def update(annotation_id: int):
    """Save a changed comment or colour."""
    annotation = get_annotation(annotation_id, check_author=True)
    colour_before = annotation.colour
    try:
        update_annotation(annotation, request.form.to_dict())
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("annotations.show", annotation_id=annotation.id))
    blocks = changed_blocks(annotation) if annotation.colour != colour_before else []
    return fragments(card_html(annotation), *blocks, cleared_flash())


@bp.post("/annotations/<id:annotation_id>/delete")
@login_required
def delete(annotation_id: int):
    """Delete an annotation: its card and its mark go."""
    annotation = get_annotation(annotation_id, check_author=True)
    delete_annotation(annotation)
    db.session.commit()
    if not is_htmx():
        flash("The note was deleted.", "info")
        return redirect(url_for("reader.article", slug=annotation.document.slug))
    undo = render_template("partials/_undo_delete.html", annotation=annotation)
    return fragments("", *changed_blocks(annotation), undo)


@bp.post("/annotations/<id:annotation_id>/restore")
@login_required
def restore(annotation_id: int):
    """Undo a delete: the mark and the card come back."""
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None:
        abort(404, description="That annotation does not exist.")
    if not can_edit(current_user, annotation):
        abort(403, description="Only the author of an annotation can restore it.")
    restore_annotation(annotation)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("annotations.show", annotation_id=annotation.id))
    return fragments(
        *changed_blocks(annotation),
        f'<div hx-swap-oob="{card_position(annotation)}">{card_html(annotation)}</div>',
        cleared_flash(),
    )
