"""Request and response models for rubrics, reviews, assignments and the review queue."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, Strict

from app.inputs import StrictInput, line


class Criterion(StrictInput):
    """One rubric criterion: points from 0 to `max_points`."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    label: line(200)  # type: ignore[valid-type]
    max_points: float = Field(gt=0, le=1000)


class RubricIn(StrictInput):
    """A milestone's rubric: at least one criterion, keys unique."""

    criteria: list[Criterion] = Field(min_length=1, max_length=50)


class RubricPublic(BaseModel):
    """A milestone's rubric."""

    milestone: str
    criteria: list[Criterion]


class ReviewIn(StrictInput):
    """Points per criterion, or (single "overall" criterion only) a score from 0 to 100; and a comment."""

    # Strict: JSON numbers only (integers too); true/false or "80" are a client's mistake, not points.
    points: dict[Annotated[str, Field(max_length=40)], Annotated[float, Strict()]] | None = Field(
        default=None, max_length=50
    )
    score: Annotated[float, Strict()] | None = None
    comment: str = Field(default="", max_length=20000)


class ReviewPublic(BaseModel):
    """One review; `of_version` is the version reviewed, `current` whether it is still the graded one.

    Students see no reviewer (reviewer_id and reviewer_name are null).
    """

    id: int
    submission_id: int
    of_version: int
    current: bool
    group_id: int
    milestone: str
    reviewer_id: int | None
    reviewer_name: str | None
    points: dict[str, float]
    score: float
    comment: str
    created_at: datetime
    updated_at: datetime


class StatsPublic(BaseModel):
    """Aggregate of the graded version's reviews (population standard deviation)."""

    count: int
    mean: float | None
    median: float | None
    stdev: float | None
    min: float | None
    max: float | None


class SubmissionReviewsPublic(BaseModel):
    """The reviews of a group's milestone work: every version's, with the graded version's statistics."""

    group_id: int
    milestone: str
    graded_submission_id: int | None
    graded_version: int | None
    stats: StatsPublic
    reviews: list[ReviewPublic]


class AssignmentsIn(StrictInput):
    """How many distinct reviewers each graded version gets."""

    reviewers_per_submission: int = Field(ge=1, le=50)


class AssignmentPublic(BaseModel):
    """One submission placed in one reviewer's queue."""

    submission_id: int
    group_id: int
    reviewer_id: int


class ReviewerLoad(BaseModel):
    """How many of the milestone's graded versions a reviewer is assigned."""

    reviewer_id: int
    name: str
    assigned: int


class AssignmentsPublic(BaseModel):
    """The result of an assignment run: what was added and every reviewer's load."""

    milestone: str
    reviewers_per_submission: int
    created: list[AssignmentPublic]
    loads: list[ReviewerLoad]


class QueueItem(BaseModel):
    """One entry of a reviewer's queue."""

    assignment_id: int
    course_id: int
    milestone: str
    group_id: int
    group_name: str
    submission_id: int
    version: int
    received_at: datetime
    done: bool
    score: float | None
