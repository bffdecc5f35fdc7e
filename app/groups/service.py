"""Group formation and membership: create, join by code, leave, staff add/remove, lock formation.

Size rule under concurrency: every membership change locks the group row first
(SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions are BEGIN IMMEDIATE, which
serialises writers), then counts, then inserts, so a group never exceeds the maximum.
The partial unique index uq_group_membership_current keeps a student in one group per course.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.access import (
    STAFF_ROLES,
    STUDENT,
    CourseAccess,
    GroupAccess,
    course_for,
    current_group_id,
    group_for,
    is_row_id,
)
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Course, CourseMember, GroupMembership, ProjectGroup, User

ERR_NOT_STUDENT = "Only students of the course form and join groups."
ERR_ALREADY_IN_GROUP = "You are already in a group of this course; leave it first."
ERR_TARGET_IN_GROUP = "This student is already in a group of this course."
ERR_GROUP_FULL = "The group is full."
ERR_FORMATION_LOCKED = "Group formation is locked; ask the course staff to change the membership."
ERR_NAME_TAKEN = "A group with this name already exists in the course."
ERR_BAD_JOIN_CODE = "No group of this course has this join code."
ERR_NOT_A_MEMBER = "This user is not a current member of the group."
ERR_ONLY_SELF = "Members may only remove themselves; staff remove others."
ERR_ONLY_STAFF_ADD = "Only course staff add members to a group."
ERR_NOT_A_STUDENT_OF_COURSE = "This user is not a student of the course."
ERR_GROUP_TOO_SMALL = "The group has fewer members than the course's minimum group size and cannot submit."

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by students
JOIN_CODE_LENGTH = 8


@dataclass(frozen=True)
class GroupView:
    """A group with its current members (membership rows and their users), in joining order."""

    group: ProjectGroup
    members: list[tuple[GroupMembership, User]]


def _new_join_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if session.exec(select(ProjectGroup.id).where(ProjectGroup.join_code == code)).first() is None:
            return code


def group_member_count(session: Session, *, group_id: int) -> int:
    """How many students are currently in the group."""
    return session.exec(
        select(func.count())
        .select_from(GroupMembership)
        .where(GroupMembership.group_id == group_id, col(GroupMembership.left_at).is_(None))
    ).one()


def group_can_submit(session: Session, *, group: ProjectGroup, course: Course) -> None:
    """Refuse (409, ERR_GROUP_TOO_SMALL) when the group is below the course's minimum size."""
    if group_member_count(session, group_id=group.id or 0) < course.min_group_size:
        raise Conflict(ERR_GROUP_TOO_SMALL, code="group_too_small")


def group_views(session: Session, *, groups: list[ProjectGroup]) -> list[GroupView]:
    """The groups with their current members, loaded in one query."""
    ids = [g.id for g in groups]
    rows = (
        session.exec(
            select(GroupMembership, User)
            .join(User, col(User.id) == col(GroupMembership.user_id))
            .where(col(GroupMembership.group_id).in_(ids), col(GroupMembership.left_at).is_(None))
            .order_by(col(GroupMembership.joined_at), col(GroupMembership.id))
        ).all()
        if ids
        else []
    )
    by_group: dict[int, list[tuple[GroupMembership, User]]] = {gid: [] for gid in ids if gid is not None}
    for membership, user in rows:
        by_group[membership.group_id].append((membership, user))
    return [GroupView(group=g, members=by_group[g.id or 0]) for g in groups]


def _lock_group(session: Session, *, group_id: int) -> ProjectGroup:
    # FOR UPDATE waits for any concurrent membership change of this group to commit,
    # so the count that follows sees it (READ COMMITTED takes a fresh snapshot per statement).
    return session.exec(select(ProjectGroup).where(ProjectGroup.id == group_id).with_for_update()).one()


def _insert_membership(
    session: Session, *, group: ProjectGroup, course: Course, user_id: int, now: datetime, already_msg: str
) -> GroupMembership:
    """Lock the group, check the size, add the membership; 409 when full or already grouped."""
    _lock_group(session, group_id=group.id or 0)
    if group_member_count(session, group_id=group.id or 0) >= course.max_group_size:
        raise Conflict(ERR_GROUP_FULL, code="group_full")
    membership = GroupMembership(group_id=group.id, course_id=course.id, user_id=user_id, joined_at=now)  # type: ignore[arg-type]
    try:
        with session.begin_nested():
            session.add(membership)
    except IntegrityError:
        # A concurrent request put the student into another group between our check and insert.
        raise Conflict(already_msg, code="already_in_group") from None
    return membership


def _ensure_formation_open(access: CourseAccess | GroupAccess) -> None:
    if access.course.formation_locked and not access.is_staff:
        raise Forbidden(ERR_FORMATION_LOCKED, code="formation_locked")


def group_create(session: Session, *, user: User, course_id: int, name: str, now: datetime) -> GroupView:
    """A student creates a group and joins it; the group gets a fresh join code."""
    access = course_for(session, course_id=course_id, user=user)
    if access.role != STUDENT:
        raise Forbidden(ERR_NOT_STUDENT)
    _ensure_formation_open(access)
    if current_group_id(session, course_id=course_id, user_id=user.id or 0) is not None:
        raise Conflict(ERR_ALREADY_IN_GROUP, code="already_in_group")
    name = name.strip()
    if not name:
        raise InvalidInput("The group name may not be blank.", field="name")
    if (
        session.exec(
            select(ProjectGroup.id).where(ProjectGroup.course_id == course_id, ProjectGroup.name == name)
        ).first()
        is not None
    ):
        raise Conflict(ERR_NAME_TAKEN)
    group = ProjectGroup(course_id=course_id, name=name, join_code=_new_join_code(session), created_at=now)
    session.add(group)
    session.flush()
    _insert_membership(
        session, group=group, course=access.course, user_id=user.id or 0, now=now, already_msg=ERR_ALREADY_IN_GROUP
    )
    audit_record(
        session,
        at=now,
        actor=user,
        action="group.create",
        entity="group",
        entity_id=group.id,
        course_id=course_id,
        after={"name": group.name, "members": [user.id]},
    )
    return group_views(session, groups=[group])[0]


def group_join(session: Session, *, user: User, course_id: int, code: str, now: datetime) -> GroupView:
    """A student joins the group of the course whose join code they give."""
    access = course_for(session, course_id=course_id, user=user)
    if access.role != STUDENT:
        raise Forbidden(ERR_NOT_STUDENT)
    _ensure_formation_open(access)
    group = session.exec(
        select(ProjectGroup).where(ProjectGroup.course_id == course_id, ProjectGroup.join_code == code.strip().upper())
    ).first()
    if group is None:
        raise NotFound(ERR_BAD_JOIN_CODE)
    if current_group_id(session, course_id=course_id, user_id=user.id or 0) is not None:
        raise Conflict(ERR_ALREADY_IN_GROUP, code="already_in_group")
    _insert_membership(
        session, group=group, course=access.course, user_id=user.id or 0, now=now, already_msg=ERR_ALREADY_IN_GROUP
    )
    audit_record(
        session,
        at=now,
        actor=user,
        action="group.join",
        entity="group",
        entity_id=group.id,
        course_id=course_id,
        after={"user_id": user.id},
    )
    return group_views(session, groups=[group])[0]


def group_list(session: Session, *, user: User, course_id: int) -> list[GroupView]:
    """Staff see every group of the course; a student sees their own (or none)."""
    access = course_for(session, course_id=course_id, user=user)
    statement = select(ProjectGroup).where(ProjectGroup.course_id == course_id).order_by(col(ProjectGroup.id))
    if not access.is_staff:
        own = current_group_id(session, course_id=course_id, user_id=user.id or 0)
        statement = statement.where(ProjectGroup.id == own)
    return group_views(session, groups=list(session.exec(statement)))


def group_get(session: Session, *, user: User, group_id: int) -> GroupView:
    """A group its members and the course staff may see."""
    access = group_for(session, group_id=group_id, user=user)
    return group_views(session, groups=[access.group])[0]


def group_member_remove(session: Session, *, user: User, group_id: int, user_id: int, now: datetime) -> None:
    """A member leaves, or staff remove a member; the membership is ended (left_at), not deleted."""
    access = group_for(session, group_id=group_id, user=user)
    if not access.is_staff and user_id != user.id:
        raise Forbidden(ERR_ONLY_SELF)
    _ensure_formation_open(access)
    if not is_row_id(user_id):
        raise NotFound(ERR_NOT_A_MEMBER)
    _lock_group(session, group_id=group_id)
    membership = session.exec(
        select(GroupMembership).where(
            GroupMembership.group_id == group_id,
            GroupMembership.user_id == user_id,
            col(GroupMembership.left_at).is_(None),
        )
    ).first()
    if membership is None:
        raise NotFound(ERR_NOT_A_MEMBER)
    membership.left_at = now
    session.add(membership)
    session.flush()
    action = "group.leave" if user_id == user.id else "group.member_remove"
    audit_record(
        session,
        at=now,
        actor=user,
        action=action,
        entity="group",
        entity_id=group_id,
        course_id=access.course.id,
        before={"user_id": user_id},
        after=None,
    )


def group_member_add(session: Session, *, user: User, group_id: int, user_id: int, now: datetime) -> GroupView:
    """Staff put a student of the course into a group (also while formation is locked)."""
    access = group_for(session, group_id=group_id, user=user)
    if not access.is_staff:
        raise Forbidden(ERR_ONLY_STAFF_ADD)
    course_id = access.course.id or 0
    enrolled_as = session.exec(
        select(CourseMember.role).where(CourseMember.course_id == course_id, CourseMember.user_id == user_id)
    ).first()
    if enrolled_as != STUDENT:
        raise InvalidInput(ERR_NOT_A_STUDENT_OF_COURSE, field="user_id")
    if current_group_id(session, course_id=course_id, user_id=user_id) is not None:
        raise Conflict(ERR_TARGET_IN_GROUP, code="already_in_group")
    _insert_membership(
        session, group=access.group, course=access.course, user_id=user_id, now=now, already_msg=ERR_TARGET_IN_GROUP
    )
    audit_record(
        session,
        at=now,
        actor=user,
        action="group.member_add",
        entity="group",
        entity_id=group_id,
        course_id=course_id,
        after={"user_id": user_id},
    )
    return group_views(session, groups=[access.group])[0]


def group_formation_lock(session: Session, *, user: User, course_id: int, locked: bool, now: datetime) -> Course:
    """Staff lock (or unlock) group formation: while locked only staff change membership."""
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    course = access.course
    if course.formation_locked != locked:
        before = course.formation_locked
        course.formation_locked = locked
        session.add(course)
        audit_record(
            session,
            at=now,
            actor=user,
            action="course.formation_lock",
            entity="course",
            entity_id=course.id,
            course_id=course.id,
            before={"formation_locked": before},
            after={"formation_locked": locked},
        )
    return course
