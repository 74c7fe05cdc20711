"""Where the class is confused (a heat map over the article, the most discussed passages,
the oldest unanswered questions) and every note and reply of an assignment as CSV."""

from __future__ import annotations

from flask import abort, make_response, url_for
from flask_login import login_required

from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Annotation, Reply
from webapp.reports import bp
from webapp.reports.access import get_assignment, get_taught_class, title_of
from webapp.services import insight
from webapp.services.classes import assignments_of
from webapp.services.csv_export import (
    CONTENT_TYPE,
    content_disposition,
    filename_part,
    to_csv_bytes,
)
from webapp.services.documents import layout_for

ASSIGNMENT = "/classes/<id:classroom_id>/assignments/<id:assignment_id>"


def place(annotation: Annotation | int, classroom_id: int, slug: str, reply=None, external=False):
    """The reader, in the class's view, at a note (or a reply in its thread)."""
    annotation_id = annotation if isinstance(annotation, int) else annotation.id
    anchor = f"reply-{reply.id}" if isinstance(reply, Reply) else f"annotation-{annotation_id}"
    return url_for(
        "reader.article",
        slug=slug,
        context=f"class-{classroom_id}",
        _anchor=anchor,
        _external=external,
    )


@bp.get(f"{ASSIGNMENT}/discussion", endpoint="confusion")
@login_required
def confusion(classroom_id: int, assignment_id: int):
    """A heat map of the class's notes over the article, the most discussed passages and
    the oldest unanswered questions, each a link into the text."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    version = assignment.document.current_version
    if version is None:
        abort(404, description="That article has no text yet.")
    heat = insight.heat_map(db.session, assignment, version, layout_for(version))
    return render_view(
        "reports/confusion.html",
        "content",
        classroom=classroom,
        assignment=assignment,
        assignments=assignments_of(db.session, classroom),
        title=title_of(assignment),
        heat=heat,
        questions=insight.oldest_unanswered(db.session, assignment),
        place=place,
    )


@bp.get(f"{ASSIGNMENT}/notes.csv", endpoint="notes_csv")
@login_required
def notes_csv(classroom_id: int, assignment_id: int):
    """Every note and reply of an assignment as CSV: quote, comment, author, time, tags,
    votes, late."""
    classroom = get_taught_class(classroom_id)
    assignment = get_assignment(classroom, assignment_id)
    slug = assignment.document.slug

    def link_for(note, reply):
        return place(note, classroom.id, slug, reply, external=True)

    rows = insight.notes_table(db.session, assignment, link_for)
    name = "notes-{}-{}.csv".format(
        filename_part(classroom.name, f"class-{classroom.id}"),
        filename_part(slug, f"article-{assignment.document_id}"),
    )
    response = make_response(to_csv_bytes(insight.NOTE_COLUMNS, rows))
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
