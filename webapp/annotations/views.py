from __future__ import annotations

import json

from flask import abort, current_app, flash, render_template, request
from flask_login import current_user, login_required
from sqlalchemy.orm.attributes import set_committed_value

from webapp.annotations import bp
from webapp.database import commit_keeping_loaded, reads_first, start_writing
from webapp.extensions import db
from webapp.htmx import fragments, is_htmx
from webapp.models import Annotation, has_note
from webapp.reader.cards import (
    back_to,
    card_page,
    card_response,
    cleared_flash,
    get_annotation,
    input_error,
    render_card,
    require_open_audience,
    viewer_in,
)
from webapp.reader.documents import get_document_and_cursor, get_document_in_class
from webapp.reader.shared import class_facts_columns, facts_of
from webapp.reader.state import (
    CardExtras,
    ReaderState,
    SidebarQuery,
    class_context,
    context_for,
    contexts_of_user,
    refuse_unreadable_context,
    requested_class_id,
)
from webapp.services.annotations import (
    AnnotationInputError,
    NotWritable,
    audience_for,
    check_still_writable,
    delete_annotation,
    idempotency_key,
    new_annotation,
    restore_annotation,
    save_annotation,
    update_annotation,
)
from webapp.services.idempotency import saved_before
from webapp.services.limits import RateLimited
from webapp.services.live import taken_seq
from webapp.text.marks import Highlight
from webapp.visibility import PRIVATE, Viewer, instructors_of, viewer_of


@bp.before_request
def _refuse_unreadable_context():
    if request.endpoint != "annotations.create":  # create reads its view before writing
        refuse_unreadable_context()


@bp.post("/articles/<slug>/annotations")
@login_required
@reads_first
def create(slug: str):
    """Save a highlight (and optional comment) on the current version of an article.

    Everything up to the insert (the article, the view, the checks, the anchoring, the
    comment's rendering) is read in a plain transaction, while other workers write; the
    write lock is taken for the inserts alone, after check_still_writable has read again
    what must still hold then."""
    # A class view's instructors and assignment (for its shared view and the card's
    # badge) come with the article, as for the reader page, and so does the reader's
    # membership of the view's class (its context). With the article: its latest
    # change-log seq (`cursor`: see what the answer is drawn from, below).
    user = current_user._get_current_object()  # (not Flask-Login's proxy, asked often)
    classroom_id = requested_class_id()
    facts = None
    if classroom_id is None:
        document, version, cursor, _ = get_document_and_cursor(slug, annotate=True)
        context = context_for(document)  # a view one cannot read is refused before writing
    else:
        parameters = {"classroom_id": classroom_id, "user_id": user.id}
        also = (class_facts_columns(), parameters)
        document, version, member, cursor, extra = get_document_in_class(slug, also, annotate=True)
        facts = facts_of(extra, classroom_id)
        context = class_context(member)
    form = request.form.to_dict()
    form.setdefault("audience", form.get("context", "private"))
    body, tags = ((form.get(name) or "").strip() for name in ("body", "tags"))
    viewer = None
    state = ReaderState.load(document, version, context, SidebarQuery())
    before = None  # one's private marks over the blocks the answer draws, read before writing
    span = None
    if has_note(body, form.get("question"), tags.strip("#, ")):
        # Posted in the view (its class or one's private notes), the view's membership
        # says all the check and the card need; elsewhere, every class's role is read.
        if form["audience"] in (context.key, PRIVATE):
            viewer = viewer_in(context)
        else:
            viewer = viewer_of(user)
        require_open_audience(form["audience"], viewer)  # a bare highlight is never refused
    try:
        annotation = saved_before(
            db.session, Annotation, user.id, idempotency_key(form.get("idempotency_key"))
        )
        repeated = annotation is not None
        if not repeated:
            same = key_of_view() == form["audience"]  # the view's context, read above
            audience = context if same else audience_for(user, form["audience"])
            annotation = new_annotation(user, version, form, audience)
            if is_htmx():
                # What the answer's blocks are drawn from, read now, as of `cursor`: one's
                # private marks over them, or a student's class view (share()).
                if context.classroom is None:
                    if span := state.span_of([annotation]):
                        before = state.ranges(span)
                else:
                    state.share(cursor, facts, kept_only=True)
            start_writing(db.session)
            limit = current_app.config["WRITES_PER_MINUTE"]
            latest, own_changed = check_still_writable(db.session, annotation, user, limit, cursor)
            if latest != cursor and is_htmx():
                # Others wrote since `cursor`: what the answer is drawn from is read up to
                # their last change here, under the lock (nothing else is written before
                # this write commits), not after the commit in a transaction of its own.
                # One's private marks change only with a change to one's own notes.
                if before is not None:
                    if own_changed:
                        before = state.ranges(span)
                    cursor = latest
                elif state.student is not None:
                    # (facts read once; a kept view too far behind is not read afresh
                    # under the lock: the answer is then drawn after the commit)
                    state.share(latest, state.facts, kept_only=True, afresh=False)
                    if state.student is not None:  # (else: read after the commit, below)
                        cursor = latest
            annotation, new = save_annotation(db.session, annotation, user)
            repeated = not new  # the same key saved by a request that came meanwhile
            if new:
                set_committed_value(annotation, "author", user)  # its card names the author
    except RateLimited as error:
        abort(429, description=str(error))
    except AnnotationInputError as error:
        input_error(error)
    except NotWritable as error:
        abort(error.status, description=str(error))
    commit_keeping_loaded(db.session)
    seq = taken_seq(db.session, document.id)  # None: nothing new was written (a repeat)
    if not is_htmx():
        return back_to(annotation)
    # When the note is the article's one change since `cursor` (each change of a note is in
    # the change log; `cursor` brought to the last change before the write, under its
    # lock, when others wrote meanwhile), what was read before the commit, with the note,
    # is what a read now would find. Else (PostgreSQL, whose writers do not wait for this
    # one's commit; a view this process did not keep) the answer is drawn from a read after
    # the commit: a plain read that takes no write lock, so the next writer goes on while
    # this one draws. Nothing loaded so far is read again.
    only_change = seq is not None and seq == cursor + 1
    a = annotation
    shown = (Highlight(a.id, a.start, a.end, a.colour, own=True),) if context.contains(a) else ()
    marks, beside = None, ()
    if only_change and before is not None:
        marks = [*before, *shown]
    elif only_change and state.student is not None:
        beside = shown
    else:
        state.student = None  # (one read before the write is behind)
        if seq is not None:
            state.share(seq, state.facts, kept_only=True)  # a student's class view: the shared's
    parts = state.blocks_for([annotation], marks, beside)
    if state.context.contains(annotation):
        extras = (
            state.extras([annotation])
            if repeated
            else new_card_extras(
                annotation,
                context,
                viewer or viewer_in(context),
                state.facts.instructors if state.facts is not None else None,
            )
        )
        parts.append(render_card(annotation, extras, oob="outerHTML"))
        parts.append(cleared_flash())
    else:
        parts.append(saved_elsewhere(annotation))
    response = fragments(*parts)
    response.headers["HX-Trigger"] = json.dumps(
        {"annotation-saved": {"id": annotation.id, "comment": bool(annotation.body_markdown)}}
    )
    return response


def key_of_view() -> str | None:
    """The reading context the request names (as context_for reads it), if any."""
    return request.values.get("context")


def new_card_extras(
    annotation: Annotation, context, viewer: Viewer, teachers: set[int] | None = None
) -> CardExtras:
    """What the card of a note just created needs beside it: it has no replies, votes or
    flags yet, so only who is looking and its class's instructors (for the badge) are
    read (`teachers`: those of the view's class, when read already). An instructor's view
    also marks late work: it takes the full load."""
    if context.is_instructor:
        return CardExtras.load([annotation], context)
    classroom_id = annotation.classroom_id
    shared = teachers is not None and context.classroom is not None
    if shared and classroom_id == context.classroom.id:
        found = {classroom_id: teachers}
    else:
        found = instructors_of({classroom_id})
    return CardExtras(viewer=viewer, context=context, instructors=found)


def saved_elsewhere(annotation: Annotation) -> str:
    """The notice for a note saved where this view does not show it."""
    where = annotation.classroom.name if annotation.classroom else "your private notes"
    message = f"Saved to {where}. Switch the view to see it there."
    return render_template("partials/_flash_oob.html", message=message, level="info")


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
    # A private note may be shared with one of one's classes; a shared one stays shared.
    audiences = contexts_of_user()[1:] if annotation.classroom_id is None else []
    if is_htmx():
        return card_response(annotation, editing=True, audiences=audiences)
    return card_page(annotation, "Edit note", editing=True, audiences=audiences)


@bp.post("/annotations/<id:annotation_id>/edit")
@login_required
def update(annotation_id: int):
    """Save a changed comment, colour, tags or question mark; or share a private note."""
    annotation = get_annotation(annotation_id, check_author=True)
    require_open_audience(request.form.get("audience"))
    context = context_for(annotation.document)
    shown = context.contains(annotation)
    colour, classroom_id = annotation.colour, annotation.classroom_id
    try:
        update_annotation(db.session, annotation, current_user, request.form.to_dict())
    except AnnotationInputError as error:
        input_error(error)
    db.session.commit()
    if not is_htmx():
        return back_to(annotation)
    # A highlight given a comment may leave the view (a class view shows one's private
    # highlights, not one's private notes) or, shared, join the class's discussion.
    still_shown = context.contains(annotation)
    notice = ""
    if annotation.classroom_id != classroom_id:
        message = f"Shared with {annotation.classroom.name}."
        notice = render_template("partials/_flash_oob.html", message=message, level="info")
    elif shown and not still_shown:
        notice = saved_elsewhere(annotation)
    redraw = annotation.colour != colour or annotation.classroom_id != classroom_id
    return card_response(annotation, blocks=redraw or shown != still_shown, notice=notice)


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
    annotation = get_annotation(annotation_id, check_author=True, with_deleted=True)
    restore_annotation(db.session, annotation, current_user)
    db.session.commit()
    if not is_htmx():
        return back_to(annotation)
    return card_response(annotation, blocks=True, oob="outerHTML")
