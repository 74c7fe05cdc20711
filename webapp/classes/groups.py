"""Groups within a class, and assignments read in groups (instructors only)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import login_required

from webapp.classes import bp
from webapp.classes.views import form_id, get_membership, to_class
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import AssignmentMode, Membership
from webapp.routing import parse_row_id
from webapp.services import groups
from webapp.services.classes import ClassError, assignments_of

NO_GROUP = "That group does not exist in this class."


def groups_page(mine: Membership, status: int = 200, **form):
    classroom = mine.classroom
    return render_view(
        "classes/groups.html",
        "content",
        status=status,
        classroom=classroom,
        me=mine,
        view=groups.groups_of(db.session, classroom),
        assignments=assignments_of(db.session, classroom),
        **form,
    )


def to_groups(classroom_id: int, anchor: str | None = None):
    return redirect(url_for("classes.groups_index", classroom_id=classroom_id, _anchor=anchor))


@bp.get("/classes/<id:classroom_id>/groups")
@login_required
def groups_index(classroom_id: int):
    """The class's groups: make them by hand or at random; which articles are read in
    groups."""
    return groups_page(get_membership(classroom_id, instructor=True))


@bp.post("/classes/<id:classroom_id>/groups")
@login_required
def create_group(classroom_id: int):
    """Add an empty group."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    try:
        group = groups.create_group(db.session, mine.classroom, request.form.get("name"))
    except ClassError as error:
        db.session.rollback()
        return groups_page(mine, 400, create_error=str(error))
    db.session.commit()
    flash(f"Added the group {group.name}.", "info")
    return to_groups(classroom_id, f"group-{group.id}")


@bp.post("/classes/<id:classroom_id>/groups/random")
@login_required
def random_groups(classroom_id: int):
    """Replace the groups by random groups of the chosen size."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    raw = (request.form.get("size") or "").strip()
    size = parse_row_id(raw) if raw.isdigit() and len(raw) < 6 else None
    try:
        if size is None:
            raise ClassError("Give the group size as a whole number, such as 3.")
        made = groups.split_at_random(db.session, mine.classroom, size)
    except ClassError as error:
        db.session.rollback()
        return groups_page(mine, 400, random_error=str(error))
    db.session.commit()
    flash(f"Made {len(made)} group{'' if len(made) == 1 else 's'} at random.", "info")
    return to_groups(classroom_id)


def get_group(mine: Membership, group_id: int):
    group = groups.get_group(db.session, mine.classroom, group_id)
    if group is None:
        abort(404, description=NO_GROUP)
    return group


@bp.post("/classes/<id:classroom_id>/groups/<id:group_id>/rename")
@login_required
def rename_group(classroom_id: int, group_id: int):
    mine = get_membership(classroom_id, instructor=True, write=True)
    group = get_group(mine, group_id)
    try:
        groups.rename_group(group, request.form.get("name"))
    except ClassError as error:
        db.session.rollback()
        return groups_page(mine, 400, rename_errors={group_id: str(error)})
    db.session.commit()
    flash(f"Renamed the group to {group.name}.", "info")
    return to_groups(classroom_id, f"group-{group_id}")


@bp.post("/classes/<id:classroom_id>/groups/<id:group_id>/delete")
@login_required
def delete_group(classroom_id: int, group_id: int):
    """Remove a group; its students are in no group until placed again."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    group = get_group(mine, group_id)
    name = group.name
    groups.delete_group(db.session, group)
    db.session.commit()
    flash(f"Removed the group {name}; its students are in no group now.", "info")
    return to_groups(classroom_id)


@bp.post("/classes/<id:classroom_id>/groups/place")
@login_required
def place(classroom_id: int):
    """Put a student in a group, or in none."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    user_id = form_id("user_id")
    if user_id is None:
        return groups_page(mine, 400, place_error="Choose a student.")
    raw_group = request.form.get("group_id") or ""
    group = None
    if raw_group:
        group_id = parse_row_id(raw_group)
        group = groups.get_group(db.session, mine.classroom, group_id) if group_id else None
        if group is None:
            return groups_page(mine, 404, place_error=NO_GROUP)
    try:
        groups.place(db.session, mine.classroom, user_id, group)
    except ClassError as error:
        db.session.rollback()
        return groups_page(mine, 400, place_error=str(error))
    db.session.commit()
    flash("Moved to " + (group.name if group else "no group") + ".", "info")
    return to_groups(classroom_id, "students")


@bp.post("/classes/<id:classroom_id>/assignments/<id:assignment_id>/mode")
@login_required
def assignment_mode(classroom_id: int, assignment_id: int):
    """Read an assigned article as the whole class, or in groups."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    mode = request.form.get("mode", "")
    try:
        assignment = groups.set_mode(db.session, mine.classroom, assignment_id, mode)
    except LookupError as error:
        abort(404, description=str(error))
    except ClassError as error:
        db.session.rollback()
        abort(400, description=str(error))
    title = assignment.document.current_version.title if assignment.document.current_version else ""
    db.session.commit()
    if mode == AssignmentMode.GROUPS.value:
        flash(f"{title or 'The article'} is read in groups.", "info")
    else:
        flash(f"{title or 'The article'} is read by the whole class.", "info")
    return to_class(classroom_id, f"assignment-{assignment_id}")
