"""A course's members: the list by role, and a new activation code for a member who lost theirs."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, STUDENT, TA, course_for, is_row_id
from app.audit.service import audit_record
from app.errors import Forbidden, NotFound
from app.models import ActivationCode, Course, CourseMember, User
from app.people.service import activation_issue

ERR_NOT_A_MEMBER = "No such member of this course."
ERR_RESET_STAFF = (
    "Only a lecturer of the course issues a new code for a TA; a lecturer's or admin's account is reset by an "
    "administrator."
)
ERR_RESET_ELSEWHERE = "This account is staff in another course; an administrator resets it."


def course_members(session: Session, *, user: User, course_id: int) -> tuple[Course, list[tuple[CourseMember, User]]]:
    """The course's members with their roles, by role then username (staff only)."""
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    order = {LECTURER: 0, TA: 1, STUDENT: 2}
    rows = session.exec(
        select(CourseMember, User)
        .join(User, col(User.id) == col(CourseMember.user_id))
        .where(CourseMember.course_id == course_id)
    ).all()
    return access.course, sorted(rows, key=lambda r: (order.get(r[0].role, 3), r[1].username))


def activation_reissue(
    session: Session, *, user: User, course_id: int, user_id: int, now: datetime
) -> tuple[User, str]:
    """A new one-time activation code for a member who lost theirs; their earlier unused codes stop working.

    Using the code sets a new password, so it hands over the account: a TA resets only students,
    a lecturer students and TAs, and an account that is staff in another course only an admin.
    """
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    row = (
        session.exec(
            select(CourseMember, User)
            .join(User, col(User.id) == col(CourseMember.user_id))
            .where(CourseMember.course_id == course_id, CourseMember.user_id == user_id)
        ).first()
        if is_row_id(user_id)
        else None
    )
    if row is None:
        raise NotFound(ERR_NOT_A_MEMBER)
    member, target = row
    if not user.is_admin:
        allowed = {STUDENT} | ({TA} if access.is_lecturer else set())
        if member.role not in allowed or target.is_admin:
            raise Forbidden(ERR_RESET_STAFF, code="reset_not_allowed")
        elsewhere = session.exec(
            select(CourseMember.id).where(
                CourseMember.user_id == user_id,
                CourseMember.course_id != course_id,
                col(CourseMember.role).in_(STAFF_ROLES),
            )
        ).first()
        if elsewhere is not None:
            raise Forbidden(ERR_RESET_ELSEWHERE, code="reset_not_allowed")
    for old in session.exec(
        select(ActivationCode).where(
            ActivationCode.user_id == user_id,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.expires_at) > now,
        )
    ):
        old.expires_at = now
        session.add(old)
    code = activation_issue(session, user=target, now=now)
    audit_record(
        session,
        at=now,
        actor=user,
        action="activation.reissue",
        entity="user",
        entity_id=target.id,
        course_id=course_id,
        after={"username": target.username},
    )
    return target, code
