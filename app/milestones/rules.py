"""Deadlines and the late policy as pure functions: no database, no clock (rows are read as plain values)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.models import Course, Milestone

DUE_TIME = time(23, 59)


def week_sunday(start_date: date, week: int) -> date:
    """The Sunday that ends teaching week `week` (week 1 starts on `start_date`, a Monday)."""
    return start_date + timedelta(days=7 * (week - 1) + 6)


def default_due_at(*, start_date: date, week: int, timezone: str) -> datetime:
    """23:59 course time on the Sunday of `week`, as an aware UTC instant."""
    local = datetime.combine(week_sunday(start_date, week), DUE_TIME, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def milestone_due_at(*, start_date: date, week: int, timezone: str, override: datetime | None) -> datetime:
    """The milestone's deadline: the lecturer's instant if set, else the week's Sunday 23:59."""
    if override is not None:
        return override.astimezone(UTC)
    return default_due_at(start_date=start_date, week=week, timezone=timezone)


def milestone_deadline(course: Course, milestone: Milestone) -> datetime:
    """The milestone's deadline for groups without an extension, from the course's calendar."""
    return milestone_due_at(
        start_date=course.start_date, week=milestone.week, timezone=course.timezone, override=milestone.due_at_override
    )


def effective_deadline(milestone_due: datetime, extension_due: datetime | None) -> datetime:
    """The later of the milestone deadline and the group's extension."""
    if extension_due is None:
        return milestone_due
    return max(milestone_due, extension_due)


@dataclass(frozen=True)
class Lateness:
    """How late a version was, and what that does to its mark."""

    late_by: timedelta  # zero when on time (after the grace period)
    multiplier: float

    @property
    def is_late(self) -> bool:
        """Whether any penalty tier applies."""
        return self.late_by > timedelta(0)


def late_multiplier(late_by: timedelta, tiers: Sequence[dict[str, Any]]) -> float:
    """The multiplier of the first tier whose upper bound (hours, inclusive) covers `late_by`."""
    if late_by <= timedelta(0):
        return 1.0
    for tier in tiers:
        bound = tier.get("max_hours")
        if bound is None or late_by <= timedelta(hours=bound):
            return float(tier["multiplier"])
    return float(tiers[-1]["multiplier"])


def lateness(
    *, received_at: datetime, deadline: datetime, grace_seconds: int, tiers: Sequence[dict[str, Any]]
) -> Lateness:
    """Lateness of a receipt: receipt - deadline - grace period, never below zero."""
    late_by = max(received_at - deadline - timedelta(seconds=grace_seconds), timedelta(0))
    return Lateness(late_by=late_by, multiplier=late_multiplier(late_by, tiers))
