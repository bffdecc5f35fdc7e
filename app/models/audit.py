"""The audit log: who changed what, when, from what to what."""

from datetime import datetime
from typing import Any

from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One state change; `before` and `after` hold the values that matter."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
