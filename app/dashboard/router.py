"""The staff dashboard endpoint."""

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from sqlmodel import Session

from app.config import get_settings
from app.dashboard import service
from app.dashboard.cache import SharedAnswers
from app.dashboard.presenters import dashboard_public
from app.dashboard.schemas import DashboardPublic
from app.deps import BearerToken, ClockDep, SessionDep, TransactionRoute, read_as_user
from app.models import User

router = APIRouter(tags=["dashboard"], route_class=TransactionRoute)


@router.get("/courses/{course_id}/dashboard", response_model=DashboardPublic)
async def get_dashboard(
    session: SessionDep,
    clock: ClockDep,
    token: BearerToken,
    course_id: int,
    milestone: Annotated[str, Query(description="milestone key: proposal, report or final")] = "report",
) -> Response:
    """One row per group for a milestone: status, version, lateness, format verdict, reviews (staff).

    The answer may be shared with other staff polling the same dashboard for up to
    TRACKER_DASHBOARD_CACHE_S seconds (never past a write committed by this server process).
    """
    body = await read_as_user(session, clock, token, _dashboard_json, course_id=course_id, key=milestone)
    return Response(body, media_type="application/json")


def _dashboard_json(session: Session, *, user: User, course_id: int, key: str) -> bytes:
    course, found = service.dashboard_access(session, user=user, course_id=course_id, key=key)
    # The shared answer is the JSON itself: a poll of 1,000 groups then neither validates nor
    # serialises the rows again.
    return _shared_dashboards().get(
        (get_settings().database_url, course_id, found.key),
        lambda: _DASHBOARD_JSON.dump_json(
            dashboard_public(course, found, service.dashboard_rows(session, course=course, milestone=found))
        ),
    )


_DASHBOARD_JSON = TypeAdapter(DashboardPublic)


@lru_cache
def _shared_dashboards() -> SharedAnswers[bytes]:
    return SharedAnswers(get_settings().dashboard_cache_s)
