"""Milestones of a course and per-group deadline extensions."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class Milestone(SQLModel, table=True):
    """A graded deliverable due in a week of the course (proposal, report, final)."""

    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=20)
    title: str = Field(max_length=120)
    week: int
    weight: float  # percent of the project mark
    ruleset: str = Field(max_length=20)  # format-check rule set; "final" resolves per group
    page_limit: int | None = None
    # An explicit deadline instant set by the lecturer; otherwise Sunday 23:59 of `week`.
    due_at_override: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    errors_block: bool = False
    requires_approved_topic: bool = False
    # List of {"key": str, "label": str, "max_points": float}.
    rubric: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    marks_released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Extension(SQLModel, table=True):
    """A later deadline granted to one group for one milestone."""

    __table_args__ = (UniqueConstraint("group_id", "milestone_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="project_group.id", index=True, ondelete="CASCADE")
    milestone_id: int = Field(foreign_key="milestone.id", index=True, ondelete="CASCADE")
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(max_length=2000)
    granted_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
