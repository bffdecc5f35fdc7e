"""Enrolment invitations: a course's roster line waiting for its person to activate or accept."""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime


class CourseInvitation(SQLModel, table=True):
    """A non-admin import's line for someone who is not yet a member: they join only by their own act.

    `student_no`, `name` and `email` are the line as the importer wrote it, so staff see only what they
    typed, never the account it reached. Declining or expiry leaves no membership.
    """

    __tablename__ = "course_invitation"
    __table_args__ = (CheckConstraint("role IN ('student', 'ta')", name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=10)
    student_no: str = Field(max_length=40)
    name: str = Field(default="", max_length=200)
    email: str = Field(max_length=254)
    invited_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    declined_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
