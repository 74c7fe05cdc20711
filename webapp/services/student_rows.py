"""A row kept per student of an assignment (a deadline extension, a score override)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Assignment, utcnow


def set_student_row(session: Session, model, assignment: Assignment, user_id: int, values):
    """Give the student's row of `model` these values (it is made if missing, stamped with
    the time), or remove it when `values` is None. Returns the row, or None."""
    found = session.scalar(
        sa.select(model).where(model.assignment_id == assignment.id, model.user_id == user_id)
    )
    if values is None:
        if found is not None:
            session.delete(found)
            session.flush()
        return None
    if found is None:
        found = model(assignment_id=assignment.id, user_id=user_id)
        session.add(found)
    for name, value in values.items():
        setattr(found, name, value)
    found.created_at = utcnow()
    session.flush()
    return found
