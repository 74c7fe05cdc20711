"""A class's life: roles, leaving, renaming, archiving and restoring."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.classes import bp
from webapp.classes.views import class_page, get_membership, to_class
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import Role
from webapp.services import class_roles
from webapp.services.classes import ClassError

ROLES = {Role.INSTRUCTOR.value: "an instructor", Role.STUDENT.value: "a student"}


@bp.post("/classes/<id:classroom_id>/members/<id:user_id>/role")
@login_required
def set_role(classroom_id: int, user_id: int):
    """Promote a member to instructor, or make an instructor (oneself too) a student."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    role = request.form.get("role", "")
    try:
        changed = class_roles.set_role(db.session, mine.classroom, user_id, role)
    except ClassError as error:
        db.session.rollback()
        status = 409 if str(error) == class_roles.LAST_INSTRUCTOR else 400
        return class_page(mine, status, members_error=str(error))
    name = changed.user.username
    db.session.commit()
    if user_id == current_user.id:
        flash(f"You are now {ROLES[role]} in {mine.classroom.name}.", "info")
    else:
        flash(f"{name} is now {ROLES[role]} in {mine.classroom.name}.", "info")
    return to_class(classroom_id, f"member-{user_id}")


@bp.get("/classes/<id:classroom_id>/leave")
@login_required
def leave_form(classroom_id: int):
    """Ask to confirm leaving the class."""
    mine = get_membership(classroom_id)
    return render_view("classes/leave.html", "content", me=mine, classroom=mine.classroom)


@bp.post("/classes/<id:classroom_id>/leave")
@login_required
def leave(classroom_id: int):
    """Leave the class: one's notes stay in it, under one's name."""
    mine = get_membership(classroom_id)
    classroom = mine.classroom
    try:
        class_roles.leave(db.session, classroom, current_user)
    except ClassError as error:
        db.session.rollback()
        return render_view(
            "classes/leave.html",
            "content",
            status=409,
            me=mine,
            classroom=classroom,
            leave_error=str(error),
        )
    name = classroom.name
    db.session.commit()
    flash(f"You left {name}. Your notes stay in the class, under your name.", "info")
    return redirect(url_for("classes.index"))


@bp.post("/classes/<id:classroom_id>/rename")
@login_required
def rename(classroom_id: int):
    """Give the class a new name."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    try:
        name = class_roles.rename(mine.classroom, request.form.get("name", ""))
    except ClassError as error:
        db.session.rollback()
        return class_page(mine, 400, rename_error=str(error))
    db.session.commit()
    flash(f"The class is now called {name}.", "info")
    return to_class(classroom_id, "settings")


@bp.post("/classes/<id:classroom_id>/archive")
@login_required
def archive(classroom_id: int):
    """Archive the class: it becomes read-only and is listed apart."""
    mine = get_membership(classroom_id, instructor=True, write=True)
    class_roles.archive(mine.classroom)
    db.session.commit()
    flash(f"{mine.classroom.name} is archived: it is read-only until you restore it.", "info")
    return to_class(classroom_id)


@bp.post("/classes/<id:classroom_id>/restore")
@login_required
def restore(classroom_id: int):
    """Restore an archived class: its members write in it again."""
    mine = get_membership(classroom_id, instructor=True)
    if mine.classroom.archived_at is None:
        abort(409, description="This class is not archived.")
    class_roles.restore(mine.classroom)
    db.session.commit()
    flash(f"{mine.classroom.name} is restored.", "info")
    return to_class(classroom_id)
