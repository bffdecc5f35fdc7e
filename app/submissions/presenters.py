"""Turning the submissions service's results into the API's response schemas, for the routes and the pages."""

from app.milestones.service import local_instant
from app.models import Course
from app.submissions import service
from app.submissions.schemas import SubmissionPublic


def submission_public(course: Course, view: service.VersionView) -> SubmissionPublic:
    """A version as returned by the API, its instants in the course time zone."""
    sub = view.submission
    return SubmissionPublic(
        id=sub.id or 0,
        group_id=sub.group_id,
        milestone=view.milestone.key,
        version=sub.version,
        filename=sub.filename,
        uploader_id=sub.uploader_id,
        received_at=local_instant(sub.received_at, course),
        size_bytes=sub.size_bytes,
        sha256=sub.sha256,
        ruleset=sub.ruleset,
        verdict=sub.verdict,
        format_report=sub.format_report,
        deadline=local_instant(view.deadline, course),
        late_by_seconds=view.lateness.late_by.total_seconds(),
        multiplier=view.lateness.multiplier,
        graded=view.graded,
        pinned=view.pinned,
        notice=view.notice,
        recheck_report=sub.recheck_report,
        rechecked_at=local_instant(sub.rechecked_at, course) if sub.rechecked_at else None,
    )
