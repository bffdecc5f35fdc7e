"""Reviewer assignment (automatic and by hand) and each reviewer's queue of assigned work."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, course_for, course_role
from app.audit.service import audit_record
from app.errors import Conflict, InvalidInput
from app.milestones.service import milestone_for
from app.models import Course, CourseMember, Milestone, ProjectGroup, Review, ReviewAssignment, Submission, User
from app.submissions.grading import graded_versions

ERR_TOO_MANY_REVIEWERS = "reviewers_per_submission exceeds the course's {staff} staff members."
ERR_NOT_STAFF_REVIEWER = "The reviewer must be a TA or lecturer of the course."
ERR_NOTHING_TO_REVIEW = "This group has no version of this milestone to review yet."


def course_staff(session: Session, *, course_id: int) -> list[User]:
    """The course's TAs and lecturers, by id."""
    return list(
        session.exec(
            select(User)
            .join(CourseMember, col(CourseMember.user_id) == col(User.id))
            .where(CourseMember.course_id == course_id, col(CourseMember.role).in_(sorted(STAFF_ROLES)))
            .order_by(col(User.id))
        )
    )


def _reviewers_by_group(session: Session, *, milestone_id: int) -> dict[int, set[int]]:
    # An assignment is of a group's work for the milestone: one made on an earlier version still
    # holds for the graded one (the queue shows the graded version), so count it by group.
    assigned: dict[int, set[int]] = defaultdict(set)
    for reviewer_id, group_id in session.exec(
        select(ReviewAssignment.reviewer_id, Submission.group_id)
        .join(Submission, col(Submission.id) == col(ReviewAssignment.submission_id))
        .where(ReviewAssignment.milestone_id == milestone_id)
    ):
        assigned[group_id].add(reviewer_id)
    return assigned


@dataclass(frozen=True)
class AssignmentResult:
    """New assignments and each staff member's load for the milestone."""

    milestone: Milestone
    reviewers_per_submission: int
    created: list[ReviewAssignment]
    group_of: dict[int, int]
    loads: list[tuple[User, int]]


def assignments_create(
    session: Session, *, user: User, course_id: int, key: str, reviewers_per_submission: int, now: datetime
) -> AssignmentResult:
    """Assign each graded version to distinct staff, least-loaded first (then lowest id); keeps existing ones.

    Deterministic: graded versions in group id order, ties between equally loaded reviewers go to
    the lower user id, so loads differ by at most one when starting from none.
    """
    access = course_for(session, course_id=course_id, user=user, roles=frozenset({LECTURER}))
    milestone = milestone_for(session, course_id=course_id, key=key)
    staff = course_staff(session, course_id=course_id)
    if reviewers_per_submission > len(staff):
        raise InvalidInput(ERR_TOO_MANY_REVIEWERS.format(staff=len(staff)), field="reviewers_per_submission")
    graded = graded_versions(session, course=access.course, milestone=milestone)
    assigned = _reviewers_by_group(session, milestone_id=milestone.id or 0)
    load = {u.id or 0: 0 for u in staff}
    for group_id in graded:
        for reviewer_id in assigned[group_id] & load.keys():
            load[reviewer_id] += 1
    created: list[ReviewAssignment] = []
    group_of: dict[int, int] = {}
    for group_id in sorted(graded):
        submission_id = graded[group_id].submission.id or 0
        group_of[submission_id] = group_id
        have = {r for r in assigned[group_id] if r in load}
        candidates = sorted((load[r], r) for r in load if r not in have)
        for _, reviewer_id in candidates[: max(0, reviewers_per_submission - len(have))]:
            assignment = ReviewAssignment(
                milestone_id=milestone.id or 0, submission_id=submission_id, reviewer_id=reviewer_id, created_at=now
            )
            session.add(assignment)
            created.append(assignment)
            load[reviewer_id] += 1
    session.flush()
    if created:
        pairs = [[a.submission_id, a.reviewer_id] for a in created]
        after: dict[str, Any] = {"reviewers_per_submission": reviewers_per_submission, "assignments": pairs}
        _assign_audit(session, user=user, milestone=milestone, now=now, after=after)
    return AssignmentResult(
        milestone=milestone,
        reviewers_per_submission=reviewers_per_submission,
        created=created,
        group_of=group_of,
        loads=[(u, load[u.id or 0]) for u in staff],
    )


def assignment_add(
    session: Session, *, user: User, course_id: int, key: str, group_id: int, reviewer_id: int, now: datetime
) -> ReviewAssignment:
    """Assign one reviewer to a group's graded version by hand (lecturer); assigning twice changes nothing."""
    access = course_for(session, course_id=course_id, user=user, roles=frozenset({LECTURER}))
    milestone = milestone_for(session, course_id=course_id, key=key)
    if reviewer_id not in {u.id for u in course_staff(session, course_id=course_id)}:
        raise InvalidInput(ERR_NOT_STAFF_REVIEWER, field="reviewer_id")
    graded = graded_versions(session, course=access.course, milestone=milestone, group_ids=[group_id]).get(group_id)
    if graded is None:
        raise Conflict(ERR_NOTHING_TO_REVIEW)
    existing = session.exec(
        select(ReviewAssignment)
        .join(Submission, col(Submission.id) == col(ReviewAssignment.submission_id))
        .where(
            ReviewAssignment.milestone_id == milestone.id,
            ReviewAssignment.reviewer_id == reviewer_id,
            Submission.group_id == group_id,
        )
    ).first()
    if existing is not None:
        return existing
    assignment = ReviewAssignment(
        milestone_id=milestone.id or 0, submission_id=graded.submission.id or 0, reviewer_id=reviewer_id, created_at=now
    )
    session.add(assignment)
    session.flush()
    after = {"by_hand": True, "assignments": [[assignment.submission_id, reviewer_id]]}
    _assign_audit(session, user=user, milestone=milestone, now=now, after=after)
    return assignment


def _assign_audit(session: Session, *, user: User, milestone: Milestone, now: datetime, after: dict[str, Any]) -> None:
    audit_record(
        session,
        at=now,
        actor=user,
        action="review.assign",
        entity="milestone",
        entity_id=milestone.id,
        course_id=milestone.course_id,
        after=after,
    )


@dataclass(frozen=True)
class QueueEntry:
    """One assignment in a reviewer's queue and the reviewer's review of it, if any."""

    assignment: ReviewAssignment
    milestone: Milestone
    group: ProjectGroup
    submission: Submission
    review: Review | None


def review_queue(session: Session, *, user: User, course_id: int | None = None) -> list[QueueEntry]:
    """The caller's assigned group milestones at their graded version, with their own review of it when done.

    An assignment made on a version that is no longer the graded one (the group uploaded again, or
    staff pinned another) stands for the graded version: that is the one the caller can review.
    Only courses the caller is staff of; a few queries per milestone, whatever the number of groups.
    """
    statement = (
        select(ReviewAssignment, Milestone, ProjectGroup)
        .join(Milestone, col(Milestone.id) == col(ReviewAssignment.milestone_id))
        .join(Submission, col(Submission.id) == col(ReviewAssignment.submission_id))
        .join(ProjectGroup, col(ProjectGroup.id) == col(Submission.group_id))
        .where(ReviewAssignment.reviewer_id == user.id)
        .order_by(col(Milestone.course_id), col(Milestone.week), col(ProjectGroup.id), col(ReviewAssignment.id))
    )
    if course_id is not None:
        statement = statement.where(Milestone.course_id == course_id)
    rows = list(session.exec(statement))
    staff_of = {
        c for c in {m.course_id for _, m, _ in rows} if course_role(session, course_id=c, user=user) in STAFF_ROLES
    }
    rows = [(a, m, g) for a, m, g in rows if m.course_id in staff_of]
    groups_of: dict[int, set[int]] = defaultdict(set)
    milestones: dict[int, Milestone] = {}
    for _, m, g in rows:
        groups_of[m.id or 0].add(g.id or 0)
        milestones[m.id or 0] = m
    graded: dict[tuple[int, int], Submission] = {}
    for milestone_id, group_ids in groups_of.items():
        m = milestones[milestone_id]
        course = session.get(Course, m.course_id)
        assert course is not None
        for group_id, gv in graded_versions(session, course=course, milestone=m, group_ids=group_ids).items():
            graded[(milestone_id, group_id)] = gv.submission
    graded_ids = sorted({s.id or 0 for s in graded.values()})
    mine = (
        {
            r.submission_id: r
            for r in session.exec(
                select(Review).where(Review.reviewer_id == user.id, col(Review.submission_id).in_(graded_ids))
            )
        }
        if graded_ids
        else {}
    )
    entries: list[QueueEntry] = []
    seen: set[tuple[int, int]] = set()
    for a, m, g in rows:
        key = (m.id or 0, g.id or 0)
        if key in seen:  # assigned on two versions of the same work: one entry
            continue
        seen.add(key)
        submission = graded[key]
        entries.append(
            QueueEntry(assignment=a, milestone=m, group=g, submission=submission, review=mine.get(submission.id or 0))
        )
    return entries
