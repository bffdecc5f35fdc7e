"""Request and response models for courses."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

# Upper bounds that keep every figure computable: lateness is timedelta arithmetic, which overflows
# (a 500 on every later read) for absurd values, and the columns are 32-bit integers on PostgreSQL.
MAX_LATE_HOURS = 24 * 366
MAX_GRACE_SECONDS = 7 * 24 * 3600


class LateTier(BaseModel):
    """Lateness up to `max_hours` (None: any) multiplies the mark by `multiplier`."""

    max_hours: float | None = Field(default=None, gt=0, le=MAX_LATE_HOURS)
    multiplier: float = Field(ge=0, le=1)


class MilestoneSettings(BaseModel):
    """The settings of one milestone at course creation or in a course PATCH."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,19}$")
    title: str | None = Field(default=None, max_length=120)
    week: int | None = Field(default=None, ge=1)
    weight: float | None = Field(default=None, ge=0, le=100)


class CourseSettings(BaseModel):
    """Every per-course rule; all optional so that a PATCH can change any subset."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    start_date: date | None = None
    weeks: int | None = Field(default=None, ge=1, le=52)
    timezone: str | None = Field(default=None, max_length=64)
    min_group_size: int | None = Field(default=None, ge=1, le=50)
    max_group_size: int | None = Field(default=None, ge=1, le=50)
    late_tiers: list[LateTier] | None = Field(default=None, min_length=1)
    grace_seconds: int | None = Field(default=None, ge=0, le=MAX_GRACE_SECONDS)
    presentation_slots: int | None = Field(default=None, ge=0, le=1000)
    required_reviews: int | None = Field(default=None, ge=0, le=100)
    assignment_share: float | None = Field(default=None, ge=0, le=100)
    required_sections: dict[str, list[str]] | None = None
    section_synonyms: dict[str, list[str]] | None = None
    formation_locked: bool | None = None
    milestones: list[MilestoneSettings] | None = None


class CourseCreate(CourseSettings):
    """A new course: a unique code and a start date; everything else defaults to SPEC.md."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    title: str = Field(min_length=1, max_length=200)
    start_date: date


class MilestoneBrief(BaseModel):
    """A milestone as listed with its course."""

    key: str
    title: str
    week: int
    weight: float
    due_at: datetime


class CoursePublic(BaseModel):
    """A course with all its settings."""

    id: int
    code: str
    title: str
    start_date: date
    weeks: int
    timezone: str
    min_group_size: int
    max_group_size: int
    late_tiers: list[LateTier]
    grace_seconds: int
    presentation_slots: int
    required_reviews: int
    assignment_share: float
    required_sections: dict[str, list[str]]
    section_synonyms: dict[str, list[str]]
    formation_locked: bool
    milestones: list[MilestoneBrief]
    my_role: str
