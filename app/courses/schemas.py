"""Request and response models for courses."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from app.inputs import IsoDate, StrictInput, line

# Upper bounds that keep every figure computable: lateness is timedelta arithmetic, which overflows
# (a 500 on every later read) for absurd values, and the columns are 32-bit integers on PostgreSQL.
MAX_LATE_HOURS = 24 * 366
MAX_GRACE_SECONDS = 7 * 24 * 3600


SectionKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Synonym = Annotated[str, Field(min_length=1, max_length=80)]
# The rule sets that have required sections (the poster and slide checks have none).
PaperRuleset = Literal["proposal", "report"]
MAX_SECTIONS = 30
MAX_SYNONYMS = 30
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2999, 12, 31)


def _plausible_start(value: date) -> date:
    # Far-off dates make the deadline arithmetic overflow (a 500 instead of a 422).
    if not EARLIEST_START <= value <= LATEST_START:
        raise ValueError(f"the start date must lie between {EARLIEST_START} and {LATEST_START}")
    return value


StartDate = Annotated[IsoDate, AfterValidator(_plausible_start)]


class LateTier(StrictInput):
    """Lateness up to `max_hours` (None: any) multiplies the mark by `multiplier`."""

    max_hours: float | None = Field(default=None, gt=0, le=MAX_LATE_HOURS)
    multiplier: float = Field(ge=0, le=1)


class MilestoneSettings(StrictInput):
    """The settings of one milestone at course creation or in a course PATCH."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,19}$")
    title: line(120) = Field(default=None)  # type: ignore[valid-type]
    week: int = Field(default=None, ge=1, le=52)  # type: ignore[assignment]
    weight: float = Field(default=None, ge=0, le=100)  # type: ignore[assignment]


# Every field may be left out (a PATCH changes any subset), but none may be null: the
# fields are typed without None, and pydantic does not validate a default that was left out.
class CourseSettings(StrictInput):
    """Every per-course rule; all optional so that a PATCH can change any subset."""

    title: line(200) = Field(default=None)  # type: ignore[valid-type]
    start_date: StartDate = Field(default=None)  # type: ignore[assignment]
    weeks: int = Field(default=None, ge=1, le=52)  # type: ignore[assignment]
    timezone: str = Field(default=None, min_length=1, max_length=64)  # type: ignore[assignment]
    min_group_size: int = Field(default=None, ge=1, le=50)  # type: ignore[assignment]
    max_group_size: int = Field(default=None, ge=1, le=50)  # type: ignore[assignment]
    late_tiers: list[LateTier] = Field(default=None, min_length=1, max_length=10)  # type: ignore[arg-type]
    grace_seconds: int = Field(default=None, ge=0, le=MAX_GRACE_SECONDS)  # type: ignore[assignment]
    presentation_slots: int = Field(default=None, ge=0, le=1000)  # type: ignore[assignment]
    required_reviews: int = Field(default=None, ge=0, le=100)  # type: ignore[assignment]
    assignment_share: float = Field(default=None, ge=0, le=100)  # type: ignore[assignment]
    required_sections: dict[PaperRuleset, list[SectionKey]] = Field(default=None)  # type: ignore[arg-type]
    section_synonyms: dict[SectionKey, list[Synonym]] = Field(default=None, max_length=MAX_SECTIONS)  # type: ignore[arg-type]
    formation_locked: bool = Field(default=None)  # type: ignore[assignment]
    max_versions_per_milestone: int = Field(default=None, ge=1, le=1000)  # type: ignore[assignment]
    max_group_storage_mb: int = Field(default=None, ge=1, le=100_000)  # type: ignore[assignment]
    milestones: list[MilestoneSettings] = Field(default=None, max_length=10)  # type: ignore[arg-type]

    @field_validator("required_sections", "section_synonyms")
    @classmethod
    def _bounded_lists(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        # A 10 MB synonym list would make every read of the course 10 MB.
        for items in (value or {}).values():
            if len(items) > MAX_SYNONYMS:
                raise ValueError(f"at most {MAX_SYNONYMS} entries per list")
        return value


class CourseCreate(CourseSettings):
    """A new course: a unique code and a start date; everything else defaults to SPEC.md."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    title: line(200)  # type: ignore[valid-type]
    start_date: StartDate


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
    max_versions_per_milestone: int
    max_group_storage_mb: int
    milestones: list[MilestoneBrief]
    my_role: str
