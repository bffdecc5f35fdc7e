"""The graded pin: staff choose which version of a group's work is graded instead of the latest."""

from datetime import datetime

from sqlmodel import Session, select

from app.access import is_row_id
from app.audit.service import audit_record
from app.errors import InvalidInput, NotFound
from app.milestones.service import staff_group_milestone
from app.models import Course, GradedPin, Submission, User
from app.submissions.service import VersionView, version_views

ERR_OTHER_MILESTONE = "This version belongs to another group or milestone."
ERR_NOT_PINNED = "No version is pinned for this milestone."
ERR_STAFF_ONLY = "Only course staff choose the graded version."


def graded_pin(
    session: Session, *, user: User, group_id: int, key: str, submission_id: int, now: datetime
) -> tuple[Course, VersionView]:
    """Pin the version to grade instead of the latest (staff); audited."""
    access, milestone = staff_group_milestone(session, user=user, group_id=group_id, key=key, refusal=ERR_STAFF_ONLY)
    submission = session.get(Submission, submission_id) if is_row_id(submission_id) else None
    if submission is None or submission.group_id != group_id or submission.milestone_id != milestone.id:
        raise InvalidInput(ERR_OTHER_MILESTONE, field="submission_id")
    pin = session.exec(
        select(GradedPin).where(GradedPin.group_id == group_id, GradedPin.milestone_id == milestone.id)
    ).first()
    before = {"submission_id": pin.submission_id} if pin else None
    if pin is None:
        pin = GradedPin(
            group_id=group_id,
            milestone_id=milestone.id or 0,
            submission_id=submission_id,
            pinned_by=user.id,
            pinned_at=now,
        )
    else:
        pin.submission_id, pin.pinned_by, pin.pinned_at = submission_id, user.id, now
    session.add(pin)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="submission.pin",
        entity="graded_pin",
        entity_id=pin.id,
        course_id=access.course.id,
        before=before,
        after={"group_id": group_id, "milestone": key, "submission_id": submission_id, "version": submission.version},
    )
    view = version_views(session, course=access.course, milestone=milestone, group_id=group_id, versions=[submission])[
        0
    ]
    return access.course, view


def graded_unpin(session: Session, *, user: User, group_id: int, key: str, now: datetime) -> None:
    """Remove the pin, so the latest version is graded again (staff); audited."""
    access, milestone = staff_group_milestone(session, user=user, group_id=group_id, key=key, refusal=ERR_STAFF_ONLY)
    pin = session.exec(
        select(GradedPin).where(GradedPin.group_id == group_id, GradedPin.milestone_id == milestone.id)
    ).first()
    if pin is None:
        raise NotFound(ERR_NOT_PINNED)
    audit_record(
        session,
        at=now,
        actor=user,
        action="submission.unpin",
        entity="graded_pin",
        entity_id=pin.id,
        course_id=access.course.id,
        before={"group_id": group_id, "milestone": key, "submission_id": pin.submission_id},
    )
    session.delete(pin)
