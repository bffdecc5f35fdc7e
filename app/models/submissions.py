"""Uploaded versions of a group's milestone work, and the version staff pinned for grading."""

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class Submission(SQLModel, table=True):
    """One uploaded version: the file is stored under its SHA-256."""

    __table_args__ = (UniqueConstraint("group_id", "milestone_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="project_group.id", index=True, ondelete="CASCADE")
    milestone_id: int = Field(foreign_key="milestone.id", index=True, ondelete="CASCADE")
    version: int
    uploader_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    filename: str = Field(max_length=255)
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    ruleset: str = Field(max_length=20)
    verdict: str = Field(max_length=10)
    format_report: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    # When a changed week-16 deliverable makes the file's rule set out of date, the report of the
    # same file under the new rule set (the original report stays as it was at upload).
    recheck_report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    rechecked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class GradedPin(SQLModel, table=True):
    """Staff's choice of which version is graded, instead of the latest."""

    __tablename__ = "graded_pin"
    __table_args__ = (UniqueConstraint("group_id", "milestone_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="project_group.id", index=True, ondelete="CASCADE")
    milestone_id: int = Field(foreign_key="milestone.id", index=True, ondelete="CASCADE")
    submission_id: int = Field(foreign_key="submission.id", ondelete="CASCADE")
    pinned_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    pinned_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
