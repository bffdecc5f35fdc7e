"""Which version of a group's work is graded, against which deadline, and how late it was.

Derived on every read from the versions, pins, extensions and course settings, never stored,
so a moved deadline or a new extension changes every figure at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.milestones.rules import Lateness, effective_deadline, lateness, milestone_deadline
from app.models import Course, Extension, GradedPin, Milestone, Submission


@dataclass(frozen=True)
class GradedVersion:
    """The version a group is graded on for one milestone, with its lateness."""

    submission: Submission
    deadline: datetime
    lateness: Lateness
    pinned: bool


def group_deadlines(
    session: Session, *, course: Course, milestone: Milestone, group_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    """Effective deadlines of the groups that have an extension (one query); others use the milestone's."""
    statement = select(Extension).where(Extension.milestone_id == milestone.id)
    if group_ids is not None:
        statement = statement.where(col(Extension.group_id).in_(list(group_ids)))
    due = milestone_deadline(course, milestone)
    return {e.group_id: effective_deadline(due, e.due_at) for e in session.exec(statement)}


def counts_as_latest(sub: Submission, milestone: Milestone) -> bool:
    """Whether a version may be "the latest": once marks are released, only those received before."""
    released_at = milestone.marks_released_at
    return released_at is None or sub.received_at <= released_at


def graded_among(versions: list[Submission], milestone: Milestone, pinned_id: int | None) -> tuple[int | None, bool]:
    """Of one group's versions: the id of the graded one (the pinned, else the latest) and whether it is pinned."""
    if pinned_id is not None and any(s.id == pinned_id for s in versions):
        return pinned_id, True
    latest = max((s for s in versions if counts_as_latest(s, milestone)), key=lambda s: s.version, default=None)
    return (latest.id if latest else None), False


def graded_versions(
    session: Session,
    *,
    course: Course,
    milestone: Milestone,
    group_ids: Iterable[int] | None = None,
    extended: dict[int, datetime] | None = None,
) -> dict[int, GradedVersion]:
    """Per group id: the pinned version, else the latest; three queries whatever the number of groups.

    `extended` is group_deadlines' answer when the caller already has it (one query fewer).

    Once the milestone's marks are released, "the latest" means the latest received before the
    release: a later upload is kept but changes no released mark unless staff pin it.
    """
    ids = list(group_ids) if group_ids is not None else None
    versions = select(Submission).where(Submission.milestone_id == milestone.id)
    pins = select(GradedPin).where(GradedPin.milestone_id == milestone.id)
    if ids is not None:
        versions = versions.where(col(Submission.group_id).in_(ids))
        pins = pins.where(col(GradedPin.group_id).in_(ids))
    latest: dict[int, Submission] = {}
    by_id: dict[int, Submission] = {}
    for sub in session.exec(versions):
        by_id[sub.id or 0] = sub
        if counts_as_latest(sub, milestone) and (
            sub.group_id not in latest or sub.version > latest[sub.group_id].version
        ):
            latest[sub.group_id] = sub
    pinned = {p.group_id: by_id[p.submission_id] for p in session.exec(pins) if p.submission_id in by_id}
    due = milestone_deadline(course, milestone)
    if extended is None:
        extended = group_deadlines(session, course=course, milestone=milestone, group_ids=ids)
    result: dict[int, GradedVersion] = {}
    for group_id in latest.keys() | pinned.keys():
        chosen = pinned.get(group_id) or latest[group_id]
        deadline = extended.get(group_id, due)
        result[group_id] = GradedVersion(
            submission=chosen,
            deadline=deadline,
            lateness=lateness(
                received_at=chosen.received_at,
                deadline=deadline,
                grace_seconds=course.grace_seconds,
                tiers=course.late_tiers,
            ),
            pinned=group_id in pinned,
        )
    return result


# The versions with the group's pin and extension in one query, built once: the list is the students'
# most frequent read. Both subqueries match at most one row (unique per group and milestone).
_VERSIONS_WITH_PIN = (
    select(
        Submission,
        select(GradedPin.submission_id)
        .where(
            col(GradedPin.group_id) == bindparam("group_id"), col(GradedPin.milestone_id) == bindparam("milestone_id")
        )
        .scalar_subquery(),
        select(Extension.due_at)
        .where(
            col(Extension.group_id) == bindparam("group_id"), col(Extension.milestone_id) == bindparam("milestone_id")
        )
        .scalar_subquery(),
    )
    .where(col(Submission.group_id) == bindparam("group_id"), col(Submission.milestone_id) == bindparam("milestone_id"))
    .order_by(col(Submission.version))
)


def group_versions(
    session: Session, *, course: Course, milestone: Milestone, group_id: int
) -> tuple[list[Submission], int | None, bool, datetime]:
    """A group's versions of a milestone, oldest first; the graded one's id, whether it is pinned, the deadline."""
    rows = session.exec(_VERSIONS_WITH_PIN, params={"group_id": group_id, "milestone_id": milestone.id}).all()
    versions = [row[0] for row in rows]
    pinned_id, extension_due = (rows[0][1], rows[0][2]) if rows else (None, None)
    graded_id, pinned = graded_among(versions, milestone, pinned_id)
    return versions, graded_id, pinned, effective_deadline(milestone_deadline(course, milestone), extension_due)
