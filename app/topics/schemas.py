"""Request and response models for topics."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.inputs import StrictInput, line

Area = Literal["computer vision", "nlp", "reinforcement learning", "recommender systems", "other"]


class TopicProposal(StrictInput):
    """A group's topic proposal in one of the areas."""

    title: line(200)  # type: ignore[valid-type]
    area: Area
    summary: str = Field(default="", max_length=5000)


class TopicDecision(StrictInput):
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
