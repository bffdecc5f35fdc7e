"""Notices the sender computes itself: deadline reminders and the weekly staff digest.

They are derived from the current deadlines on every round, so a moved deadline or a new
extension moves its reminders. Each is written once: its dedupe key names the group,
milestone and threshold (a digest: the course and week) and the recipient.
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from app.access import STAFF_ROLES
from app.dashboard.service import LATE, MISSING, dashboard_rows
from app.milestones.rules import milestone_deadline
from app.milestones.service import course_milestones
from app.models import Course, Milestone, Notice, ProjectGroup, Submission, User
from app.outbox.render import DIGEST, REMINDER
from app.outbox.service import course_group_members, course_people, link, notice_row, notice_rows_once, opted_out
from app.submissions.grading import graded_versions, group_deadlines

THRESHOLDS_H = (24, 48)  # tightest first: inside 24 h only the 24 h reminder is due
DIGEST_WEEKDAY, DIGEST_TIME = 0, time(8, 0)  # Monday 08:00, course time
DIGEST_AFTER_TERM = timedelta(days=14)  # late work still arrives after the last week
PREFERENCES_PATH = "/ui/account/notices"


def _existing_keys(session: Session, *, course_id: int, kind: str) -> set[str]:
    return set(
        k
        for k in session.exec(select(Notice.dedupe_key).where(Notice.course_id == course_id, Notice.kind == kind))
        if k
    )


def _threshold(deadline: datetime, now: datetime) -> int | None:
    if not deadline > now:
        return None
    return next((h for h in THRESHOLDS_H if deadline - timedelta(hours=h) <= now), None)


def _milestone_reminders(
    session: Session,
    *,
    course: Course,
    milestone: Milestone,
    groups: list[ProjectGroup],
    members: dict[int, list[User]],
    sent: set[str],
    now: datetime,
) -> list[dict[str, Any]]:
    due = milestone_deadline(course, milestone)
    extended = group_deadlines(session, course=course, milestone=milestone)
    windows = {g.id or 0: _threshold(extended.get(g.id or 0, due), now) for g in groups}
    if not any(windows.values()):
        return []
    graded = graded_versions(session, course=course, milestone=milestone)
    rows = []
    for group in groups:
        gid = group.id or 0
        hours = windows[gid]
        chosen = graded.get(gid)
        if hours is None or (chosen is not None and chosen.submission.verdict != "reject"):
            continue
        key = f"reminder:g{gid}:m{milestone.id}:{hours}h"
        deadline = extended.get(gid, due)
        rejected = (
            None
            if chosen is None
            else {
                "version": chosen.submission.version,
                "errors": [e["code"] for e in chosen.submission.format_report.get("errors", [])],
            }
        )
        context = {
            "course": {"code": course.code, "title": course.title, "timezone": course.timezone},
            "group": {"id": gid, "name": group.name},
            "milestone": milestone.title,
            "hours": hours,
            "deadline": deadline,
            "extended": deadline != due,
            "rejected": rejected,
            "status_url": link(f"/ui/groups/{gid}/status"),
            "preferences_url": link(PREFERENCES_PATH),
        }
        rows += [
            notice_row(
                kind=REMINDER,
                user=u,
                course_id=course.id,
                context=context,
                now=now,
                dedupe_key=key,
                expires_at=deadline,
            )
            for u in members.get(gid, [])
            if u.email and u.is_active and f"{key}:u{u.id}" not in sent
        ]
    return rows


def reminders_schedule(session: Session, *, now: datetime) -> int:
    """Write the reminders now due (48 h and 24 h before each group's deadline) that were not written yet."""
    written = 0
    for course in session.exec(select(Course).order_by(col(Course.id))):
        groups = list(
            session.exec(select(ProjectGroup).where(ProjectGroup.course_id == course.id).order_by(col(ProjectGroup.id)))
        )
        if not groups:
            continue
        members = course_group_members(session, course_id=course.id or 0)
        out = opted_out(session, kind=REMINDER, user_ids=[u.id or 0 for us in members.values() for u in us])
        members = {gid: [u for u in us if u.id not in out] for gid, us in members.items()}
        sent = _existing_keys(session, course_id=course.id or 0, kind=REMINDER)
        rows = []
        for milestone in course_milestones(session, course_id=course.id or 0):
            rows += _milestone_reminders(
                session, course=course, milestone=milestone, groups=groups, members=members, sent=sent, now=now
            )
        written += notice_rows_once(session, rows)
    return written


def digest_week_start(course: Course, now: datetime) -> datetime | None:
    """The Monday 08:00 (course time) that starts the current digest week, or None outside the term."""
    zone = ZoneInfo(course.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    start = datetime.combine(monday, DIGEST_TIME, zone)
    if start > local:
        start -= timedelta(days=7)
    term_end = datetime.combine(course.start_date + timedelta(weeks=course.weeks), time(0, 0), zone)
    first = datetime.combine(course.start_date + timedelta(days=7), DIGEST_TIME, zone)  # after week 1
    if start < first or start > term_end + DIGEST_AFTER_TERM:
        return None
    return start


def digest_context(session: Session, *, course: Course, now: datetime) -> dict[str, Any]:
    """The figures of a course's digest: per milestone what arrived in 7 days, what is late, missing, unreviewed."""
    since = now - timedelta(days=7)
    arrived = {
        mid: (n, g)
        for mid, n, g in session.exec(
            select(
                Submission.milestone_id, func.count(col(Submission.id)), func.count(func.distinct(Submission.group_id))
            )
            .join(Milestone, col(Milestone.id) == col(Submission.milestone_id))
            .where(
                Milestone.course_id == course.id,
                col(Submission.received_at) >= since,
                col(Submission.received_at) < now,
            )
            .group_by(col(Submission.milestone_id))
        )
    }
    milestones = []
    for milestone in course_milestones(session, course_id=course.id or 0):
        rows = dashboard_rows(session, course=course, milestone=milestone)
        url = link(f"/ui/courses/{course.id}/milestones/{milestone.key}")
        count, groups = arrived.get(milestone.id or 0, (0, 0))
        milestones.append(
            {
                "title": milestone.title,
                "deadline": milestone_deadline(course, milestone),
                "arrived": count,
                "arrived_groups": groups,
                "late": sum(r.status == LATE for r in rows),
                "late_url": f"{url}?filter=late",
                "missing": sum(r.status == MISSING and r.deadline <= now for r in rows),
                "missing_url": f"{url}?filter=missing",
                "unreviewed": sum(r.graded is not None and r.review_count == 0 for r in rows),
                "unreviewed_url": f"{url}?filter=unreviewed",
            }
        )
    return {
        "course": {"code": course.code, "title": course.title, "timezone": course.timezone},
        "since": since,
        "until": now,
        "milestones": milestones,
        "preferences_url": link(PREFERENCES_PATH),
    }


def digests_schedule(session: Session, *, now: datetime) -> int:
    """Write this week's staff digest of every running course, once per staff member and week."""
    written = 0
    for course in session.exec(select(Course).order_by(col(Course.id))):
        start = digest_week_start(course, now)
        if start is None:
            continue
        key = f"digest:c{course.id}:{start:%G-W%V}"
        sent = _existing_keys(session, course_id=course.id or 0, kind=DIGEST)
        staff = course_people(session, course_id=course.id or 0, roles=STAFF_ROLES)
        out = opted_out(session, kind=DIGEST, user_ids=[u.id or 0 for u in staff])
        staff = [u for u in staff if u.email and u.is_active and u.id not in out and f"{key}:u{u.id}" not in sent]
        if not staff:
            continue
        context = digest_context(session, course=course, now=now)
        written += notice_rows_once(
            session,
            [
                notice_row(
                    kind=DIGEST,
                    user=u,
                    course_id=course.id,
                    context=context,
                    now=now,
                    dedupe_key=key,
                    expires_at=start + timedelta(days=7),
                )
                for u in staff
            ],
        )
    return written
