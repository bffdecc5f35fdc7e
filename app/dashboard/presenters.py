"""Turning the dashboard service's results into the API's response schemas, for the routes and the pages."""

from app.dashboard import service
from app.dashboard.schemas import DashboardPublic, DashboardRowPublic, MemberPublic
from app.milestones.rules import milestone_deadline
from app.milestones.service import local_instant
from app.models import Course, Milestone


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
