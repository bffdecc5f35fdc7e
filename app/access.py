"""Who may see what: course roles, group membership, and load-or-404 helpers for services.

A caller who may not see a resource gets NotFound, never Forbidden, so ids leak nothing; a
caller who may see it (a member of its course, or of its group) but may not do this to it
gets Forbidden.
"""

from dataclasses import dataclass

from sqlalchemy import and_, bindparam
from sqlmodel import Session, col, select

from app.errors import Forbidden, NotFound
from app.models import Course, CourseMember, GroupMembership, ProjectGroup, User

LECTURER = "lecturer"
TA = "ta"
STUDENT = "student"
STAFF_ROLES = frozenset({LECTURER, TA})
ALL_ROLES = frozenset({LECTURER, TA, STUDENT})
# Ids are INTEGER columns (32-bit on PostgreSQL); a larger number in a URL names nothing, and
# binding it would crash the driver (SQLite: OverflowError past 64 bits) instead of giving 404.
MAX_ROW_ID = 2**31 - 1
ERR_ROLE = "Your role in this course does not allow this."
ERR_GROUP_ROLE = "You may see this group but not do this to it."


def is_row_id(value: int) -> bool:
    """Whether `value` can be the id of a row (positive and within the id column's range)."""
    return 0 < value <= MAX_ROW_ID


@dataclass(frozen=True)
class CourseAccess:
    """A course as seen by one user, with that user's role in it (admins act as lecturers)."""

    course: Course
    role: str

    @property
    def is_staff(self) -> bool:
        """Lecturer, TA or admin."""
        return self.role in STAFF_ROLES

    @property
    def is_lecturer(self) -> bool:
        """Lecturer or admin."""
        return self.role == LECTURER


@dataclass(frozen=True)
class GroupAccess:
    """A group as seen by one user: their role in its course and whether they are a member."""

    group: ProjectGroup
    course: Course
    role: str
    is_member: bool

    @property
    def is_staff(self) -> bool:
        """Lecturer, TA or admin of the group's course."""
        return self.role in STAFF_ROLES


def course_role(session: Session, *, course_id: int, user: User) -> str | None:
    """The user's role in the course, "lecturer" for admins, None for outsiders."""
    if user.is_admin:
        return LECTURER
    return session.exec(
        select(CourseMember.role).where(CourseMember.course_id == course_id, CourseMember.user_id == user.id)
    ).first()


def course_for(session: Session, *, course_id: int, user: User, roles: frozenset[str] = ALL_ROLES) -> CourseAccess:
    """The course if the user holds one of `roles` in it; NotFound for outsiders, Forbidden for other members."""
    row = (
        session.exec(_COURSE_WITH_ROLE, params={"course_id": course_id, "user_id": user.id}).first()
        if is_row_id(course_id)
        else None
    )
    course = row[0] if row else None
    role = (LECTURER if user.is_admin else row[1]) if row else None
    if course is None or role is None:
        raise NotFound("No such course.")
    if role not in roles:
        raise Forbidden(ERR_ROLE)
    return CourseAccess(course=course, role=role)


def current_group_id(session: Session, *, course_id: int, user_id: int) -> int | None:
    """The id of the user's current group in the course, if any."""
    return session.exec(
        select(GroupMembership.group_id).where(
            GroupMembership.course_id == course_id,
            GroupMembership.user_id == user_id,
            col(GroupMembership.left_at).is_(None),
        )
    ).first()


# One query for what four would fetch (group, course, role, current group), built once: every group
# route runs it. Both outer joins match at most one row (unique course role, one current group).
GROUP_WITH_ROLE = (
    select(ProjectGroup, Course, CourseMember.role, GroupMembership.group_id)
    .join(Course, col(Course.id) == col(ProjectGroup.course_id))
    .outerjoin(
        CourseMember,
        and_(
            col(CourseMember.course_id) == col(ProjectGroup.course_id),
            col(CourseMember.user_id) == bindparam("user_id"),
        ),
    )
    .outerjoin(
        GroupMembership,
        and_(
            col(GroupMembership.course_id) == col(ProjectGroup.course_id),
            col(GroupMembership.user_id) == bindparam("user_id"),
            col(GroupMembership.left_at).is_(None),
        ),
    )
    .where(col(ProjectGroup.id) == bindparam("group_id"))
)
# The course and the caller's role in one query: every course route runs it.
_COURSE_WITH_ROLE = (
    select(Course, CourseMember.role)
    .outerjoin(
        CourseMember,
        and_(col(CourseMember.course_id) == col(Course.id), col(CourseMember.user_id) == bindparam("user_id")),
    )
    .where(col(Course.id) == bindparam("course_id"))
)


def group_for(session: Session, *, group_id: int, user: User, members: bool = True, staff: bool = True) -> GroupAccess:
    """The group if the user is a current member (when `members`) or staff (when `staff`).

    NotFound for those who may not see the group at all; Forbidden for members or staff whom this action excludes.
    """
    found = (
        session.exec(GROUP_WITH_ROLE, params={"group_id": group_id, "user_id": user.id}).first()
        if is_row_id(group_id)
        else None
    )
    return group_access(found, user=user, members=members, staff=staff)


def group_access(
    found: tuple[ProjectGroup, Course, str | None, int | None] | None,
    *,
    user: User,
    members: bool = True,
    staff: bool = True,
) -> GroupAccess:
    """GroupAccess from a row of GROUP_WITH_ROLE (None: no such group), refused as group_for refuses."""
    if found is None:
        raise NotFound("No such group.")
    group, course, member_role, current_group = found
    role = LECTURER if user.is_admin else member_role
    is_member = role == STUDENT and current_group == group.id
    is_staff = role in STAFF_ROLES
    if not (is_member or is_staff):
        raise NotFound("No such group.")
    if not ((members and is_member) or (staff and is_staff)):
        raise Forbidden(ERR_GROUP_ROLE)
    return GroupAccess(group=group, course=course, role=role or "", is_member=is_member)
