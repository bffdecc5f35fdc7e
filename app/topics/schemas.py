"""Request and response models for topics."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class TopicProposal(BaseModel):
    """A group's topic proposal; `area` is one of AREAS (case-insensitive)."""

    title: str = Field(min_length=1, max_length=200)
    area: str = Field(min_length=1, max_length=40)
    summary: str = Field(default="", max_length=5000)


class TopicDecision(BaseModel):
    """Staff's decision on a proposed topic; a rejection needs a comment."""

    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=5000)


class TopicPublic(BaseModel):
    """A group's topic and the decision on it."""

    group_id: int
    title: str
    area: str
    summary: str
    status: str
    decision_comment: str | None
    decided_by: int | None
    decided_at: datetime | None
    updated_at: datetime
