"""Output shapes: annotations as W3C Web Annotation JSON-LD (no Flask, no database).

The callers pass the absolute URLs (annotation ids, the article, the collection), so these
functions only shape data: https://www.w3.org/TR/annotation-model/
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webapp.models import Annotation, Reply

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
JSONLD_CONTENT_TYPE = f'application/ld+json; profile="{ANNO_CONTEXT}"'

JSON = dict[str, Any]


def xsd_datetime(moment: datetime) -> str:
    """An xsd:dateTime in UTC with its timezone, e.g. 2026-11-25T06:40:00Z.

    The database stores naive datetimes that are UTC; aware ones are converted to UTC.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def text_quote_selector(annotation: Annotation) -> JSON:
    selector: JSON = {"type": "TextQuoteSelector", "exact": annotation.exact}
    if annotation.prefix:
        selector["prefix"] = annotation.prefix
    if annotation.suffix:
        selector["suffix"] = annotation.suffix
    return selector


def selectors(annotation: Annotation) -> list[JSON]:
    """Position (code points into the canonical text) and quote, which select the same
    passage; an orphan no longer has a position, only its quote."""
    quote = text_quote_selector(annotation)
    if annotation.is_orphan:
        return [quote]
    position = {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end}
    return [position, quote]


def motivation_of(annotation: Annotation) -> str:
    if annotation.is_question:
        return "questioning"
    if annotation.body_markdown:
        return "commenting"
    return "tagging" if annotation.tags else "highlighting"


def bodies(annotation: Annotation) -> JSON | list[JSON] | None:
    """The comment (Markdown) and one TextualBody per tag (purpose "tagging"). With tags,
    the comment's purpose says what it is; alone, the motivation says it."""
    tags = [{"type": "TextualBody", "purpose": "tagging", "value": t.name} for t in annotation.tags]
    found = tags
    if annotation.body_markdown:
        comment: JSON = {
            "type": "TextualBody",
            "value": annotation.body_markdown,
            "format": "text/markdown",
        }
        if tags:
            comment["purpose"] = "questioning" if annotation.is_question else "commenting"
        found = [comment, *tags]
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def class_audience(class_url: str, name: str) -> JSON:
    """The class a note was posted to, as the W3C model's intended audience (schema.org)."""
    return {"id": class_url, "type": "schema:EducationalAudience", "schema:name": name}


def annotation_jsonld(
    annotation: Annotation,
    annotation_id: str,
    source: str,
    embedded: bool = False,
    audience: JSON | None = None,
) -> JSON:
    """One annotation. `annotation_id` and `source` (the article) are absolute URLs;
    `embedded` leaves out the @context, which the enclosing collection carries;
    `audience` is its class (class_audience), if any."""
    doc: JSON = {} if embedded else {"@context": ANNO_CONTEXT}
    doc.update(
        {
            "id": annotation_id,
            "type": "Annotation",
            "motivation": motivation_of(annotation),
            "created": xsd_datetime(annotation.created_at),
            "modified": xsd_datetime(annotation.updated_at),
            "creator": {"type": "Person", "nickname": annotation.author.username},
        }
    )
    if audience is not None:
        doc["audience"] = audience
    if (body := bodies(annotation)) is not None:
        doc["body"] = body
    doc["target"] = {"source": source, "selector": selectors(annotation)}
    return doc


def reply_jsonld(
    reply: Reply,
    reply_id: str,
    target: str,
    embedded: bool = False,
    audience: JSON | None = None,
) -> JSON:
    """A reply: an annotation whose motivation is "replying" and whose target is the IRI of
    what it answers (the note, or the reply it answers)."""
    doc: JSON = {} if embedded else {"@context": ANNO_CONTEXT}
    doc.update(
        {
            "id": reply_id,
            "type": "Annotation",
            "motivation": "replying",
            "created": xsd_datetime(reply.created_at),
            "modified": xsd_datetime(reply.updated_at),
            "creator": {"type": "Person", "nickname": reply.author.username},
        }
    )
    if audience is not None:
        doc["audience"] = audience
    doc["body"] = {"type": "TextualBody", "value": reply.body_markdown, "format": "text/markdown"}
    doc["target"] = target
    return doc


def annotation_page_jsonld(
    items: list[JSON], page_id: str, part_of: JSON | None = None, start_index: int = 0
) -> JSON:
    """An AnnotationPage of (embedded) annotations. With `part_of` (the collection's id,
    label and total) it stands alone, with @context; without, it is embedded in its
    collection."""
    page: JSON = {"@context": ANNO_CONTEXT} if part_of else {}
    page.update({"id": page_id, "type": "AnnotationPage"})
    if part_of:
        page["partOf"] = part_of
    page.update({"startIndex": start_index, "items": items})
    return page


def annotation_collection_jsonld(
    items: list[JSON], collection_id: str, page_id: str, label: str
) -> JSON:
    """An AnnotationCollection whose single page, embedded as `first`, holds every item."""
    return {
        "@context": ANNO_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": label,
        "total": len(items),
        "first": annotation_page_jsonld(items, page_id),
        "last": page_id,
    }


def collection_page_jsonld(items: list[JSON], collection_id: str, page_id: str, label: str) -> JSON:
    """The single page of that collection on its own, pointing back to it (partOf)."""
    part_of = {"id": collection_id, "label": label, "total": len(items)}
    return annotation_page_jsonld(items, page_id, part_of)
