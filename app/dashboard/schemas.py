"""Response models of the dashboard."""

from datetime import datetime

from pydantic import BaseModel


class MemberPublic(BaseModel):
    """A current member of a group."""

    user_id: int
    name: str
    student_no: str | None


class DashboardRowPublic(BaseModel):
    """One group's state for the milestone."""

    group_id: int
    group_name: str
    members: list[MemberPublic]
    topic_status: str | None
    topic_title: str | None
    status: str  # missing, on_time or late
    deadline: datetime
    extended: bool
    submission_id: int | None
    version: int | None
    pinned: bool
    received_at: datetime | None
    late_by_seconds: float | None
    multiplier: float | None
    verdict: str | None
    error_codes: list[str]
    warning_codes: list[str]
    reviews: int
    mean_score: float | None
    deliverable: str | None = None
    # Set when a superseding selection changed the group's deliverable after it uploaded week-16 work.
    deliverable_changed_at: datetime | None = None
    recheck_verdict: str | None = None


class DashboardPublic(BaseModel):
    """A milestone's dashboard: its deadline and one row per group."""

    course_id: int
    milestone: str
    deadline: datetime
    rows: list[DashboardRowPublic]
