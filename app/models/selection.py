"""Runs of the presentation selection, their overrides, and imported assignment marks."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class SelectionRun(SQLModel, table=True):
    """One run of the selection with its inputs and full ranking; frozen once published.

    At most one run per course is `published` (in force); publishing another names it in
    `supersedes_id`, which turns it `superseded` (its ranking and deliverables never change).
    """

    __tablename__ = "selection_run"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'superseded')", name="status"),
        # One run in force per course, enforced by the database even if two publishes race.
        Index(
            "uq_selection_run_in_force",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    slots: int
    normalise: bool = False
    forced: bool = False
    status: str = Field(default="draft", max_length=10)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    published_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    supersedes_id: int | None = Field(default=None, foreign_key="selection_run.id", ondelete="SET NULL")
    supersede_reason: str | None = Field(default=None, max_length=2000)
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The groups whose week-16 deliverable this run's publication changed, and whether it was forced past the deadline.
    changed_groups: list[int] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    forced_past_deadline: bool = False
    # The reviews the run was computed from, and the ranking rows it produced.
    inputs: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    ranking: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))


class SelectionOverride(SQLModel, table=True):
    """A lecturer's swap of one group into, and one out of, the presenting set."""

    __tablename__ = "selection_override"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="selection_run.id", index=True, ondelete="CASCADE")
    add_group_id: int | None = Field(default=None, foreign_key="project_group.id", ondelete="CASCADE")
    remove_group_id: int | None = Field(default=None, foreign_key="project_group.id", ondelete="CASCADE")
    reason: str = Field(max_length=2000)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AssignmentMark(SQLModel, table=True):
    """A student's mark for the individual assignments, imported from elsewhere."""

    __tablename__ = "assignment_mark"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    mark: float
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
