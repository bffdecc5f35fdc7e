"""One row per group for a milestone, in a constant number of queries whatever the number of groups.

The queries: course with the caller's role, milestone, groups, current members (plain rows, not
ORM objects: a 1,000-group course has 3,000 of them), extensions, versions and pins, and review
figures; the web pages reuse `dashboard_rows`.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.access import course_for
from app.errors import Forbidden
from app.milestones.rules import milestone_deadline
from app.milestones.service import milestone_for
from app.models import Course, GroupMembership, Milestone, ProjectGroup, Topic, User
from app.reviews.service import review_stats
from app.submissions.grading import GradedVersion, graded_versions, group_deadlines

ERR_STAFF_ONLY = "Only course staff see the dashboard."
MISSING, ON_TIME, LATE = "missing", "on_time", "late"


@dataclass(frozen=True)
class DashboardMember:
    """A current member of a group."""

    user_id: int
    name: str
    student_no: str | None


@dataclass(frozen=True)
class DashboardRow:
    """A group's state for one milestone."""

    group: ProjectGroup
    members: list[DashboardMember]
    topic: Topic | None
    graded: GradedVersion | None
    deadline: datetime  # the group's effective deadline
    extended: bool
    review_count: int
    mean_score: float | None

    @property
    def status(self) -> str:
        """missing, on_time or late."""
        if self.graded is None:
            return MISSING
        return LATE if self.graded.lateness.is_late else ON_TIME


def _current_members(session: Session, *, course_id: int) -> dict[int, list[DashboardMember]]:
    """Per group id of the course: its current members, in the order they joined."""
    by_group: dict[int, list[DashboardMember]] = {}
    for group_id, user_id, name, student_no in session.exec(
        select(GroupMembership.group_id, User.id, User.name, User.student_no)
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .where(GroupMembership.course_id == course_id, col(GroupMembership.left_at).is_(None))
        .order_by(col(GroupMembership.joined_at), col(GroupMembership.id))
    ):
        by_group.setdefault(group_id, []).append(
            DashboardMember(user_id=user_id or 0, name=name, student_no=student_no)
        )
    return by_group


def dashboard_rows(session: Session, *, course: Course, milestone: Milestone) -> list[DashboardRow]:
    """Every group of the course with its graded version, lateness, format verdict and reviews (staff view)."""
    groups = list(
        session.exec(
            select(ProjectGroup)
            .where(ProjectGroup.course_id == course.id)
            .order_by(col(ProjectGroup.name), col(ProjectGroup.id))
        )
    )
    members = _current_members(session, course_id=course.id or 0)
    topics = {
        t.group_id: t
        for t in session.exec(
            select(Topic)
            .join(ProjectGroup, col(ProjectGroup.id) == col(Topic.group_id))
            .where(ProjectGroup.course_id == course.id)
        )
    }
    # All of the course's groups: no id list, so the statements stay small for any number of groups.
    # Groups without a version still show their extension; grading.py's figures cover only submitters.
    extended = group_deadlines(session, course=course, milestone=milestone)
    graded = graded_versions(session, course=course, milestone=milestone, extended=extended)
    stats = review_stats(session, submission_ids=[g.submission.id or 0 for g in graded.values()])
    due = milestone_deadline(course, milestone)
    rows = []
    for group in groups:
        gid = group.id or 0
        chosen = graded.get(gid)
        figures = stats.get(chosen.submission.id or 0) if chosen else None
        rows.append(
            DashboardRow(
                group=group,
                members=members.get(gid, []),
                topic=topics.get(gid),
                graded=chosen,
                deadline=extended.get(gid, due),
                extended=extended.get(gid, due) != due,
                review_count=figures.count if figures else 0,
                mean_score=figures.mean if figures else None,
            )
        )
    return rows


def dashboard_access(session: Session, *, user: User, course_id: int, key: str) -> tuple[Course, Milestone]:
    """The course and milestone of a dashboard the user may see (staff); 403/404 otherwise."""
    access = course_for(session, course_id=course_id, user=user)
    if not access.is_staff:
        raise Forbidden(ERR_STAFF_ONLY)
    return access.course, milestone_for(session, course_id=course_id, key=key)


def dashboard_get(
    session: Session, *, user: User, course_id: int, key: str
) -> tuple[Course, Milestone, list[DashboardRow]]:
    """The milestone dashboard of a course (staff)."""
    course, milestone = dashboard_access(session, user=user, course_id=course_id, key=key)
    return course, milestone, dashboard_rows(session, course=course, milestone=milestone)
