from __future__ import annotations

import json

from flask import Response, abort, request, url_for
from flask_login import current_user

from webapp.api import bp
from webapp.extensions import db
from webapp.models import Annotation, Classroom, Reply
from webapp.presenters import (
    JSON,
    JSONLD_CONTENT_TYPE,
    annotation_collection_jsonld,
    annotation_jsonld,
    class_audience,
    collection_page_jsonld,
    reply_jsonld,
)
from webapp.reader.cards import get_annotation
from webapp.reader.documents import get_document
from webapp.services.annotations import annotations_for_reader
from webapp.services.discussion import thread_of
from webapp.visibility import can_see_reply


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


def reply_url(reply_id: int) -> str:
    return url_for("api.reply", reply_id=reply_id, _external=True)


def audience_of(classroom: Classroom | None) -> JSON | None:
    if classroom is None:
        return None
    url = url_for("classes.show", classroom_id=classroom.id, _external=True)
    return class_audience(url, classroom.name)


def export(annotation: Annotation, embedded: bool = False) -> JSON:
    return annotation_jsonld(
        annotation,
        annotation_url(annotation.id),
        article_url(annotation.document.slug),
        embedded=embedded,
        audience=audience_of(annotation.classroom),
    )


def export_reply(reply: Reply, parent_visible: bool, embedded: bool = False) -> JSON:
    """A reply targets what it answers: the reply it answers when the reader may see that
    one (naming another would tell it exists), else the note."""
    if reply.parent_id and parent_visible:
        target = reply_url(reply.parent_id)
    else:
        target = annotation_url(reply.annotation_id)
    return reply_jsonld(
        reply,
        reply_url(reply.id),
        target,
        embedded=embedded,
        audience=audience_of(reply.annotation.classroom),
    )


@bp.get("/annotations/<id:annotation_id>")
def annotation(annotation_id: int):
    """One annotation as a W3C Web Annotation (404 unless the reader may see it)."""
    return jsonld(export(get_annotation(annotation_id)))


@bp.get("/replies/<id:reply_id>")
def reply(reply_id: int):
    """One reply as a W3C Web Annotation (motivation "replying"; 404 unless visible)."""
    found = db.session.get(Reply, reply_id)
    if found is None or not can_see_reply(current_user, found):
        abort(404, description="That reply does not exist or is not visible to you.")
    parent = db.session.get(Reply, found.parent_id) if found.parent_id else None
    return jsonld(export_reply(found, parent is not None and can_see_reply(current_user, parent)))


@bp.get("/articles/<slug>/annotations")
def article_annotations(slug: str):
    """The annotations on an article the reader may see, each followed by the replies to
    it the reader may see, as an AnnotationCollection whose one page is embedded;
    `?page=1` is that page on its own."""
    document, version = get_document(slug)
    page = request.args.get("page")
    if page not in (None, "1"):
        abort(404, description=f"This collection has one page, not {page[:20]!r}.")
    annotations = annotations_for_reader(db.session, current_user, document)
    threads = thread_of(db.session, current_user, [a.id for a in annotations])
    items = []
    for annotation in annotations:  # each note followed by its replies, in thread order
        items.append(export(annotation, embedded=True))
        thread = [reply for reply, _ in threads.get(annotation.id, [])]
        shown = {reply.id for reply in thread}
        items += [export_reply(r, r.parent_id in shown, embedded=True) for r in thread]
    collection_id = url_for("api.article_annotations", slug=slug, _external=True)
    page_id = url_for("api.article_annotations", slug=slug, page=1, _external=True)
    label = f"Annotations on {version.title}"
    if page is not None:
        return jsonld(collection_page_jsonld(items, collection_id, page_id, label))
    return jsonld(annotation_collection_jsonld(items, collection_id, page_id, label))
