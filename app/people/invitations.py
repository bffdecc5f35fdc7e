"""A person's own enrolment invitations: list them, accept (join the course) or decline.

An invitation is only ever shown to, and answered by, the account it was made for; anyone
else gets the same 404 as for an id that does not exist. Accepting is the owner's consent to
join; declining or letting it lapse leaves no membership, and no trace in the course's audit log.
"""

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from app.access import is_row_id
from app.audit.service import audit_record
from app.errors import NotFound
from app.models import Course, CourseInvitation, CourseMember, User

ERR_NO_INVITATION = "No such invitation, or it was already answered or has lapsed."


def _open(now: datetime) -> list[ColumnElement[bool]]:
    """Not answered and not lapsed."""
    return [
        col(CourseInvitation.accepted_at).is_(None),
        col(CourseInvitation.declined_at).is_(None),
        col(CourseInvitation.expires_at) > now,
    ]


def invitations_mine(session: Session, *, user: User, now: datetime) -> list[tuple[CourseInvitation, Course]]:
    """The caller's open invitations (not answered, not lapsed) with their courses, oldest first."""
    rows = session.exec(
        select(CourseInvitation, Course)
        .join(Course, col(Course.id) == col(CourseInvitation.course_id))
        .where(CourseInvitation.user_id == user.id, *_open(now))
        .order_by(col(CourseInvitation.created_at), col(CourseInvitation.id))
    ).all()
    return [(invitation, course) for invitation, course in rows]


def _mine(session: Session, *, user: User, invitation_id: int, now: datetime) -> CourseInvitation:
    invitation = (
        session.exec(
            select(CourseInvitation).where(
                CourseInvitation.id == invitation_id, CourseInvitation.user_id == user.id, *_open(now)
            )
        ).first()
        if is_row_id(invitation_id)
        else None
    )
    if invitation is None:
        raise NotFound(ERR_NO_INVITATION)
    return invitation


def _join(session: Session, *, user: User, invitation: CourseInvitation, now: datetime) -> str:
    """Enrol the invitee with the invitation's role (or keep the role they already hold); returns the role."""
    invitation.accepted_at = now
    session.add(invitation)
    member = session.exec(
        select(CourseMember).where(CourseMember.course_id == invitation.course_id, CourseMember.user_id == user.id)
    ).first()
    if member is None:
        member = CourseMember(course_id=invitation.course_id, user_id=user.id or 0, role=invitation.role)
        session.add(member)
    audit_record(
        session,
        at=now,
        actor=user,
        action="invitation.accept",
        entity="course_invitation",
        entity_id=invitation.id,
        course_id=invitation.course_id,
        after={"username": user.username, "role": member.role, "line_student_no": invitation.student_no},
    )
    return member.role


def invitation_accept(session: Session, *, user: User, invitation_id: int, now: datetime) -> CourseInvitation:
    """Accept one of the caller's open invitations: they join its course with its role (audited)."""
    invitation = _mine(session, user=user, invitation_id=invitation_id, now=now)
    _join(session, user=user, invitation=invitation, now=now)
    return invitation


def invitation_decline(session: Session, *, user: User, invitation_id: int, now: datetime) -> CourseInvitation:
    """Decline one of the caller's open invitations; nothing else changes.

    The decline is audited without a course, so only admins see it: the course's staff must not
    learn from their audit log that the line reached an existing account.
    """
    invitation = _mine(session, user=user, invitation_id=invitation_id, now=now)
    invitation.declined_at = now
    session.add(invitation)
    audit_record(
        session,
        at=now,
        actor=user,
        action="invitation.decline",
        entity="course_invitation",
        entity_id=invitation.id,
        course_id=None,
        after={"course_id": invitation.course_id},
    )
    return invitation


def invitations_accept_on_activation(session: Session, *, user: User, now: datetime) -> int:
    """Activating an account invited by a roster line is its owner's consent: join every open invitation."""
    invitations = session.exec(
        select(CourseInvitation)
        .where(CourseInvitation.user_id == user.id, *_open(now))
        .order_by(col(CourseInvitation.id))
    ).all()
    for invitation in invitations:
        _join(session, user=user, invitation=invitation, now=now)
    return len(invitations)
