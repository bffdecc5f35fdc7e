"""The demo's work in the middle of the term: proposals and reports uploaded, an extension, reviews.

Uploaded through the same services as the API (stored file, format check in the isolated worker,
lateness from the server's clock at receipt), with PDFs made by app.demo_pdfs.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from app.config import get_settings
from app.demo_pdfs import demo_paper
from app.marks.service import marks_release
from app.milestones.rules import milestone_deadline
from app.milestones.schemas import ExtensionIn
from app.milestones.service import course_milestones, extension_grant
from app.models import Course, ProjectGroup, Submission, User
from app.reviews.schemas import ReviewIn
from app.reviews.service import review_upsert
from app.storage import get_store
from app.submissions.service import format_check, submission_create, submission_target

# Hours after the proposal deadline each submitting group's proposal arrives (negative: before).
# 9: late by hours (x0.9), 10: by two days (x0.7), 11: by four days (x0.5), 12: late but inside its
# extension, 13: rejected by the format check at first, fixed in version 2.
PROPOSAL_HOURS = [-50, -30, -26, -20, -12, -8, -5, -3, -1, 5, 40, 100, 30, -6]
EXTENDED_GROUP, FIXED_GROUP, UNREVIEWED_GROUP = 12, 13, 7
REPORT_HOURS = [-40, -30, -28, -22, -16, -12, -9, -6, -4, -2, -1, 10, -3, -20]
SCORES = [
    (91, 87),
    (84, 80),
    (78, 82),
    (88, 85),
    (70, 64),
    (75, 79),
    (66, 72),
    (90, 93),
    (59, 63),
    (81, 77),
    (73, 69),
    (86, 90),
    (62, 58),
    (77, 74),
]


def _upload(
    session: Session, *, user: User, group: ProjectGroup, key: str, data: bytes, filename: str, at: datetime
) -> Submission:
    settings = get_settings()
    store = get_store()
    staged = store.stage(max_bytes=settings.max_upload_bytes)
    try:
        staged.write(data)
        staged.finish()
        target = submission_target(session, user=user, group_id=group.id or 0, key=key)
        report = format_check(
            staged, ruleset=target.ruleset, course=target.course, milestone=target.milestone, settings=settings
        )
        view = submission_create(
            session, user=user, group_id=group.id or 0, key=key, staged=staged, filename=filename, report=report, now=at
        )
    finally:
        staged.discard()
    return view.submission


def demo_work(
    session: Session, *, course: Course, staff: dict[str, User], groups: Sequence[tuple[ProjectGroup, list[User]]]
) -> None:
    """Proposals (on time, late by each tier, one saved by an extension, one fixed in v2), reports and reviews."""
    milestones = {m.key: m for m in course_milestones(session, course_id=course.id or 0)}
    proposal_due = milestone_deadline(course, milestones["proposal"])
    report_due = milestone_deadline(course, milestones["report"])
    tas = [staff["ta1"], staff["ta2"]]
    submitting = list(groups)[: len(PROPOSAL_HOURS)]
    for index, (group, members) in enumerate(submitting):
        title = f"{group.name}: project proposal"
        at = proposal_due + timedelta(hours=PROPOSAL_HOURS[index])
        if index == FIXED_GROUP:
            _upload(
                session,
                user=members[1],
                group=group,
                key="proposal",
                filename="proposal-draft.pdf",
                data=demo_paper(title=title, ruleset="proposal", seed=index, overflow=True),
                at=at - timedelta(hours=20),
            )
        if index == EXTENDED_GROUP:
            extension_grant(
                session,
                user=staff["lecturer"],
                group_id=group.id or 0,
                now=proposal_due,
                data=ExtensionIn(
                    milestone="proposal",
                    due_at=proposal_due + timedelta(days=2),
                    reason="Medical certificate seen for two members.",
                ),
            )
        proposal = _upload(
            session,
            user=members[0],
            group=group,
            key="proposal",
            filename="proposal.pdf",
            data=demo_paper(title=title, ruleset="proposal", seed=index),
            at=at,
        )
        review_upsert(
            session,
            user=tas[index % 2],
            submission_id=proposal.id or 0,
            now=proposal_due + timedelta(days=5, hours=index),
            data=ReviewIn(score=float(SCORES[index][0] - 5), comment="A clear plan; name the baseline."),
        )
    marks_release(
        session, user=staff["lecturer"], course_id=course.id or 0, key="proposal", now=proposal_due + timedelta(days=8)
    )
    for index, (group, members) in enumerate(submitting):
        report = _upload(
            session,
            user=members[-1],
            group=group,
            key="report",
            filename="report.pdf",
            data=demo_paper(title=f"{group.name}: final report", ruleset="report", seed=index + 40),
            at=report_due + timedelta(hours=REPORT_HOURS[index]),
        )
        if index == UNREVIEWED_GROUP:
            continue
        for ta, score in zip(tas, SCORES[index], strict=True):
            review_upsert(
                session,
                user=ta,
                submission_id=report.id or 0,
                data=ReviewIn(
                    score=float(score), comment="Solid experiments." if score >= 75 else "The evaluation is thin."
                ),
                now=report_due + timedelta(days=1, hours=index),
            )
