"""The staff dashboard endpoint."""

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query

from app.config import get_settings
from app.dashboard import service
from app.dashboard.cache import SharedAnswers
from app.dashboard.presenters import dashboard_public
from app.dashboard.schemas import DashboardPublic
from app.deps import CurrentUser, SessionDep, TransactionRoute

router = APIRouter(tags=["dashboard"], route_class=TransactionRoute)


@router.get("/courses/{course_id}/dashboard")
def get_dashboard(
    session: SessionDep,
    user: CurrentUser,
    course_id: int,
    milestone: Annotated[str, Query(description="milestone key: proposal, report or final")] = "report",
) -> DashboardPublic:
    """One row per group for a milestone: status, version, lateness, format verdict, reviews (staff).

    The answer may be shared with other staff polling the same dashboard for up to
    TRACKER_DASHBOARD_CACHE_S seconds (never past a write committed by this server process).
    """
    course, found = service.dashboard_access(session, user=user, course_id=course_id, key=milestone)
    return _shared_dashboards().get(
        (get_settings().database_url, course_id, found.key),
        lambda: dashboard_public(course, found, service.dashboard_rows(session, course=course, milestone=found)),
    )


@lru_cache
def _shared_dashboards() -> SharedAnswers[DashboardPublic]:
    return SharedAnswers(get_settings().dashboard_cache_s)
