"""Turning the reviews service's results into the API's response schemas, for the routes and the pages."""

from app.reviews import service
from app.reviews.schemas import (
    ReviewPublic,
    StatsPublic,
    SubmissionReviewsPublic,
)


def review_public(row: service.ReviewRow, view: service.SubmissionReviews) -> ReviewPublic:
    """A review as the caller may see it."""
    r = row.review
    graded_id = view.graded.submission.id if view.graded else None
    return ReviewPublic(
        id=r.id or 0,
        submission_id=r.submission_id,
        of_version=row.version,
        current=r.submission_id == graded_id,
        group_id=view.group_id,
        milestone=view.milestone.key,
        reviewer_id=r.reviewer_id if view.show_reviewers else None,
        reviewer_name=row.reviewer_name if view.show_reviewers else None,
        points=r.points,
        score=r.score,
        comment=r.comment,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def reviews_public(view: service.SubmissionReviews) -> SubmissionReviewsPublic:
    """Every review of a group's milestone work, with the graded version's statistics."""
    return SubmissionReviewsPublic(
        group_id=view.group_id,
        milestone=view.milestone.key,
        graded_submission_id=view.graded.submission.id if view.graded else None,
        graded_version=view.graded.submission.version if view.graded else None,
        stats=StatsPublic(**vars(view.stats)),
        reviews=[review_public(row, view) for row in view.rows],
    )
