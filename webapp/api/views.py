from __future__ import annotations

import json

from flask import Response, abort, request, url_for
from flask_login import current_user

from webapp.api import bp
from webapp.extensions import db
from webapp.models import Annotation
from webapp.presenters import (
    JSON,
    JSONLD_CONTENT_TYPE,
    annotation_collection_jsonld,
    annotation_jsonld,
    collection_page_jsonld,
)
from webapp.reader.cards import get_annotation
from webapp.reader.documents import get_document
from webapp.services.annotations import annotations_for_reader


def jsonld(doc: JSON, status: int = 200) -> Response:
    """A JSON-LD response; it depends on who is logged in, so no shared cache keeps it."""
    response = Response(
        json.dumps(doc, ensure_ascii=False), status=status, content_type=JSONLD_CONTENT_TYPE
    )
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def annotation_url(annotation_id: int) -> str:
    return url_for("api.annotation", annotation_id=annotation_id, _external=True)


def article_url(slug: str) -> str:
    return url_for("reader.article", slug=slug, _external=True)


def export(annotation: Annotation, embedded: bool = False) -> JSON:
    return annotation_jsonld(
        annotation,
        annotation_url(annotation.id),
        article_url(annotation.document.slug),
        embedded=embedded,
    )


@bp.get("/annotations/<id:annotation_id>")
def annotation(annotation_id: int):
    """One annotation as a W3C Web Annotation (404 unless the reader may see it)."""
    return jsonld(export(get_annotation(annotation_id)))


@bp.get("/articles/<slug>/annotations")
def article_annotations(slug: str):
    """The annotations on an article the reader may see, as an AnnotationCollection whose
    one page is embedded; `?page=1` is that page on its own."""
    document, version = get_document(slug)
    page = request.args.get("page")
    if page not in (None, "1"):
        abort(404, description=f"This collection has one page, not {page[:20]!r}.")
    annotations = annotations_for_reader(db.session, current_user, document)
    items = [export(a, embedded=True) for a in annotations]
    collection_id = url_for("api.article_annotations", slug=slug, _external=True)
    page_id = url_for("api.article_annotations", slug=slug, page=1, _external=True)
    label = f"Annotations on {version.title}"
    if page is not None:
        return jsonld(collection_page_jsonld(items, collection_id, page_id, label))
    return jsonld(annotation_collection_jsonld(items, collection_id, page_id, label))
