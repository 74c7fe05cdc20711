"""Groups within a class: made by hand or at random, and which assignments are read in
groups. Who sees whose notes then is decided in webapp.visibility (the groups rule)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp.models import (
    Assignment,
    AssignmentMode,
    ClassGroup,
    Classroom,
    GroupMember,
    Membership,
    Role,
    User,
)
from webapp.services.classes import ClassError

MAX_GROUP_NAME = 60
MAX_GROUPS = 200


@dataclass(frozen=True)
class GroupsView:
    """The class's groups with the students in each, and the students in no group."""

    groups: list[ClassGroup]
    members: dict[int, list[GroupMember]]  # group id: its students, by name
    ungrouped: list[Membership]
    students: list[Membership]

    def group_of(self, user_id: int) -> ClassGroup | None:
        for group in self.groups:
            if any(m.user_id == user_id for m in self.members[group.id]):
                return group
        return None


def groups_of(session: Session, classroom: Classroom) -> GroupsView:
    groups = list(
        session.scalars(
            sa.select(ClassGroup)
            .options(selectinload(ClassGroup.members).selectinload(GroupMember.user))
            .where(ClassGroup.classroom_id == classroom.id)
            .order_by(ClassGroup.id)
        )
    )
    students = list(
        session.scalars(
            sa.select(Membership)
            .join(User, User.id == Membership.user_id)
            .options(selectinload(Membership.user))
            .where(
                Membership.classroom_id == classroom.id,
                Membership.role == Role.STUDENT.value,
            )
            .order_by(sa.func.lower(User.username), User.id)
        )
    )
    ids = {m.user_id for m in students}
    members = {
        group.id: sorted(
            (m for m in group.members if m.user_id in ids),
            key=lambda m: m.user.username.casefold(),
        )
        for group in groups
    }
    placed = {m.user_id for listed in members.values() for m in listed}
    ungrouped = [m for m in students if m.user_id not in placed]
    return GroupsView(groups, members, ungrouped, students)


def check_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ClassError("Give the group a name.")
    if len(name) > MAX_GROUP_NAME:
        raise ClassError(f"A group name has at most {MAX_GROUP_NAME} characters.")
    return name


def _count(session: Session, classroom: Classroom) -> int:
    return session.scalar(
        sa.select(sa.func.count(ClassGroup.id)).where(ClassGroup.classroom_id == classroom.id)
    )


def create_group(session: Session, classroom: Classroom, name: str | None) -> ClassGroup:
    name = check_name(name)
    if _count(session, classroom) >= MAX_GROUPS:
        raise ClassError(f"A class has at most {MAX_GROUPS} groups.")
    group = ClassGroup(classroom_id=classroom.id, name=name)
    session.add(group)
    session.flush()
    return group


def get_group(session: Session, classroom: Classroom, group_id: int) -> ClassGroup | None:
    group = session.get(ClassGroup, group_id)
    return group if group is not None and group.classroom_id == classroom.id else None


def rename_group(group: ClassGroup, name: str | None) -> None:
    group.name = check_name(name)


def delete_group(session: Session, group: ClassGroup) -> None:
    """Its students become ungrouped; their notes stay."""
    session.delete(group)  # its members go with it
    session.flush()


def place(session: Session, classroom: Classroom, user_id: int, group: ClassGroup | None) -> None:
    """Put a student in a group (moving them from any other), or in none."""
    role = session.scalar(
        sa.select(Membership.role).where(
            Membership.classroom_id == classroom.id, Membership.user_id == user_id
        )
    )
    if role is None:
        raise ClassError("That person is not a member of this class.")
    if role != Role.STUDENT.value:
        raise ClassError("Only students are put in groups: instructors read every group.")
    session.execute(
        sa.delete(GroupMember).where(
            GroupMember.classroom_id == classroom.id, GroupMember.user_id == user_id
        )
    )
    if group is not None:
        session.add(GroupMember(group_id=group.id, classroom_id=classroom.id, user_id=user_id))
    session.flush()


def ungroup(session: Session, classroom: Classroom, user_id: int) -> None:
    """Take someone out of their group in the class (they left, were removed or now teach)."""
    session.execute(
        sa.delete(GroupMember).where(
            GroupMember.classroom_id == classroom.id, GroupMember.user_id == user_id
        )
    )


def split_at_random(
    session: Session, classroom: Classroom, size: int, rng: random.Random | None = None
) -> list[ClassGroup]:
    """Replace the class's groups by random groups of at most `size` students, as few as
    that allows, their sizes differing by one at most."""
    if size < 2 or size > 1000:
        raise ClassError("A group has between 2 and 1000 students.")
    view = groups_of(session, classroom)
    students = [m.user_id for m in view.students]
    if not students:
        raise ClassError("The class has no students to put in groups yet.")
    count = -(-len(students) // size)  # ceiling: no group larger than `size`
    (rng or random.SystemRandom()).shuffle(students)
    for group in view.groups:
        delete_group(session, group)
    made = []
    for number in range(count):
        group = ClassGroup(classroom_id=classroom.id, name=f"Group {number + 1}")
        session.add(group)
        made.append(group)
    session.flush()
    for index, user_id in enumerate(students):
        group = made[index % count]
        session.add(GroupMember(group_id=group.id, classroom_id=classroom.id, user_id=user_id))
    session.flush()
    return made


def set_mode(session: Session, classroom: Classroom, assignment_id: int, mode: str) -> Assignment:
    """Read an assignment as a whole class or in groups."""
    if mode not in (AssignmentMode.CLASS.value, AssignmentMode.GROUPS.value):
        raise ClassError("An article is read by the whole class or in groups.")
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.classroom_id != classroom.id:
        raise LookupError("That article is not assigned to this class.")
    assignment.mode = mode
    session.flush()
    return assignment
