"""Rubrics, reviews and their aggregation per milestone: the rules (assignment and queues live in `assignments`)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from app.access import LECTURER, course_for, group_for, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.milestones.service import milestone_for
from app.models import (
    Course,
    Milestone,
    ProjectGroup,
    Review,
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
