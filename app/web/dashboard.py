"""The course overview and the milestone dashboard (page and CSV), on the dashboard service's rows."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from app.dashboard.presenters import row_public
from app.dashboard.schemas import DashboardRowPublic
from app.dashboard.service import LATE, MISSING, ON_TIME, dashboard_rows
from app.deps import SessionDep
from app.errors import InvalidInput
from app.milestones.rules import milestone_deadline
from app.milestones.service import milestone_for, milestone_list
from app.models import Course, Milestone, User
from app.reviews.service import review_queue
from app.spreadsheet import text_cell
from app.timefmt import number
from app.web.deps import CurrentWebUser, WebRoute, staff_course
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FILTERS = {
    "all": "All groups",
    "missing": "Missing",
    "late": "Late",
    "format": "Format errors",
    "unreviewed": "Unreviewed",
    "mine": "Mine to review",
}
# Sort keys: each reads one figure of a row; rows without the figure always come last.
SORTS: dict[str, Callable[[DashboardRowPublic], Any]] = {
    "group": lambda r: r.group_name.lower(),
    "status": lambda r: (MISSING, LATE, ON_TIME).index(r.status),
    "topic": lambda r: r.topic_status,
    "received": lambda r: r.received_at,
    "late": lambda r: r.late_by_seconds,
    "multiplier": lambda r: r.multiplier,
    "verdict": lambda r: (len(r.error_codes), r.verdict) if r.verdict else None,
    "reviews": lambda r: r.reviews,
    "mean": lambda r: r.mean_score,
}
CSV_COLUMNS = [
    "group_id",
    "group",
    "members",
    "topic",
    "topic_status",
    "status",
    "deadline",
    "extended",
    "version",
    "pinned",
    "received_at",
    "late_by_hours",
    "multiplier",
    "verdict",
    "error_codes",
    "warning_codes",
    "reviews",
    "mean_score",
]


@dataclass(frozen=True)
class MilestoneSummary:
    """A milestone of the course overview with its counts over the dashboard rows."""

    milestone: Milestone
    deadline: Any
    groups: int
    on_time: int
    late: int
    missing: int
    format_errors: int
    reviewed: int


def _mine_to_review(session: Session, *, user: User, course: Course, milestone: Milestone) -> set[int]:
    """Submission ids assigned to the user for this milestone that the user has not reviewed yet."""
    return {
        e.submission.id or 0
        for e in review_queue(session, user=user, course_id=course.id)
        if e.milestone.id == milestone.id and e.review is None
    }


def _keep(row: DashboardRowPublic, name: str, mine: set[int]) -> bool:
    if name == "missing":
        return row.status == MISSING
    if name == "late":
        return row.status == LATE
    if name == "format":
        return bool(row.error_codes)
    if name == "unreviewed":
        return row.status != MISSING and row.reviews == 0
    if name == "mine":
        return row.submission_id in mine
    return True


def shown_rows(
    rows: list[DashboardRowPublic], *, filter_name: str, sort: str, order: str, mine: set[int]
) -> list[DashboardRowPublic]:
    """The rows the filter keeps, in the chosen order (rows lacking the sorted figure last)."""
    if filter_name not in FILTERS:
        raise InvalidInput(f"Unknown filter {filter_name!r}.", field="filter")
    if sort not in SORTS or order not in ("asc", "desc"):
        raise InvalidInput(f"Unknown sort {sort!r} {order!r}.", field="sort")
    kept = [r for r in rows if _keep(r, filter_name, mine)]
    key = SORTS[sort]
    with_value = sorted((r for r in kept if key(r) is not None), key=key, reverse=order == "desc")
    return with_value + [r for r in kept if key(r) is None]


def _dashboard(
    session: Session, *, user: User, course_id: int, key: str, filter_name: str, sort: str, order: str
) -> tuple[Course, Milestone, list[DashboardRowPublic], int]:
    access = staff_course(session, user=user, course_id=course_id)
    milestone = milestone_for(session, course_id=course_id, key=key)
    rows = [row_public(access.course, r) for r in dashboard_rows(session, course=access.course, milestone=milestone)]
    mine = (
        _mine_to_review(session, user=user, course=access.course, milestone=milestone)
        if filter_name == "mine"
        else set()
    )
    return (
        access.course,
        milestone,
        shown_rows(rows, filter_name=filter_name, sort=sort, order=order, mine=mine),
        len(rows),
    )


@router.get("/courses/{course_id}")
def course_overview(request: Request, session: SessionDep, user: CurrentWebUser, course_id: int) -> Response:
    """The course's milestones with deadlines in course time and each milestone's counts."""
    access = staff_course(session, user=user, course_id=course_id)
    course = access.course
    _, milestones = milestone_list(session, user=user, course_id=course_id)
    needed = max(1, course.required_reviews)
    summaries = []
    for m in milestones:
        rows = dashboard_rows(session, course=course, milestone=m)
        summaries.append(
            MilestoneSummary(
                milestone=m,
                deadline=milestone_deadline(course, m),
                groups=len(rows),
                on_time=sum(r.status == ON_TIME for r in rows),
                late=sum(r.status == LATE for r in rows),
                missing=sum(r.status == MISSING for r in rows),
                format_errors=sum(bool(r.graded and r.graded.submission.format_report.get("errors")) for r in rows),
                reviewed=sum(r.review_count >= needed for r in rows),
            )
        )
    return render(
        request,
        "course.html",
        {
            "course": course,
            "summaries": summaries,
            "needed": needed,
            "is_lecturer": access.is_lecturer,
            "title": course.code,
        },
    )


@router.get("/courses/{course_id}/milestones/{key}")
def milestone_dashboard(
    request: Request,
    session: SessionDep,
    user: CurrentWebUser,
    course_id: int,
    key: str,
    filter: str = "all",
    sort: str = "group",
    order: str = "asc",
) -> Response:
    """One row per group with the dashboard API's figures; filterable and sortable."""
    course, milestone, rows, total = _dashboard(
        session, user=user, course_id=course_id, key=key, filter_name=filter, sort=sort, order=order
    )
    _, milestones = milestone_list(session, user=user, course_id=course_id)
    return render(
        request,
        "dashboard.html",
        {
            "course": course,
            "milestone": milestone,
            "milestones": milestones,
            "rows": rows,
            "total": total,
            "deadline": milestone_deadline(course, milestone),
            "filters": FILTERS,
            "filter": filter,
            "sort": sort,
            "order": order,
            "late_by": lambda s: timedelta(seconds=s) if s is not None else None,
            "title": f"{course.code} · {milestone.title}",
        },
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _instant(value: datetime | None) -> str:
    # To the second, with the course's offset: what a spreadsheet shows and a person reads.
    return value.isoformat(timespec="seconds") if value else ""


def _hours(seconds: float | None) -> str:
    return number(None if seconds is None else seconds / 3600, absent="")


@router.get("/courses/{course_id}/milestones/{key}/dashboard.csv")
def milestone_dashboard_csv(
    session: SessionDep,
    user: CurrentWebUser,
    course_id: int,
    key: str,
    filter: str = "all",
    sort: str = "group",
    order: str = "asc",
) -> Response:
    """The same rows as the page (same filter and order) as CSV."""
    course, milestone, rows, _ = _dashboard(
        session, user=user, course_id=course_id, key=key, filter_name=filter, sort=sort, order=order
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.group_id,
                text_cell(r.group_name),
                text_cell("; ".join(m.name for m in r.members)),
                text_cell(r.topic_title or ""),
                r.topic_status or "",
                r.status,
                _instant(r.deadline),
                _yes_no(r.extended),
                r.version or "",
                _yes_no(r.pinned),
                _instant(r.received_at),
                _hours(r.late_by_seconds),
                number(r.multiplier, absent=""),
                r.verdict or "",
                " ".join(r.error_codes),
                " ".join(r.warning_codes),
                r.reviews,
                number(r.mean_score, absent=""),
            ]
        )
    filename = f"{course.code}-{milestone.key}-dashboard.csv"
    # The byte-order mark makes spreadsheet programs read the file as UTF-8 (names with accents).
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
