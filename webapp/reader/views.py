from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import contains_eager

from webapp.extensions import db
from webapp.htmx import fragments, is_htmx, render_view
from webapp.models import Annotation, Document, DocumentVersion
from webapp.reader import bp
from webapp.reader.cards import render_card
from webapp.reader.documents import get_document
from webapp.reader.state import (
    FILTERS,
    SORTS,
    ReaderState,
    SidebarQuery,
    context_for,
    contexts_of_user,
)
from webapp.routing import parse_row_id
from webapp.services.annotations import COLOURS
from webapp.services.classes import members
from webapp.services.documents import layout_for
from webapp.services.live import changed_since, latest_change, vanished_since
from webapp.services.purposes import Purpose, purposes_of
from webapp.text.marks import render_layout
from webapp.visibility import (
    library_shelves,
    owns,
)


@bp.app_template_global()
def colour_purposes(classroom=None) -> list[Purpose]:
    """What each highlight colour means in a class (the defaults outside one)."""
    return purposes_of(classroom)


SHELVES = {
    "assigned": "Assigned to my classes",
    "mine": "Mine",
    "public": "Public",
    "archived": "Archived",
}


@bp.get("/")
def library():
    """The articles one may read: assigned to my classes, mine, public (and my archived)."""
    shelves = {}
    for key, where in library_shelves(current_user).items():
        shelves[key] = db.session.scalars(
            sa.select(DocumentVersion)
            .join(Document, Document.current_version_id == DocumentVersion.id)
            .options(contains_eager(DocumentVersion.document))
            .where(where)
            .order_by(DocumentVersion.published.desc(), DocumentVersion.title, Document.id)
        ).all()
    shelves = {key: shelves[key] for key in SHELVES if key in shelves}
    return render_view("reader/library.html", "content", shelves=shelves, names=SHELVES)


@bp.get("/articles/<slug>")
def article(slug: str):
    """The reader: the article with the highlights of one context, and the sidebar."""
    document, version = get_document(slug)
    # The cursor first: on PostgreSQL each query sees the latest commits, so a change made
    # between the two queries is then sent again by the first poll instead of missed.
    cursor = latest_change(db.session, document.id)
    state = ReaderState.load(document, version, query=SidebarQuery.from_request())
    cards, more = state.page()
    body = Markup(render_layout(layout_for(version), state.highlights))
    return render_view(
        "reader/article.html",
        "content",
        state=state,
        document=document,
        version=version,
        body=body,
        cards=cards,
        more=more,
        x=state.extras(cards + state.orphans),
        contexts=contexts_of_user(),
        cursor=cursor,
        students=students_in(state.context),
        colours=COLOURS,
        filters=FILTERS,
        sorts=SORTS,
        owned=owns(current_user, document),
    )


@bp.get("/articles/<slug>/cards")
def cards(slug: str):
    """A page of sidebar cards: the next one as the sidebar scrolls, or the first one
    after the filter or sort changed."""
    document, version = get_document(slug)
    if not is_htmx():
        query = SidebarQuery.from_request()
        context = request.args.get("context", "")[:30]
        return redirect(
            url_for("reader.article", slug=slug, context=context or None, **query.params())
        )
    through = request.args.get("through")
    through_id = parse_row_id(through) if through else None
    if through and through_id is None:
        abort(400, description="The note to load the list through is not a valid note id.")
    state = ReaderState.load(document, version, query=SidebarQuery.from_request())
    page, more = state.page(through=through_id)
    return render_view(
        "partials/_cards.html",
        "cards",
        state=state,
        document=document,
        cards=page,
        more=more,
        x=state.extras(page),
        colours=COLOURS,
    )


@bp.get("/articles/<slug>/changes")
def changes(slug: str):
    """What others changed since the cursor, as out-of-band cards and blocks; 204 if nothing.

    The cursor is a place in the document's change log in the database (commit-ordered,
    see webapp/services/live.py), so any worker on any host answers alike.
    """
    document, version = get_document(slug)
    cursor = parse_row_id(request.args.get("cursor", "0"))
    if cursor is None:
        abort(400, description="Bad live-update cursor.")
    query = SidebarQuery.from_request()
    context = context_for(document)
    if not current_user.is_authenticated:
        return "", 204
    classroom_id = context.classroom.id if context.classroom else None
    changed_ids, new_cursor = changed_since(
        db.session, document.id, classroom_id, current_user.id, cursor
    )
    if not changed_ids:
        return "", 204  # the common answer: one indexed query, nothing rendered
    state = ReaderState.load(document, version, context, query)
    visible = {a.id: a for a in state.annotations}
    user_id = current_user.id
    shown = [
        visible[i]
        for i in changed_ids
        if i in visible and not visible[i].is_orphan and state.query.matches(visible[i], user_id)
    ]
    extras = state.extras(shown)
    parts = [render_card(a, extras, oob="outerHTML") for a in shown]
    # A card this view no longer lists goes. One the reader cannot see goes only if they
    # may have it (it existed at the cursor, then was hidden or deleted): naming any other
    # invisible annotation, or redrawing its blocks, would tell them it exists.
    shown_ids = {a.id for a in shown}
    vanished = vanished_since(db.session, [i for i in changed_ids if i not in visible], cursor)
    gone = [i for i in changed_ids if i not in shown_ids and (i in visible or i in vanished)]
    parts += [f'<div id="annotation-{i}" hx-swap-oob="delete"></div>' for i in gone]
    redrawn = [i for i in changed_ids if i in visible or i in vanished]
    touched = db.session.scalars(sa.select(Annotation).where(Annotation.id.in_(redrawn)))
    parts += state.blocks_for(list(touched))
    parts.append(
        render_template("partials/_live.html", document=document, cursor=new_cursor, oob=True)
    )
    return fragments(*parts)


def students_in(context):
    """For the sidebar's student filter: the class's members (instructors see it)."""
    if context.classroom is None or not context.is_instructor:
        return []
    return [m for m in members(db.session, context.classroom)]
