"""Response models for marks."""

from datetime import datetime

from pydantic import BaseModel


class ReleasePublic(BaseModel):
    """A milestone whose marks are released."""

    milestone: str
    marks_released_at: datetime


class MilestoneMarkPublic(BaseModel):
    """A student's result for one released milestone (score and multiplier null when nothing was submitted)."""

    key: str
    title: str
    score: float | None
    multiplier: float | None
    mark: float | None


class MyMarksPublic(BaseModel):
    """A student's released marks; project and course marks only once every milestone is released."""

    course_id: int
    milestones: list[MilestoneMarkPublic]
    project_mark: float | None
    assignment_mark: float | None
    course_mark: float | None


class ImportPublic(BaseModel):
    """How many assignment marks were imported."""

    imported: int
