"""Courses, their settings, and who takes part in them in which role."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class Course(SQLModel, table=True):
    """A course run with its per-course rules (SPEC.md defaults)."""

    __table_args__ = (CheckConstraint("min_group_size >= 1 AND min_group_size <= max_group_size", name="group_size"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    title: str = Field(max_length=200)
    start_date: date
    weeks: int = 16
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    min_group_size: int = 3
    max_group_size: int = 5
    # Ordered list of {"max_hours": float | None, "multiplier": float}; None = unbounded.
    late_tiers: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    grace_seconds: int = 0
    presentation_slots: int = 10
    required_reviews: int = 1
    assignment_share: float = 40.0  # percent of the course mark outside the project
    # ruleset -> list of section keys; section key -> list of synonyms.
    required_sections: dict[str, list[str]] = Field(sa_column=Column(JSONType, nullable=False))
    section_synonyms: dict[str, list[str]] = Field(sa_column=Column(JSONType, nullable=False))
    formation_locked: bool = False
    # Quotas per group: versions kept per milestone, and bytes stored over all its versions.
    max_versions_per_milestone: int = 20
    max_group_storage_mb: int = 200
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CourseMember(SQLModel, table=True):
    """A user's role in one course: lecturer, ta or student."""

    __tablename__ = "course_member"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id"),
        CheckConstraint("role IN ('lecturer', 'ta', 'student')", name="role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=10)
