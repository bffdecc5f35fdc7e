"""Request and response models for milestones and extensions."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.inputs import Instant, StrictInput

__all__ = ["Instant"]


class MilestonePublic(BaseModel):
    """A milestone with its deadline instant (course time zone) and its rules."""

    key: str
    title: str
    week: int
    weight: float
    ruleset: str
    page_limit: int | None
    errors_block: bool
    requires_approved_topic: bool
    due_at: datetime
    due_at_is_default: bool


class MilestoneUpdate(StrictInput):
    """A lecturer's change of a deadline or rule; `due_at: null` returns to the week's Sunday 23:59."""

    due_at: Instant | None = None
    errors_block: bool = Field(default=None)  # type: ignore[assignment]  # absent: unchanged; null is refused
    page_limit: int | None = Field(default=None, ge=1, le=100)


class ExtensionIn(StrictInput):
    """A later deadline for one group and milestone, with the reason it was granted."""

    milestone: str = Field(min_length=1, max_length=20)
    due_at: Instant
    reason: str = Field(min_length=1, max_length=2000)


class ExtensionPublic(BaseModel):
    """An extension granted to a group."""

    group_id: int
    milestone: str
    due_at: datetime
    reason: str
    granted_by: int | None
    created_at: datetime


class CalendarFeedPublic(BaseModel):
    """The caller's calendar-feed URL: a secret, header-free address for calendar apps to subscribe to."""

    url: str
