"""Versioned uploads of milestone work, downloads and dry-run checks (the graded pin is in pins.py).

An upload runs in two phases. First the refusal rules are checked (visibility, group size,
approved topic, published selection) and the read transaction ends, so that on SQLite its
write lock is not held while the body streams in and the PDF is checked. Then the rules are
checked again with the group row locked, the next version number is taken, the row is
inserted and the file is committed to the store under its hash; the request's session commits it.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from app.access import group_for, is_row_id
from app.audit.service import audit_record
from app.config import Settings
from app.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from app.formatcheck import RULESETS, CheckReport, check_pdf_isolated
from app.formatcheck.isolate import CheckOverloaded, default_pool
from app.groups.service import group_can_submit
from app.milestones.rules import Lateness, lateness, milestone_deadline
from app.milestones.service import group_milestone_for
from app.models import Course, Milestone, ProjectGroup, Submission, User
from app.outbox.events import notice_upload_receipt
from app.storage import FileStore, StagedFile
from app.storage.gc import stored_file_lock
from app.submissions.grading import graded_versions, group_deadlines, group_versions
from app.topics.service import topic_is_approved

ERR_MEMBERS_ONLY = "Only the group's members upload its work."
ERR_TOPIC_NOT_APPROVED = "The proposal can be submitted once the group's topic is approved."
ERR_SELECTION_NOT_PUBLISHED = (
    "The final deliverable opens when the presentation selection is published: it decides slides or poster."
)
ERR_FORMAT_BLOCKS = "This milestone refuses files with format errors; fix them and upload again"
ERR_RULES_CHANGED = "The milestone's rule set changed while the file was being checked; upload it again."
ERR_NO_SUBMISSION = "No such submission."
ERR_CHECK_BUSY = "The server is too busy to check this file right now; nothing was stored. Send it again shortly."
CHECK_BUSY_RETRY_S = 30
DRY_RUN_NICE = 10
ERR_VERSION_QUOTA = "The group has uploaded {limit} versions of this milestone, the course's limit; ask staff for help."
ERR_STORAGE_QUOTA = (
    "The group's files would take more than the course's {limit} MB; ask staff for help before uploading again."
)
NOTICE_AFTER_RELEASE = (
    "This milestone's marks are released, so this version is kept but not graded unless staff pin it."
)
ERR_FILE_MISSING = "The stored file could not be found, so it could not be checked again."
ERR_UNKNOWN_RULESET = f"Unknown rule set; expected one of {', '.join(RULESETS)}."


@dataclass(frozen=True)
class UploadTarget:
    """Who uploads where, and which rule set checks it."""

    user: User
    course: Course
    group: ProjectGroup
    milestone: Milestone
    ruleset: str


@dataclass(frozen=True)
class VersionView:
    """A stored version with its lateness against the group's effective deadline."""

    submission: Submission
    milestone: Milestone
    deadline: datetime
    lateness: Lateness
    graded: bool
    pinned: bool

    @property
    def notice(self) -> str | None:
        """What the group should know about this version: after a release, a new upload is not graded."""
        if self.milestone.marks_released_at is not None and not self.graded:
            return NOTICE_AFTER_RELEASE
        return None


def submission_target(session: Session, *, user: User, group_id: int, key: str, lock: bool = False) -> UploadTarget:
    """Apply the refusal rules in order (404, too small 409, topic 409, selection 409); `lock` locks the group."""
    access, milestone = group_milestone_for(
        session, user=user, group_id=group_id, key=key, members_only=ERR_MEMBERS_ONLY
    )
    group = access.group
    if lock:
        # Waits for a concurrent upload of this group to commit, so max(version) below sees it.
        group = session.exec(select(ProjectGroup).where(ProjectGroup.id == group_id).with_for_update()).one()
    group_can_submit(session, group=group, course=access.course)
    if milestone.requires_approved_topic and not topic_is_approved(session, group_id=group_id):
        raise Conflict(ERR_TOPIC_NOT_APPROVED, code="topic_not_approved")
    ruleset = milestone.ruleset
    if ruleset == "final":
        if group.deliverable is None:
            raise Conflict(ERR_SELECTION_NOT_PUBLISHED, code="selection_not_published")
        ruleset = group.deliverable
    quota_check(session, course=access.course, group_id=group_id, milestone_id=milestone.id or 0, incoming=0)
    return UploadTarget(user=user, course=access.course, group=group, milestone=milestone, ruleset=ruleset)


def quota_check(session: Session, *, course: Course, group_id: int, milestone_id: int, incoming: int) -> None:
    """Refuse an upload beyond the group's quotas: versions per milestone (409) and stored bytes (413)."""
    versions = session.exec(
        select(func.count())
        .select_from(Submission)
        .where(Submission.group_id == group_id, Submission.milestone_id == milestone_id)
    ).one()
    if versions >= course.max_versions_per_milestone:
        raise Conflict(ERR_VERSION_QUOTA.format(limit=course.max_versions_per_milestone), code="version_quota")
    stored = session.exec(
        select(func.coalesce(func.sum(Submission.size_bytes), 0)).where(Submission.group_id == group_id)
    ).one()
    limit = course.max_group_storage_mb * 1024 * 1024
    if stored + incoming > limit or (incoming == 0 and stored >= limit):
        raise PayloadTooLarge(ERR_STORAGE_QUOTA.format(limit=course.max_group_storage_mb), code="storage_quota")


def format_check(
    staged: StagedFile,
    *,
    ruleset: str,
    course: Course | None,
    milestone: Milestone | None,
    settings: Settings,
    dry_run: bool = False,
) -> CheckReport:
    """The format report of a staged upload (its local file) under the course's sections and the page limit.

    A dry run's worker runs at a lower CPU priority, so a burst of dry runs gives way to uploads.
    """
    return file_check(
        staged.path, ruleset=ruleset, course=course, milestone=milestone, settings=settings, dry_run=dry_run
    )


def file_check(
    path: Path,
    *,
    ruleset: str,
    course: Course | None,
    milestone: Milestone | None,
    settings: Settings,
    dry_run: bool = False,
) -> CheckReport:
    """The format report of a local file under the course's sections and the milestone's page limit."""
    paper = ruleset in ("proposal", "report") and course is not None
    options: dict[str, Any] = {
        "required_sections": course.required_sections.get(ruleset) if paper and course else None,
        "synonyms": course.section_synonyms if paper and course else None,
        "page_limit": milestone.page_limit if paper and milestone is not None else None,
        "time_limit": settings.check_time_limit_s,
        "memory_limit_mb": settings.check_memory_limit_mb,
    }
    try:
        return check_pdf_isolated(
            str(path),
            ruleset,
            pool=default_pool(settings.check_workers),
            nice=DRY_RUN_NICE if dry_run else 0,
            **options,
        )
    except CheckOverloaded:
        raise ServiceUnavailable(ERR_CHECK_BUSY, code="check_busy", retry_after=CHECK_BUSY_RETRY_S) from None


def submission_check(*, target: UploadTarget, staged: StagedFile, settings: Settings) -> CheckReport:
    """Check an upload; 422 when the milestone makes format errors blocking and there are some."""
    report = format_check(
        staged, ruleset=target.ruleset, course=target.course, milestone=target.milestone, settings=settings
    )
    _refuse_blocking_errors(target, report)
    return report


def _refuse_blocking_errors(target: UploadTarget, report: CheckReport) -> None:
    if target.milestone.errors_block and report.errors:
        raise InvalidInput(f"{ERR_FORMAT_BLOCKS}: {', '.join(report.error_codes)}.", field="file", code="format_errors")


def version_views(
    session: Session, *, course: Course, milestone: Milestone, group_id: int, versions: list[Submission]
) -> list[VersionView]:
    """The group's versions with their lateness against its effective deadline, and which one is graded."""
    graded = graded_versions(session, course=course, milestone=milestone, group_ids=[group_id]).get(group_id)
    deadline = group_deadlines(session, course=course, milestone=milestone, group_ids=[group_id]).get(
        group_id, milestone_deadline(course, milestone)
    )
    graded_id = graded.submission.id if graded else None
    return _version_views(course, milestone, versions, deadline, graded_id, pinned=graded is not None and graded.pinned)


def _version_views(
    course: Course,
    milestone: Milestone,
    versions: list[Submission],
    deadline: datetime,
    graded_id: int | None,
    *,
    pinned: bool,
) -> list[VersionView]:
    return [
        VersionView(
            submission=s,
            milestone=milestone,
            deadline=deadline,
            lateness=lateness(
                received_at=s.received_at,
                deadline=deadline,
                grace_seconds=course.grace_seconds,
                tiers=course.late_tiers,
            ),
            graded=s.id == graded_id,
            pinned=pinned and s.id == graded_id,
        )
        for s in versions
    ]


def _next_version(
    session: Session, *, target: UploadTarget, staged: StagedFile, filename: str, report: CheckReport, now: datetime
) -> Submission:
    # The caller holds the group's row lock, so no other upload takes the same number meanwhile.
    group_id, milestone_id = target.group.id or 0, target.milestone.id or 0
    latest = session.exec(
        select(func.max(Submission.version)).where(
            Submission.group_id == group_id, Submission.milestone_id == milestone_id
        )
    ).one()
    submission = Submission(
        group_id=group_id,
        milestone_id=milestone_id,
        version=(latest or 0) + 1,
        uploader_id=target.user.id,
        received_at=now,
        filename=filename,
        size_bytes=staged.size,
        sha256=staged.sha256,
        ruleset=target.ruleset,
        verdict=report.verdict,
        format_report=report.to_dict(),
    )
    session.add(submission)
    return submission


def submission_create(
    session: Session,
    *,
    user: User,
    group_id: int,
    key: str,
    staged: StagedFile,
    filename: str,
    report: CheckReport,
    now: datetime,
) -> VersionView:
    """Store an uploaded version: rules re-checked under the group lock, next number, row, then the file."""
    target = submission_target(session, user=user, group_id=group_id, key=key, lock=True)
    if target.ruleset != report.ruleset:
        raise Conflict(ERR_RULES_CHANGED, code="rules_changed")
    _refuse_blocking_errors(target, report)
    quota_check(
        session, course=target.course, group_id=group_id, milestone_id=target.milestone.id or 0, incoming=staged.size
    )
    submission = _next_version(session, target=target, staged=staged, filename=filename, report=report, now=now)
    if target.milestone.ruleset == "final" and target.group.deliverable_changed_at is not None:
        # A new upload under the new deliverable answers the notice of the change.
        target.group.deliverable_changed_at = None
        session.add(target.group)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="submission.create",
        entity="submission",
        entity_id=submission.id,
        course_id=target.course.id,
        after={
            "group_id": group_id,
            "milestone": key,
            "version": submission.version,
            "sha256": submission.sha256,
            "size_bytes": submission.size_bytes,
            "verdict": submission.verdict,
        },
    )
    # Under the hash's lock until the row commits, so `gc` cannot delete the file in between.
    stored_file_lock(session, sha256=staged.sha256)
    staged.commit()  # in the store before the session commits the row
    view = version_views(
        session, course=target.course, milestone=target.milestone, group_id=group_id, versions=[submission]
    )[0]
    notice_upload_receipt(
        session,
        course=target.course,
        group=target.group,
        milestone=target.milestone,
        submission=submission,
        deadline=view.deadline,
        lateness=view.lateness,
        now=now,
    )
    return view


def submission_recheck(
    session: Session,
    *,
    submission: Submission,
    course: Course,
    ruleset: str,
    store: FileStore,
    settings: Settings,
    now: datetime,
) -> CheckReport:
    """Check a stored version again under another rule set; the result is stored beside its upload report."""
    if store.exists(submission.sha256):
        with store.local_copy(submission.sha256) as path:
            report = file_check(path, ruleset=ruleset, course=course, milestone=None, settings=settings)
    else:
        # The file is gone from the store (restored database, lost volume): say so instead of guessing.
        report = CheckReport.from_dict(
            {
                "ruleset": ruleset,
                "verdict": "reject",
                "pages": 0,
                "facts": {},
                "warnings": [],
                "errors": [{"code": "unreadable", "pages": [], "message": ERR_FILE_MISSING}],
            }
        )
    submission.recheck_report, submission.rechecked_at = report.to_dict(), now
    session.add(submission)
    return report


def submission_list(session: Session, *, user: User, group_id: int, key: str) -> tuple[Course, list[VersionView]]:
    """Every version of the group's work for a milestone, oldest first (members and staff)."""
    access, milestone = group_milestone_for(session, user=user, group_id=group_id, key=key)
    course = access.course
    versions, graded_id, pinned, deadline = group_versions(
        session, course=course, milestone=milestone, group_id=group_id
    )
    return course, _version_views(course, milestone, versions, deadline, graded_id, pinned=pinned)


def submission_get(session: Session, *, user: User, submission_id: int) -> Submission:
    """A version its group's members and the course staff may see; NotFound otherwise."""
    submission = session.get(Submission, submission_id) if is_row_id(submission_id) else None
    if submission is None:
        raise NotFound(ERR_NO_SUBMISSION)
    try:
        group_for(session, group_id=submission.group_id, user=user)
    except NotFound:
        raise NotFound(ERR_NO_SUBMISSION) from None
    return submission


def ruleset_check(ruleset: str) -> str:
    """The rule set of a dry run, 422 when unknown ("final" is not a rule set of its own)."""
    if ruleset not in RULESETS:
        raise InvalidInput(ERR_UNKNOWN_RULESET, field="ruleset")
    return ruleset


def check_target(session: Session, *, user: User, group_id: int, key: str) -> UploadTarget:
    """Where a member checks a file without submitting: the milestone's rule set, no refusal rules but the 404s."""
    access, milestone = group_milestone_for(
        session, user=user, group_id=group_id, key=key, members_only=ERR_MEMBERS_ONLY
    )
    ruleset = milestone.ruleset
    if ruleset == "final":
        if access.group.deliverable is None:
            raise Conflict(ERR_SELECTION_NOT_PUBLISHED, code="selection_not_published")
        ruleset = access.group.deliverable
    return UploadTarget(user=user, course=access.course, group=access.group, milestone=milestone, ruleset=ruleset)
