"""Rubrics, reviews, reviewer assignment and aggregation: the rules."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, course_for, course_role, group_for, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.milestones.service import milestone_for
from app.models import (
    Course,
    CourseMember,
    Milestone,
    ProjectGroup,
    Review,
    ReviewAssignment,
    Submission,
    User,
)
from app.reviews.aggregate import ReviewStats, normalise_scores, stats_of
from app.reviews.schemas import Criterion, ReviewIn
from app.submissions.grading import GradedVersion, graded_versions

OVERALL = "overall"
ERR_NO_SUBMISSION = "No such submission."
ERR_STAFF_REVIEW = "Only the course's staff review submissions."
ERR_RUBRIC_DUPLICATE = "Rubric criterion keys must be unique."
ERR_RUBRIC_REVIEWED = "The rubric cannot change once the milestone has reviews."
ERR_RELEASED = "The milestone's marks are released; its reviews can no longer change."
ERR_NOT_GRADED = "Only the graded version of a group's work can be reviewed."
ERR_POINTS_OR_SCORE = "Give either points per criterion or a score, not both and not neither."
ERR_SCORE_NEEDS_OVERALL = "A plain score is accepted only when the rubric is the single 'overall' criterion."
ERR_NOT_RELEASED = "Reviews are shown once the milestone's marks are released."
ERR_TOO_MANY_REVIEWERS = "reviewers_per_submission exceeds the course's {staff} staff members."


def rubric_set(
    session: Session, *, user: User, course_id: int, key: str, criteria: list[Criterion], now: datetime
) -> Milestone:
    """Replace a milestone's rubric (lecturer); refused once the milestone has reviews."""
    course_for(session, course_id=course_id, user=user, roles=frozenset({LECTURER}))
    milestone = milestone_for(session, course_id=course_id, key=key)
    keys = [c.key for c in criteria]
    if len(set(keys)) != len(keys):
        raise InvalidInput(ERR_RUBRIC_DUPLICATE, field="criteria")
    new = [c.model_dump() for c in criteria]
    if new == milestone.rubric:
        return milestone
    reviewed = session.exec(
        select(Review.id)
        .join(Submission, col(Submission.id) == col(Review.submission_id))
        .where(Submission.milestone_id == milestone.id)
        .limit(1)
    ).first()
    if reviewed is not None:
        raise Conflict(ERR_RUBRIC_REVIEWED)
    before = milestone.rubric
    milestone.rubric = new
    session.add(milestone)
    audit_record(
        session,
        at=now,
        actor=user,
        action="milestone.rubric",
        entity="milestone",
        entity_id=milestone.id,
        course_id=course_id,
        before={"rubric": before},
        after={"rubric": new},
    )
    return milestone


def review_points(rubric: list[dict[str, Any]], data: ReviewIn) -> tuple[dict[str, float], float]:
    """Validate points against the rubric; the points and the score (sum over sum of maxima, × 100)."""
    if (data.points is None) == (data.score is None):
        raise InvalidInput(ERR_POINTS_OR_SCORE, field="points")
    if data.score is not None:
        if len(rubric) != 1 or rubric[0]["key"] != OVERALL:
            raise InvalidInput(ERR_SCORE_NEEDS_OVERALL, field="score")
        if not 0 <= data.score <= 100:
            raise InvalidInput("score must be from 0 to 100.", field="score")
        # Scaled exactly, rounded once: 100 gives the maximum itself, and a maximum of 100 the score itself.
        points = {OVERALL: float(Fraction(data.score) * Fraction(float(rubric[0]["max_points"])) / 100)}
    else:
        points = dict(data.points or {})
    bounds = {c["key"]: float(c["max_points"]) for c in rubric}
    for name in points:
        if name not in bounds:
            raise InvalidInput(f"Unknown criterion {name!r}.", field=f"points.{name}")
    for name, top in bounds.items():
        if name not in points:
            raise InvalidInput(f"Criterion {name!r} has no points.", field=f"points.{name}")
        if not 0 <= points[name] <= top:
            raise InvalidInput(f"Criterion {name!r} takes 0 to {top:g} points.", field=f"points.{name}")
    # A plain score is kept as given; points are scaled exactly, then rounded once to a float
    # (in floats, 1.7 / 100 * 100 is 1.7000000000000002).
    if data.score is not None:
        return points, data.score
    scaled = sum(map(Fraction, points.values())) * 100 / sum(map(Fraction, bounds.values()))
    return points, float(scaled)


@dataclass(frozen=True)
class SubmissionContext:
    """A submission with its group, course, milestone and the caller's standing."""

    submission: Submission
    group: ProjectGroup
    course: Course
    milestone: Milestone
    is_staff: bool


def submission_for(session: Session, *, user: User, submission_id: int, members: bool) -> SubmissionContext:
    """The submission if the caller is staff of its course (or, when `members`, a current member); else NotFound."""
    submission = session.get(Submission, submission_id) if is_row_id(submission_id) else None
    if submission is None:
        raise NotFound(ERR_NO_SUBMISSION)
    try:
        access = group_for(session, group_id=submission.group_id, user=user, members=members, staff=True)
    except NotFound:
        raise NotFound(ERR_NO_SUBMISSION) from None
    except Forbidden:
        raise Forbidden(ERR_STAFF_REVIEW) from None
    milestone = session.get(Milestone, submission.milestone_id)
    assert milestone is not None
    return SubmissionContext(
        submission=submission, group=access.group, course=access.course, milestone=milestone, is_staff=access.is_staff
    )


def _review_snapshot(review: Review) -> dict[str, Any]:
    return {
        "submission_id": review.submission_id,
        "points": review.points,
        "score": review.score,
        "comment": review.comment,
    }


def review_upsert(
    session: Session, *, user: User, submission_id: int, data: ReviewIn, now: datetime
) -> tuple[Review, bool]:
    """Create or update the caller's review of a graded version (staff); returns it and whether it is new."""
    ctx = submission_for(session, user=user, submission_id=submission_id, members=False)
    if ctx.milestone.marks_released_at is not None:
        raise Conflict(ERR_RELEASED)
    graded = graded_versions(session, course=ctx.course, milestone=ctx.milestone, group_ids=[ctx.group.id or 0])
    if graded[ctx.group.id or 0].submission.id != submission_id:
        raise Conflict(ERR_NOT_GRADED)
    points, score = review_points(ctx.milestone.rubric, data)
    review = session.exec(
        select(Review).where(Review.submission_id == submission_id, Review.reviewer_id == user.id)
    ).first()
    created = review is None
    before = None if review is None else _review_snapshot(review)
    if review is None:
        review = Review(
            submission_id=submission_id,
            reviewer_id=user.id or 0,
            points=points,
            score=score,
            comment=data.comment,
            created_at=now,
            updated_at=now,
        )
    else:
        review.points, review.score, review.comment, review.updated_at = points, score, data.comment, now
    session.add(review)
    session.flush()
    after = _review_snapshot(review)
    if before != after:
        audit_record(
            session,
            at=now,
            actor=user,
            action="review.create" if created else "review.update",
            entity="review",
            entity_id=review.id,
            course_id=ctx.course.id,
            before=before,
            after=after,
        )
    return review, created


@dataclass(frozen=True)
class ReviewRow:
    """A review with the version it is of and its reviewer's name."""

    review: Review
    version: int
    reviewer_name: str


@dataclass(frozen=True)
class SubmissionReviews:
    """Every review of a group's work for one milestone, and the graded version's statistics."""

    group_id: int
    milestone: Milestone
    graded: GradedVersion | None
    stats: ReviewStats
    rows: list[ReviewRow]
    show_reviewers: bool


def review_list(session: Session, *, user: User, submission_id: int) -> SubmissionReviews:
    """The reviews of the submission's group and milestone (staff: always; members: once marks are released)."""
    ctx = submission_for(session, user=user, submission_id=submission_id, members=True)
    if not ctx.is_staff and ctx.milestone.marks_released_at is None:
        raise NotFound(ERR_NOT_RELEASED)
    group_id = ctx.group.id or 0
    graded = graded_versions(session, course=ctx.course, milestone=ctx.milestone, group_ids=[group_id]).get(group_id)
    rows = session.exec(
        select(Review, Submission.version, User.name)
        .join(Submission, col(Submission.id) == col(Review.submission_id))
        .join(User, col(User.id) == col(Review.reviewer_id))
        .where(Submission.group_id == group_id, Submission.milestone_id == ctx.milestone.id)
        .order_by(col(Submission.version).desc(), col(Review.reviewer_id))
    ).all()
    current = [r.score for r, _, _ in rows if graded and r.submission_id == graded.submission.id]
    return SubmissionReviews(
        group_id=group_id,
        milestone=ctx.milestone,
        graded=graded,
        stats=stats_of(current),
        rows=[ReviewRow(review=r, version=v, reviewer_name=n) for r, v, n in rows],
        show_reviewers=ctx.is_staff,
    )


def review_stats(session: Session, *, submission_ids: Iterable[int]) -> dict[int, ReviewStats]:
    """Per submission id: count, mean, median, population stdev, min and max of its reviews (one query)."""
    ids = list(submission_ids)
    scores: dict[int, list[float]] = {i: [] for i in ids}
    if ids:
        for submission_id, score in session.exec(
            select(Review.submission_id, Review.score).where(col(Review.submission_id).in_(ids))
        ):
            scores[submission_id].append(score)
    return {i: stats_of(s) for i, s in scores.items()}


@dataclass(frozen=True)
class GroupScores:
    """A group's graded version for a milestone and the scores of its reviews (normalised when asked)."""

    graded: GradedVersion
    scores: list[float]  # ordered by reviewer id
    reviews: list[tuple[int, float]]  # (reviewer_id, raw score), ordered by reviewer id

    @property
    def stats(self) -> ReviewStats:
        """The aggregate of `scores`."""
        return stats_of(self.scores)


def milestone_scores(
    session: Session, *, course: Course, milestone: Milestone, normalise: bool = False
) -> dict[int, GroupScores]:
    """Per group with a graded version: its reviews' scores; four queries whatever the number of groups.

    Only reviews of the current graded versions count; with `normalise`, scores are normalised
    per reviewer over those reviews (see aggregate.normalise_scores).
    """
    graded = graded_versions(session, course=course, milestone=milestone)
    group_of = {gv.submission.id: group_id for group_id, gv in graded.items()}
    raw: list[tuple[int, int, float]] = []
    for submission_id, reviewer_id, score in session.exec(
        select(Review.submission_id, Review.reviewer_id, Review.score)
        .join(Submission, col(Submission.id) == col(Review.submission_id))
        .where(Submission.milestone_id == milestone.id)
    ):
        if submission_id in group_of:
            raw.append((reviewer_id, group_of[submission_id], score))
    raw.sort()
    adjusted = normalise_scores(raw) if normalise else {(r, g): s for r, g, s in raw}
    reviews: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for reviewer_id, group_id, score in raw:
        reviews[group_id].append((reviewer_id, score))
    return {
        group_id: GroupScores(
            graded=gv,
            scores=[adjusted[(r, group_id)] for r, _ in reviews.get(group_id, [])],
            reviews=reviews.get(group_id, []),
        )
        for group_id, gv in graded.items()
    }


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
    # An assignment is of a group's work for the milestone: one made on an earlier version still
    # holds for the graded one (the queue shows the graded version), so count it by group.
    existing = session.exec(
        select(ReviewAssignment.reviewer_id, Submission.group_id)
        .join(Submission, col(Submission.id) == col(ReviewAssignment.submission_id))
        .where(ReviewAssignment.milestone_id == milestone.id)
    ).all()
    assigned: dict[int, set[int]] = defaultdict(set)
    for reviewer_id, group_id in existing:
        assigned[group_id].add(reviewer_id)
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
        audit_record(
            session,
            at=now,
            actor=user,
            action="review.assign",
            entity="milestone",
            entity_id=milestone.id,
            course_id=course_id,
            after={
                "reviewers_per_submission": reviewers_per_submission,
                "assignments": [[a.submission_id, a.reviewer_id] for a in created],
            },
        )
    return AssignmentResult(
        milestone=milestone,
        reviewers_per_submission=reviewers_per_submission,
        created=created,
        group_of=group_of,
        loads=[(u, load[u.id or 0]) for u in staff],
    )


ERR_NOT_STAFF_REVIEWER = "The reviewer must be a TA or lecturer of the course."
ERR_NOTHING_TO_REVIEW = "This group has no version of this milestone to review yet."


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
    audit_record(
        session,
        at=now,
        actor=user,
        action="review.assign",
        entity="milestone",
        entity_id=milestone.id,
        course_id=course_id,
        after={"by_hand": True, "assignments": [[assignment.submission_id, reviewer_id]]},
    )
    return assignment


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
