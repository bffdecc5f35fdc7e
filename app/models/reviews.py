"""Staff reviews of submissions and the assignment of submissions to reviewers."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class Review(SQLModel, table=True):
    """One reviewer's points for one submission; `score` is scaled to 0-100."""

    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    points: dict[str, float] = Field(sa_column=Column(JSONType, nullable=False))
    score: float
    comment: str = Field(default="", max_length=20000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReviewAssignment(SQLModel, table=True):
    """A submission placed in a reviewer's queue."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True, ondelete="CASCADE")
    submission_id: int = Field(foreign_key="submission.id", index=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
