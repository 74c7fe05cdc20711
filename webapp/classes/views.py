from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.classes import bp
from webapp.errors import error_response
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Document, Membership
from webapp.routing import parse_row_id
from webapp.services.classes import (
    ClassError,
    UnknownCode,
    assign,
    assignments_of,
    create_class,
    find_by_code,
    join_class,
    library_documents,
    members,
    parse_due,
    remove_member,
    rotate_code,
    summaries_of,
    unassign,
)
from webapp.services.deadlines import fmt
from webapp.services.groups import ungroup
from webapp.services.limits import RateLimited, check_join_allowed, record_join_failure
from webapp.services.moderation import unreviewed_count
from webapp.services.purposes import (
    MAX_LABEL_CHARS,
    PurposeError,
    parse_purposes,
    purposes_of,
    set_purposes,
)
from webapp.visibility import ARCHIVED, assignable_documents, may_assign, membership

NOT_A_MEMBER = "There is no such class, or you are not a member of it."
INSTRUCTORS_ONLY = "Only the instructors of this class can do that."
ARCHIVED_JOIN = "This class is archived: it takes no new members. Ask your instructor."
BAD_LINK = (
    "This join link does not work: the class does not exist or its code was changed. "
    "Ask your instructor for the current link or code."
)


def get_membership(classroom_id: int, instructor: bool = False, write: bool = False) -> Membership:
    """The current user's membership of the class: 404 for non-members, 403 for students
    when `instructor` is asked, and 403 for a `write` in an archived class."""
    found = membership(current_user, classroom_id)
    if found is None:
        abort(404, description=NOT_A_MEMBER)
    if instructor and not found.is_instructor:
        abort(403, description=INSTRUCTORS_ONLY)
    if write and found.classroom.archived_at is not None:
        abort(403, description=ARCHIVED)
    return found


def list_page(status: int = 200, **form):
    return render_view(
        "classes/class_list.html",
        "content",
        status=status,
        summaries=summaries_of(db.session, current_user),
        **form,
    )


def class_page(mine: Membership, status: int = 200, **form):
    classroom = mine.classroom
    return render_view(
        "classes/class_page.html",
        "content",
        status=status,
        classroom=classroom,
        me=mine,
        members=members(db.session, classroom),
        assignments=assignments_of(db.session, classroom),
        documents=(
            library_documents(db.session, assignable_documents(current_user))
            if mine.is_instructor
            else []
        ),
        join_url=url_for("classes.join_link", code=classroom.join_code, _external=True),
        unreviewed=unreviewed_count(db.session, classroom) if mine.is_instructor else 0,
        purposes=purposes_of(classroom),
        purpose_max=MAX_LABEL_CHARS,
        **form,
    )


def to_class(classroom_id: int, anchor: str | None = None):
    return redirect(url_for("classes.show", classroom_id=classroom_id, _anchor=anchor))


def form_id(name: str) -> int | None:
    """A row id from a form field, or None (also for numbers too long to be an id)."""
    return parse_row_id(request.form.get(name))


@bp.get("/classes")
@login_required
def index():
    """My classes, and forms to create or join one."""
    return list_page()


@bp.post("/classes")
@login_required
def create():
    """Create a class; its creator becomes its instructor."""
    try:
        classroom = create_class(db.session, current_user, request.form.get("name", ""))
    except ClassError as error:
        db.session.rollback()
        return list_page(400, create_error=str(error))
    db.session.commit()
    flash(f"Created {classroom.name}. Share its join code or link with your students.", "info")
    return to_class(classroom.id)


@bp.post("/classes/join")
@login_required
def join():
    """Join a class with its code (from the form or from a join link)."""
    code = request.form.get("code", "")
    try:
        check_join_allowed(db.session, current_user.id, request.remote_addr)
        found = find_by_code(db.session, code)
        if found is not None and found.archived_at is not None:
            if membership(current_user, found.id) is None:
                return list_page(403, join_error=ARCHIVED_JOIN)
        mine, new = join_class(db.session, current_user, code)
    except RateLimited as error:
        response = list_page(429, join_error=str(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except ClassError as error:
        db.session.rollback()
        if isinstance(error, UnknownCode):
            record_join_failure(db.session, current_user.id, request.remote_addr)
            db.session.commit()
        return list_page(400, join_error=str(error))
    db.session.commit()
    name = mine.classroom.name
    flash(f"You joined {name}." if new else f"You are already a member of {name}.", "info")
    return to_class(mine.classroom_id)


@bp.get("/join/<code>")
@login_required
def join_link(code: str):
    """The join link: asks to confirm (joining is a POST)."""
    try:
        # Before the look-up: while limited, a good code looks no different from a bad one.
        check_join_allowed(db.session, current_user.id, request.remote_addr)
    except RateLimited as error:
        response = make_response(error_response(429, str(error)))
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    classroom = find_by_code(db.session, code)
    if classroom is None:
        db.session.rollback()
        record_join_failure(db.session, current_user.id, request.remote_addr)
        db.session.commit()
        abort(404, description=BAD_LINK)
    return render_view(
        "classes/join_confirm.html",
        "content",
        classroom=classroom,
        mine=membership(current_user, classroom.id),
    )


@bp.get("/classes/<id:classroom_id>")
@login_required
def show(classroom_id: int):
    """The class page: members, roles, assigned articles; the join code for instructors."""
    return class_page(get_membership(classroom_id))


@bp.post("/classes/<id:classroom_id>/rotate")
@login_required
def rotate(classroom_id: int):
    """Give the class a new join code; the old code and link stop working."""
    classroom = get_membership(classroom_id, instructor=True, write=True).classroom
    code = rotate_code(db.session, classroom)
    db.session.commit()
    flash(f"The new join code is {code}. The old code and link no longer work.", "info")
    return to_class(classroom_id, "invite")


@bp.post("/classes/<id:classroom_id>/members/<id:user_id>/remove")
@login_required
def remove(classroom_id: int, user_id: int):
    """Remove a member from the class (not oneself)."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    try:
        removed = remove_member(db.session, mine.classroom, user_id, current_user)
    except ClassError as error:
        db.session.rollback()
        return class_page(mine, 400, members_error=str(error))
    ungroup(db.session, mine.classroom, user_id)
    name = removed.user.username
    db.session.commit()
    flash(f"Removed {name} from {mine.classroom.name}.", "info")
    return to_class(classroom_id, "members")


@bp.post("/classes/<id:classroom_id>/assignments")
@login_required
def assign_article(classroom_id: int):
    """Assign an article from the library, with an optional due date (or change its date)."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    document_id = form_id("document_id")
    document = db.session.get(Document, document_id) if document_id else None
    if document is not None and not may_assign(current_user, document):
        document = None  # someone else's article: as if it did not exist
    if document is None or document.current_version is None:
        return class_page(mine, 400, assign_error="Choose an article from the library.")
    try:
        due_at = parse_due(
            request.form.get("due"), request.form.get("due_time"), mine.classroom.time_zone
        )
        assign(db.session, mine.classroom, document, due_at, actor=current_user)
    except ClassError as error:
        db.session.rollback()
        return class_page(mine, 400, assign_error=str(error), assign_document_id=document.id)
    db.session.commit()
    title = document.current_version.title
    due = f", due {fmt(due_at, mine.classroom.time_zone)}." if due_at else "."
    flash(f"Assigned {title}{due}", "info")
    return to_class(classroom_id, "assignments")


@bp.post("/classes/<id:classroom_id>/assignments/<id:assignment_id>/delete")
@login_required
def unassign_article(classroom_id: int, assignment_id: int):
    """Take an article off the class's list (its annotations stay)."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    removed = unassign(db.session, mine.classroom, assignment_id)
    if removed is None:
        abort(404, description="That article is not assigned to this class.")
    title = removed.document.current_version.title if removed.document.current_version else ""
    db.session.commit()
    flash(f"{title or 'The article'} is no longer assigned.", "info")
    return to_class(classroom_id, "assignments")


@bp.post("/classes/<id:classroom_id>/purposes")
@login_required
def purposes(classroom_id: int):
    """Name what each highlight colour means in this class (or go back to the defaults)."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    try:
        labels = parse_purposes({} if request.form.get("reset") else request.form)
    except PurposeError as error:
        db.session.rollback()
        return class_page(mine, 400, purposes_error=str(error))
    set_purposes(db.session, mine.classroom, labels)
    db.session.commit()
    flash("Saved what each highlight colour means in this class.", "info")
    return to_class(classroom_id, "purposes")
