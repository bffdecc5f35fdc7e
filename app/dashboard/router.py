"""The staff dashboard endpoint."""

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from sqlmodel import Session

from app.config import get_settings
from app.dashboard import service
from app.dashboard.cache import SharedAnswers
from app.dashboard.schemas import DashboardPublic, DashboardRowPublic, MemberPublic
from app.deps import BearerToken, ClockDep, SessionDep, TransactionRoute, read_as_user
from app.milestones.service import local_instant
from app.models import Course, Milestone, User
from app.submissions.grading import milestone_deadline

router = APIRouter(tags=["dashboard"], route_class=TransactionRoute)


def row_public(course: Course, row: service.DashboardRow) -> DashboardRowPublic:
    """A dashboard row as returned by the API, its instants in the course time zone."""
    graded = row.graded
    sub = graded.submission if graded else None
    report = sub.format_report if sub else {}
    return DashboardRowPublic(
        group_id=row.group.id or 0,
        group_name=row.group.name,
        members=[MemberPublic(user_id=m.user_id, name=m.name, student_no=m.student_no) for m in row.members],
        topic_status=row.topic.status if row.topic else None,
        topic_title=row.topic.title if row.topic else None,
        status=row.status,
        deadline=local_instant(row.deadline, course),
        extended=row.extended,
        submission_id=sub.id if sub else None,
        version=sub.version if sub else None,
        pinned=graded.pinned if graded else False,
        received_at=local_instant(sub.received_at, course) if sub else None,
        late_by_seconds=graded.lateness.late_by.total_seconds() if graded else None,
        multiplier=graded.lateness.multiplier if graded else None,
        verdict=sub.verdict if sub else None,
        error_codes=[f["code"] for f in report.get("errors", [])],
        warning_codes=[f["code"] for f in report.get("warnings", [])],
        reviews=row.review_count,
        mean_score=row.mean_score,
        deliverable=row.group.deliverable,
        deliverable_changed_at=local_instant(row.group.deliverable_changed_at, course)
        if row.group.deliverable_changed_at
        else None,
        recheck_verdict=sub.recheck_report["verdict"] if sub and sub.recheck_report else None,
    )


def dashboard_public(course: Course, milestone: Milestone, rows: list[service.DashboardRow]) -> DashboardPublic:
    """The whole dashboard response."""
    return DashboardPublic(
        course_id=course.id or 0,
        milestone=milestone.key,
        deadline=local_instant(milestone_deadline(course, milestone), course),
        rows=[row_public(course, r) for r in rows],
    )


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
