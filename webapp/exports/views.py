from __future__ import annotations

from flask import abort, make_response, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from webapp.exports import bp
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Annotation, utcnow
from webapp.reader.views import get_document
from webapp.services.csv_export import content_disposition, filename_part
from webapp.services.documents import layout_for
from webapp.services.exports import notes_for_export, notes_markdown, numbered_ranges
from webapp.text.printable import render_annotated
from webapp.visibility import ContextError, ReadingContext, reading_context

MINE = "mine"


def export_scope() -> tuple[ReadingContext | None, str, str]:
    """(context, its key, what it is called) from `?context=`: "mine" (the default) for
    one's own notes in every context, or a reading context (private, class-N)."""
    key = request.args.get("context") or MINE
    if key == MINE:
        return None, MINE, "My notes"
    try:
        context = reading_context(current_user, key)
    except ContextError as error:
        abort(404, description=f"{error} Choose another view of this article.")
    name = f"Notes in {context.classroom.name}" if context.classroom else "My private notes"
    return context, context.key, name


def place_of(annotation: Annotation) -> str:
    """The link to a note's place in the article (in the context it was posted to)."""
    context = f"class-{annotation.classroom_id}" if annotation.classroom_id else "private"
    return url_for(
        "reader.article",
        slug=annotation.document.slug,
        context=context,
        _anchor=f"annotation-{annotation.id}",
        _external=True,
    )


@bp.get("/articles/<slug>/notes.md")
@login_required
def markdown(slug: str):
    """Notes on an article as a Markdown file: quotes, comments, tags, links, replies."""
    document, version = get_document(slug)
    context, key, scope = export_scope()
    notes = notes_for_export(db.session, current_user, document, context)
    text = notes_markdown(
        title=version.title,
        byline=version.byline,
        article_url=url_for("reader.article", slug=slug, _external=True),
        scope=scope,
        exported_by=current_user.username,
        exported_at=utcnow(),
        notes=notes,
        link_for=place_of,
    )
    response = make_response(text)
    response.headers["Content-Type"] = "text/markdown; charset=utf-8"
    name = f"{filename_part(slug, f'article-{document.id}')}-{key}-notes.md"
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/articles/<slug>/annotated")
@login_required
def annotated(slug: str):
    """The article with the notes' highlights and numbers, the notes after it: a page to
    print or save as PDF."""
    document, version = get_document(slug)
    context, key, scope = export_scope()
    notes = notes_for_export(db.session, current_user, document, context)
    body = Markup(render_annotated(layout_for(version), numbered_ranges(notes, version.id)))
    return render_view(
        "exports/annotated.html",
        "content",
        document=document,
        version=version,
        notes=notes,
        body=body,
        scope=scope,
        scope_key=key,
        exported_at=utcnow(),
        place_of=place_of,
        classroom=context.classroom if context else None,
    )
