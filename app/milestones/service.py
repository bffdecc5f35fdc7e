"""Milestone deadlines and rules, per-group extensions, the course calendar and the per-user calendar feed."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import and_, bindparam
from sqlmodel import Session, col, select

from app.access import (
    GROUP_WITH_ROLE,
    LECTURER,
    CourseAccess,
    GroupAccess,
    course_for,
    current_group_id,
    group_access,
    group_for,
    is_row_id,
)
from app.audit.service import audit_record
from app.config import get_settings
from app.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from app.milestones.rules import effective_deadline, milestone_deadline
from app.milestones.schemas import ExtensionIn, MilestoneUpdate
from app.models import Course, CourseMember, Extension, Milestone, ProjectGroup, User
from app.outbox.events import notice_extension
from app.people.service import tokens_revoke
from app.tokens import token_issue, user_from_token

ERR_NO_MILESTONE = "No such milestone."
ERR_LECTURER_ONLY = "Only the course's lecturer changes milestones."
ERR_STAFF_ONLY = "Only course staff grant or withdraw extensions."
ERR_NO_EXTENSION = "This group has no extension for this milestone."
ERR_EXTENSION_NOT_LATER = "An extension must end after the milestone's deadline."
ERR_NO_FEED = "No such calendar feed; it was revoked, replaced or has expired."
CALENDAR_PRODID = "-//Course Project Tracker//Deadlines//EN"
FEED_CALENDAR_NAME = "Course project deadlines"
FEED_KIND = "feed"
# Another domain's calendar events for one user and course (week 16's talks), passed in by the routes.
EventSource = Callable[..., list[Event]]  # api_token.kind of calendar-feed secrets: never accepted as a bearer token


def course_milestones(session: Session, *, course_id: int) -> list[Milestone]:
    """The course's milestones in week order."""
    return list(
        session.exec(
            select(Milestone).where(Milestone.course_id == course_id).order_by(col(Milestone.week), col(Milestone.id))
        )
    )


def local_instant(instant: datetime, course: Course) -> datetime:
    """The instant in the course's time zone (for responses: ISO 8601 with the course's offset)."""
    return instant.astimezone(ZoneInfo(course.timezone))


# Built once: most course and group routes run it.
_MILESTONE_OF_COURSE = select(Milestone).where(
    col(Milestone.course_id) == bindparam("course_id"), col(Milestone.key) == bindparam("key")
)


def milestone_for(session: Session, *, course_id: int, key: str) -> Milestone:
    """The course's milestone with this key; NotFound otherwise."""
    milestone = session.exec(_MILESTONE_OF_COURSE, params={"course_id": course_id, "key": key}).first()
    if milestone is None:
        raise NotFound(ERR_NO_MILESTONE)
    return milestone


# The group as group_for sees it and its course's milestone in one query: the students' most
# frequent read (their list of versions) and every group-and-milestone route start with both.
_GROUP_AND_MILESTONE = GROUP_WITH_ROLE.add_columns(Milestone).outerjoin(
    Milestone, and_(col(Milestone.course_id) == col(ProjectGroup.course_id), col(Milestone.key) == bindparam("key"))
)


def group_milestone_for(
    session: Session,
    *,
    user: User,
    group_id: int,
    key: str,
    members_only: str | None = None,
    staff_only: str | None = None,
) -> tuple[GroupAccess, Milestone]:
    """The group (404 unless its member or staff), refused (403, with the message given) unless the caller is
    a member or staff as asked, and its course's milestone `key` (404 unless it exists)."""
    row = (
        # execute, not exec: sqlmodel's exec has no overload for a select extended with add_columns.
        session.execute(_GROUP_AND_MILESTONE, {"group_id": group_id, "user_id": user.id, "key": key}).first()
        if is_row_id(group_id)
        else None
    )
    access = group_access(None if row is None else (row[0], row[1], row[2], row[3]), user=user)
    if members_only is not None and not access.is_member:
        raise Forbidden(members_only)
    if staff_only is not None and not access.is_staff:
        raise Forbidden(staff_only)
    if row is None or row[4] is None:
        raise NotFound(ERR_NO_MILESTONE)
    return access, row[4]


def staff_group_milestone(
    session: Session, *, user: User, group_id: int, key: str, refusal: str
) -> tuple[GroupAccess, Milestone]:
    """The group (404 unless visible), refused with `refusal` (403) unless the caller is staff, and its milestone."""
    return group_milestone_for(session, user=user, group_id=group_id, key=key, staff_only=refusal)


def milestone_list(session: Session, *, user: User, course_id: int) -> tuple[Course, list[Milestone]]:
    """A course's milestones, for anyone with a role in the course."""
    access = course_for(session, course_id=course_id, user=user)
    return access.course, course_milestones(session, course_id=course_id)


def _milestone_snapshot(course: Course, milestone: Milestone) -> dict[str, Any]:
    return {
        "due_at": milestone_deadline(course, milestone).isoformat(),
        "due_at_override": milestone.due_at_override.isoformat() if milestone.due_at_override else None,
        "errors_block": milestone.errors_block,
        "page_limit": milestone.page_limit,
    }


def milestone_update(
    session: Session, *, user: User, course_id: int, key: str, data: MilestoneUpdate, now: datetime
) -> tuple[Course, Milestone]:
    """Change a milestone's deadline, blocking of format errors or page limit (lecturer); audited."""
    access = course_for(session, course_id=course_id, user=user)
    if not access.is_lecturer:
        raise Forbidden(ERR_LECTURER_ONLY)
    course = access.course
    milestone = milestone_for(session, course_id=course_id, key=key)
    before = _milestone_snapshot(course, milestone)
    given = data.model_fields_set
    if "due_at" in given:
        milestone.due_at_override = data.due_at
    if "errors_block" in given:
        if data.errors_block is None:
            raise InvalidInput("errors_block may not be null.", field="errors_block")
        milestone.errors_block = data.errors_block
    if "page_limit" in given:
        if data.page_limit is None and milestone.ruleset in ("proposal", "report"):
            raise InvalidInput("A paper milestone needs a page limit.", field="page_limit")
        milestone.page_limit = data.page_limit
    session.add(milestone)
    after = _milestone_snapshot(course, milestone)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit_record(
            session,
            at=now,
            actor=user,
            action="milestone.update",
            entity="milestone",
            entity_id=milestone.id,
            course_id=course.id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return course, milestone


def _extension_snapshot(extension: Extension, key: str) -> dict[str, Any]:
    return {
        "group_id": extension.group_id,
        "milestone": key,
        "due_at": extension.due_at.isoformat(),
        "reason": extension.reason,
    }


def extension_grant(
    session: Session, *, user: User, group_id: int, data: ExtensionIn, now: datetime
) -> tuple[Course, Extension, Milestone]:
    """Grant or change a group's extension for a milestone (staff); audited."""
    access, milestone = staff_group_milestone(
        session, user=user, group_id=group_id, key=data.milestone, refusal=ERR_STAFF_ONLY
    )
    if data.due_at <= milestone_deadline(access.course, milestone):
        raise InvalidInput(ERR_EXTENSION_NOT_LATER, field="due_at")
    extension = session.exec(
        select(Extension).where(Extension.group_id == group_id, Extension.milestone_id == milestone.id)
    ).first()
    before = _extension_snapshot(extension, milestone.key) if extension else None
    previous = extension.due_at if extension else None
    if extension is None:
        extension = Extension(
            group_id=group_id,
            milestone_id=milestone.id or 0,
            due_at=data.due_at,
            reason=data.reason,
            granted_by=user.id,
            created_at=now,
        )
    else:
        extension.due_at, extension.reason, extension.granted_by = data.due_at, data.reason, user.id
    session.add(extension)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="extension.grant",
        entity="extension",
        entity_id=extension.id,
        course_id=access.course.id,
        before=before,
        after=_extension_snapshot(extension, milestone.key),
    )
    if previous != extension.due_at:
        notice_extension(
            session,
            course=access.course,
            group=access.group,
            milestone=milestone,
            change="granted" if previous is None else "changed",
            due_at=extension.due_at,
            deadline=extension.due_at,
            reason=extension.reason,
            previous=previous,
            now=now,
        )
    return access.course, extension, milestone


def extension_revoke(session: Session, *, user: User, group_id: int, key: str, now: datetime) -> None:
    """Withdraw a group's extension for a milestone (staff); audited."""
    access, milestone = staff_group_milestone(session, user=user, group_id=group_id, key=key, refusal=ERR_STAFF_ONLY)
    extension = session.exec(
        select(Extension).where(Extension.group_id == group_id, Extension.milestone_id == milestone.id)
    ).first()
    if extension is None:
        raise NotFound(ERR_NO_EXTENSION)
    audit_record(
        session,
        at=now,
        actor=user,
        action="extension.revoke",
        entity="extension",
        entity_id=extension.id,
        course_id=access.course.id,
        before=_extension_snapshot(extension, milestone.key),
    )
    notice_extension(
        session,
        course=access.course,
        group=access.group,
        milestone=milestone,
        change="withdrawn",
        due_at=extension.due_at,
        deadline=milestone_deadline(access.course, milestone),
        reason="",
        previous=extension.due_at,
        now=now,
    )
    session.delete(extension)


def extension_list(session: Session, *, user: User, group_id: int) -> tuple[Course, list[tuple[Extension, Milestone]]]:
    """A group's extensions with their milestones (members and staff)."""
    access = group_for(session, group_id=group_id, user=user)
    rows = session.exec(
        select(Extension, Milestone)
        .join(Milestone, col(Milestone.id) == col(Extension.milestone_id))
        .where(Extension.group_id == group_id)
        .order_by(col(Milestone.week), col(Milestone.id))
    ).all()
    return access.course, [(e, m) for e, m in rows]


def calendar_ics(
    session: Session, *, user: User, course_id: int, now: datetime, sources: tuple[EventSource, ...] = ()
) -> bytes:
    """One course's deadlines as iCalendar (course members); a member sees their group's extensions."""
    access = course_for(session, course_id=course_id, user=user)
    return calendar_build(
        session, user=user, courses=[access], now=now, name=f"{access.course.code} deadlines", sources=sources
    )


def calendar_build(
    session: Session,
    *,
    user: User,
    courses: list[CourseAccess],
    now: datetime,
    name: str,
    sources: tuple[EventSource, ...] = (),
) -> bytes:
    """The deadlines of `courses` as `user` sees them, as iCalendar, each in its course's time zone.

    Staff see the milestone deadlines; a student sees their current group's extensions instead.
    Each of `sources` adds its events, called as source(session, user=, access=, now=).
    """
    calendar = Calendar()
    calendar.add("prodid", CALENDAR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    zones = {access.course.timezone for access in courses}
    if len(zones) == 1:
        calendar.add("x-wr-timezone", zones.pop())
    for access in courses:
        for event in _course_events(session, user=user, access=access, now=now):
            calendar.add_component(event)
        for source in sources:
            for event in source(session, user=user, access=access, now=now):
                calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def _course_events(session: Session, *, user: User, access: CourseAccess, now: datetime) -> list[Event]:
    course = access.course
    extended: dict[int, datetime] = {}
    group = None
    if not access.is_staff:
        group_id = current_group_id(session, course_id=course.id or 0, user_id=user.id or 0)
        if group_id is not None:
            group = session.get(ProjectGroup, group_id)
            extended = {
                e.milestone_id: e.due_at for e in session.exec(select(Extension).where(Extension.group_id == group_id))
            }
    events = []
    for milestone in course_milestones(session, course_id=course.id or 0):
        due = milestone_deadline(course, milestone)
        deadline = effective_deadline(due, extended.get(milestone.id or 0))
        event = Event()
        if group is not None and deadline != due:
            event.add("uid", f"course-{course.id}-milestone-{milestone.key}-group-{group.id}@tracker")
            event.add("summary", f"{course.code}: {milestone.title} due (extended for {group.name})")
            event.add("description", f"Extended from {local_instant(due, course).isoformat()}.")
        else:
            event.add("uid", f"course-{course.id}-milestone-{milestone.key}@tracker")
            event.add("summary", f"{course.code}: {milestone.title} due")
        event.add("dtstamp", now)
        event.add("dtstart", local_instant(deadline, course))
        event.add("categories", ["deadline"])
        events.append(event)
    return events


def user_courses(session: Session, *, user: User) -> list[CourseAccess]:
    """Every course the user has a role in, by id, with that role (admins count as lecturers, as in course_role)."""
    rows = session.exec(
        select(Course, CourseMember.role)
        .join(CourseMember, col(CourseMember.course_id) == col(Course.id))
        .where(CourseMember.user_id == user.id)
        .order_by(col(Course.id))
    ).all()
    return [CourseAccess(course=course, role=LECTURER if user.is_admin else role) for course, role in rows]


def _lock_feeds(session: Session, *, user: User) -> None:
    # Two concurrent issues must not leave two live feeds: serialise them on the user's row
    # (NO KEY UPDATE, so logins inserting tokens for this user are not blocked; SQLite: BEGIN IMMEDIATE).
    session.exec(select(User.id).where(User.id == user.id).with_for_update(key_share=True)).one()


def calendar_feed_issue(session: Session, *, user: User, now: datetime) -> str:
    """A new calendar-feed secret for the user; their previous feed URL stops working; audited."""
    _lock_feeds(session, user=user)
    revoked = tokens_revoke(session, user=user, kind=FEED_KIND, now=now)
    secret, token = token_issue(
        session, user=user, now=now, kind=FEED_KIND, ttl=timedelta(days=get_settings().feed_ttl_days)
    )
    audit_record(
        session,
        at=now,
        actor=user,
        action="calendar_feed.issue",
        entity="api_token",
        entity_id=token.id,
        course_id=None,
        before={"revoked": [t.id for t in revoked]} if revoked else None,
        after={"expires_at": token.expires_at.isoformat()},
    )
    return secret


def calendar_feed_revoke(session: Session, *, user: User, now: datetime) -> None:
    """Revoke the user's calendar feed (a no-op without one); audited."""
    _lock_feeds(session, user=user)
    for token in tokens_revoke(session, user=user, kind=FEED_KIND, now=now):
        audit_record(
            session,
            at=now,
            actor=user,
            action="calendar_feed.revoke",
            entity="api_token",
            entity_id=token.id,
            course_id=None,
            before={"expires_at": token.expires_at.isoformat()},
        )


def calendar_feed_ics(session: Session, *, secret: str, now: datetime, sources: tuple[EventSource, ...] = ()) -> bytes:
    """The deadlines of every course of the feed's owner, as calendar.ics shows each; NotFound for a dead secret."""
    try:
        user = user_from_token(session, token=secret, now=now, kind=FEED_KIND)
    except NotAuthenticated:
        raise NotFound(ERR_NO_FEED) from None
    return calendar_build(
        session, user=user, courses=user_courses(session, user=user), now=now, name=FEED_CALENDAR_NAME, sources=sources
    )
