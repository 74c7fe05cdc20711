from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from webapp.extensions import db
from webapp.htmx import is_htmx, render_view
from webapp.models import Document, DocumentVersion
from webapp.reader import bp
from webapp.services.annotations import (
    COLOURS,
    AnnotationInputError,
    annotations_for_reader,
    highlights_of,
    page_of_cards,
    parse_card_cursor,
)
from webapp.services.documents import layout_for
from webapp.text.marks import render_layout


def get_document(slug: str) -> tuple[Document, DocumentVersion]:
    """The document and its current version, or 404."""
    document = db.session.scalar(sa.select(Document).where(Document.slug == slug))
    if document is None or document.current_version is None:
        abort(404, description=f"There is no article at /articles/{slug}.")
    return document, document.current_version


@bp.get("/")
def library():
    """List the articles."""
    versions = db.session.scalars(
        sa.select(DocumentVersion)
        .join(Document, Document.current_version_id == DocumentVersion.id)
        .order_by(DocumentVersion.published.desc(), DocumentVersion.title)
    ).all()
    return render_view("reader/library.html", "content", versions=versions)


@bp.get("/articles/<slug>")
def article(slug: str):
    """The reader: the article with its highlights, and the sidebar of cards."""
    document, version = get_document(slug)
    annotations = annotations_for_reader(db.session, current_user, document)
    body = Markup(render_layout(layout_for(version), highlights_of(annotations, version)))
    cards, more = page_of_cards([a for a in annotations if not a.is_orphan])
    return render_view(
        "reader/article.html",
        "content",
        document=document,
        version=version,
        body=body,
        cards=cards,
        more=more,
        orphans=[a for a in annotations if a.is_orphan],
        colours=COLOURS,
    )


@bp.get("/articles/<slug>/cards")
def cards(slug: str):
    """The next page of sidebar cards (loaded as the sidebar scrolls)."""
    document, _version = get_document(slug)
    if not is_htmx():
        return redirect(url_for("reader.article", slug=slug))
    try:
        after = parse_card_cursor(request.args.get("after", ""))
    except AnnotationInputError as error:
        abort(400, description=str(error))
    through = request.args.get("through", type=int)
    annotations = annotations_for_reader(db.session, current_user, document)
    page, more = page_of_cards([a for a in annotations if not a.is_orphan], after, through)
    return render_view(
        "partials/_cards.html", "cards", document=document, cards=page, more=more, colours=COLOURS
    )
