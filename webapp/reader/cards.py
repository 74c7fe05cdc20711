"""A note's card in the reader's sidebar, shared by the reader, annotations and discussion
blueprints: looking a note or a reply up for the current user (404/403), rendering its
card, answering a write with it."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from flask.signals import before_render_template, template_rendered
from flask_login import current_user
from markupsafe import Markup

from webapp.extensions import db
from webapp.htmx import fragments
from webapp.models import Annotation, Reply
from webapp.reader.documents import readable
from webapp.reader.state import CardExtras, ReaderState, SidebarQuery, context_for
from webapp.routing import parse_row_id
from webapp.services.annotations import (
    COLOURS,
    AnnotationInputError,
    annotations_for_reader,
    idempotency_key,
    load_annotations,
)
from webapp.services.idempotency import saved_before
from webapp.templating import form_token
from webapp.visibility import (
    ARCHIVED,
    ReadingContext,
    Viewer,
    can_see,
    can_see_reply,
    is_archived,
    viewer_of,
)

CARD = "partials/_card.html"
# The card's optional flags, as it reads them when not given: a name not given is made an
# Undefined object each time the template reads it (five times in a plain card).
NOT_GIVEN = {"editing": False, "replying": None, "editing_reply": None}


def render_card(annotation: Annotation, extras: CardExtras, oob: str | None = None, **flags):
    """A note's card. The card needs only what it is given and the templates' globals
    (url_for, csrf_token, colour_purposes, ...): the app's context processors (the user,
    the unread notifications, the shelves' addresses: a fifth of a card's time, after
    each write) are not run for it. The render signals are sent as render_template's."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_template(CARD)
    context = {
        "annotation": annotation,
        "x": extras,
        "oob": oob,
        "colours": COLOURS,
        **NOT_GIVEN,
        **flags,
    }
    before_render_template.send(
        app, _async_wrapper=app.ensure_sync, template=template, context=context
    )
    html = template.render(context)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return html


def cards_of(state: ReaderState, ids: list[int]) -> dict[int, Markup]:
    """The cards of these notes in a student's class view (state.student): those the
    student is not involved in (not theirs, no vote, no reply of theirs) come from the
    class's shared view when another student drew them at this point of the change log,
    those they are involved in when they drew them themselves (a card changes only with
    a change of its note, whoever reads it); the rest are drawn now, and kept there."""
    if not ids:
        return {}
    student = state.student
    shared = student.shared
    user_id = student.user_id
    token = form_token()
    involved = student.involved(db.session, ids)
    drawn: dict[int, str] = {}
    for i in ids:
        if i in involved:
            html = shared.card_for(user_id, i, token)
        else:
            html = shared.card(i, token)
        if html is not None:
            drawn[i] = html
    missing = [i for i in ids if i not in drawn]
    if missing:
        annotations = load_annotations(db.session, missing)
        extras = CardExtras.load(annotations, state.context)
        for annotation in annotations:
            html = render_card(annotation, extras)
            i = annotation.id
            drawn[i] = html
            if i in involved:
                if student.author_of(i) is not None:  # the class's or the student's own
                    shared.keep_card_for(user_id, i, html, token)
            elif i in shared.authors:
                shared.keep_card(i, html, token)
    return {i: Markup(drawn[i]) for i in ids if i in drawn}


NO_ANNOTATION = "That annotation does not exist or is not visible to you."
NO_REPLY = "That reply does not exist or is not visible to you."


def get_annotation(
    annotation_id: int,
    check_author: bool = False,
    with_deleted_threads: bool = False,
    with_deleted: bool = False,
) -> Annotation:
    """An annotation the current user may see; else a 404, the same as for an id that does
    not exist, so that no answer tells whether someone else's note exists.

    With check_author, one they see but may not change (not theirs, or a class they left)
    is a 403. with_deleted finds deleted ones too (to restore them).
    """
    annotation = db.session.get(Annotation, annotation_id)
    if (
        annotation is None
        or not can_see(current_user, annotation, with_deleted_threads, with_deleted)
        or not readable(annotation.document)
    ):
        abort(404, description=NO_ANNOTATION)
    if check_author and not viewer_of(current_user).can_edit(annotation):
        require_open(annotation.classroom_id)
        abort(403, description="Only the author of an annotation can change or delete it.")
    return annotation


def get_reply(reply_id: int, check_author: bool = False) -> Reply:
    """A reply the current user may see (404 otherwise, as for get_annotation); with
    check_author, a 403 for one they see but may not change."""
    reply = db.session.get(Reply, reply_id)
    if (
        reply is None
        or reply.deleted_at is not None
        or not can_see_reply(current_user, reply)
        or not readable(reply.annotation.document)
    ):
        abort(404, description=NO_REPLY)
    if check_author and not viewer_of(current_user).can_edit(reply):
        require_open(reply.annotation.classroom_id)
        abort(403, description="Only the author of a reply can change or delete it.")
    return reply


def already_saved(model: type[Annotation] | type[Reply], key: str | None) -> bool:
    """Whether the current user saved a note or reply under this idempotency key (a repeat
    is answered with it, and is not a new write for the rate limit)."""
    return saved_before(db.session, model, current_user.id, idempotency_key(key)) is not None


def require(allowed: bool, message: str) -> None:
    if not allowed:
        abort(403, description=message)


def require_open(classroom_id: int | None) -> None:
    """A write in an archived class: 403, saying why (private notes are never archived)."""
    if is_archived(classroom_id):
        abort(403, description=ARCHIVED)


def require_open_audience(key: str | None, viewer: Viewer | None = None) -> None:
    """The same for a note to be saved in (or shared with) the class `key` names, when the
    user is in it (else the service refuses it as any class one is not in). `viewer`: the
    current user's, when the caller has it already."""
    if key and key.startswith("class-"):
        classroom_id = parse_row_id(key[6:])
        if classroom_id in (viewer or viewer_of(current_user)).archived:
            abort(403, description=ARCHIVED)


def viewer_in(context: ReadingContext) -> Viewer:
    """The current user's Viewer as far as a note of this view needs it (the note's card,
    the archive check of the class it is posted in): their role in the view's class, read
    with the view, and no other. For a note of another class, viewer_of."""
    # The user itself, not Flask-Login's proxy: a card asks it a score of times.
    user = current_user._get_current_object()
    if context.classroom is None:
        return Viewer(user, {})  # a private note's card shows no class role
    classroom = context.classroom
    archived = frozenset({classroom.id} if classroom.archived_at is not None else ())
    return Viewer(user, {classroom.id: context.membership.role}, archived)


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
    audiences: list | None = None,
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
                audiences=audiences or [],
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
