"""Rubric, review, assignment and review-queue endpoints."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.access import MAX_ROW_ID
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.reviews import service
from app.reviews.presenters import review_public, reviews_public
from app.reviews.schemas import (
    AssignmentPublic,
    AssignmentsIn,
    AssignmentsPublic,
    Criterion,
    QueueItem,
    ReviewerLoad,
    ReviewIn,
    ReviewPublic,
    RubricIn,
    RubricPublic,
    SubmissionReviewsPublic,
)

router = APIRouter(tags=["reviews"], route_class=TransactionRoute)


@router.put("/courses/{course_id}/milestones/{key}/rubric")
def set_rubric(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, key: str, body: RubricIn
) -> RubricPublic:
    """Set a milestone's rubric (lecturer); refused once it has reviews."""
    milestone = service.rubric_set(
        session, user=user, course_id=course_id, key=key, criteria=body.criteria, now=clock()
    )
    return RubricPublic(milestone=milestone.key, criteria=[Criterion(**c) for c in milestone.rubric])


@router.post("/submissions/{submission_id}/reviews")
def upsert_review(
    session: SessionDep, clock: ClockDep, user: CurrentUser, submission_id: int, body: ReviewIn, response: Response
) -> ReviewPublic:
    """Score a graded version (staff): points per criterion or a 0-100 score; one review per reviewer, updatable."""
    review, created = service.review_upsert(session, user=user, submission_id=submission_id, data=body, now=clock())
    view = service.review_list(session, user=user, submission_id=submission_id)
    row = next(r for r in view.rows if r.review.id == review.id)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return review_public(row, view)


@router.get("/submissions/{submission_id}/reviews")
def list_reviews(session: SessionDep, user: CurrentUser, submission_id: int) -> SubmissionReviewsPublic:
    """The reviews of the group's work for this milestone (staff; members once marks are released)."""
    return reviews_public(service.review_list(session, user=user, submission_id=submission_id))


@router.post("/courses/{course_id}/milestones/{key}/assignments", status_code=status.HTTP_201_CREATED)
def assign_reviewers(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, key: str, body: AssignmentsIn
) -> AssignmentsPublic:
    """Spread the milestone's graded versions over the course staff (lecturer); re-running adds only what is missing."""
    result = service.assignments_create(
        session,
        user=user,
        course_id=course_id,
        key=key,
        reviewers_per_submission=body.reviewers_per_submission,
        now=clock(),
    )
    return AssignmentsPublic(
        milestone=result.milestone.key,
        reviewers_per_submission=result.reviewers_per_submission,
        created=[
            AssignmentPublic(
                submission_id=a.submission_id, group_id=result.group_of[a.submission_id], reviewer_id=a.reviewer_id
            )
            for a in result.created
        ],
        loads=[ReviewerLoad(reviewer_id=u.id or 0, name=u.name, assigned=n) for u, n in result.loads],
    )


@router.get("/me/reviews")
def my_review_queue(
    session: SessionDep,
    user: CurrentUser,
    course_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[QueueItem]:
    """The caller's review queue: assigned submissions and whether each is reviewed."""
    return [
        QueueItem(
            assignment_id=e.assignment.id or 0,
            course_id=e.milestone.course_id,
            milestone=e.milestone.key,
            group_id=e.group.id or 0,
            group_name=e.group.name,
            submission_id=e.submission.id or 0,
            version=e.submission.version,
            received_at=e.submission.received_at,
            done=e.review is not None,
            score=e.review.score if e.review else None,
        )
        for e in service.review_queue(session, user=user, course_id=course_id)
    ]
