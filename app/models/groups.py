"""Project groups, their membership history and their topic."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime


class ProjectGroup(SQLModel, table=True):
    """A group of students of one course; `deliverable` is fixed by a published selection."""

    __tablename__ = "project_group"
    __table_args__ = (
        UniqueConstraint("course_id", "name"),
        CheckConstraint("deliverable IS NULL OR deliverable IN ('slides', 'poster')", name="deliverable"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    join_code: str = Field(max_length=16, unique=True)
    deliverable: str | None = Field(default=None, max_length=10)
    # Set when a superseding selection changed the deliverable after the group had uploaded
    # week-16 work; cleared by its next week-16 upload.
    deliverable_changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class GroupMembership(SQLModel, table=True):
    """A stretch of time a student spent in a group; `left_at` is null while current."""

    __tablename__ = "group_membership"
    __table_args__ = (
        # At most one current group per student and course, enforced by the database.
        Index(
            "uq_group_membership_current",
            "course_id",
            "user_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="project_group.id", index=True, ondelete="CASCADE")
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    joined_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Topic(SQLModel, table=True):
    """A group's project topic and the staff decision on it."""

    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
        CheckConstraint(
            "area IN ('computer vision', 'nlp', 'reinforcement learning', 'recommender systems', 'other')",
            name="area",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="project_group.id", unique=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    area: str = Field(max_length=40)
    summary: str = Field(default="", max_length=5000)
    status: str = Field(default="proposed", max_length=10)
    decision_comment: str | None = Field(default=None, max_length=5000)
    decided_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
