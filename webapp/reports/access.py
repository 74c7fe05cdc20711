"""Who may open a report: the class's instructors; the assignment and the student in it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.models import Assignment, Classroom, Membership, Role, User
from webapp.visibility import membership


def get_taught_class(classroom_id: int) -> Classroom:
    """A class the current user teaches: 404 for a non-member, 403 for a student."""
    found = membership(current_user, classroom_id)
    if found is None:
        abort(404, description="That class does not exist or you are not a member of it.")
    if not found.is_instructor:
        abort(403, description="Only the class's instructors see its reports.")
    return found.classroom


def get_assignment(classroom: Classroom, assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.classroom_id != classroom.id:
        abort(404, description="That article is not assigned to this class.")
    return assignment


def get_student(classroom: Classroom, user_id: int) -> User:
    user = db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.classroom_id == classroom.id,
            Membership.role == Role.STUDENT.value,
            User.id == user_id,
        )
    )
    if user is None:
        abort(404, description="That person is not a student of this class.")
    return user


def title_of(assignment: Assignment) -> str:
    version = assignment.document.current_version
    return version.title if version else assignment.document.slug


def to_student(classroom: Classroom, assignment: Assignment, student: User, anchor: str):
    """Back to the student's page for the assignment, at a section."""
    return redirect(
        url_for(
            "reports.student",
            classroom_id=classroom.id,
            assignment_id=assignment.id,
            user_id=student.id,
            _anchor=anchor,
        )
    )
