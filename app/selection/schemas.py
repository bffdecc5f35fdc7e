"""Request and response models for the presentation selection."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app.inputs import RowId, StrictInput


class SelectionIn(StrictInput):
    """Run options: slots (default: the course's), per-reviewer normalisation, and force past missing reviews."""

    slots: int | None = Field(default=None, ge=0, le=1000)
    normalise: bool = False
    force: bool = False


class OverrideIn(StrictInput):
    """Swap one group into the presenting set and one out, with a written reason."""

    add_group_id: RowId
    remove_group_id: RowId
    reason: str = Field(min_length=1, max_length=2000)


class PublishIn(BaseModel):
    """Publishing options: the run in force this one replaces, why, and force past the week-16 deadline."""

    model_config = ConfigDict(extra="forbid")

    supersedes: StrictInt | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The id of the run in force; required when one is."
    )
    reason: str = Field(default="", max_length=2000, description="Required when superseding or forcing.")
    force: StrictBool = Field(default=False, description="Change deliverables after the week-16 deadline.")


class RankingRowPublic(BaseModel):
    """One place of a run's ranking; `presenting` includes overrides, `overridden` says an override changed it."""

    rank: int | None
    group_id: int
    group_name: str
    score: float | None
    median: float | None
    reviews: int
    received_at: datetime | None
    tie_break: str
    presenting: bool
    overridden: bool


class OverridePublic(BaseModel):
    """A lecturer's swap."""

    id: int
    add_group_id: int | None
    remove_group_id: int | None
    reason: str
    created_by: int | None
    created_at: datetime


class SelectionPublic(BaseModel):
    """A selection run with its inputs, full ranking and overrides."""

    id: int
    course_id: int
    status: str
    slots: int
    normalise: bool
    forced: bool
    created_by: int | None
    created_at: datetime
    published_by: int | None
    published_at: datetime | None
    in_force: bool
    supersedes_id: int | None
    supersede_reason: str | None
    superseded_at: datetime | None
    changed_groups: list[int] | None
    forced_past_deadline: bool
    presenting: list[int]
    ranking: list[RankingRowPublic]
    overrides: list[OverridePublic]
    inputs: dict[str, Any]
