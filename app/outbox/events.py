"""The notices other services send: one documented function per event, each called in the event's transaction.

Every function only adds outbox rows to the caller's session (see `notice_enqueue`), so a change
that rolls back sends nothing. Instants are shown in the course's time zone.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from app.access import STUDENT
from app.models import Course, Milestone, Notice, ProjectGroup, Submission, Topic, User
from app.outbox.service import course_group_members, course_people, group_members, link, notice_enqueue

if TYPE_CHECKING:  # the outbox sits below every domain: it names the receipt's lateness type, never imports it
    from app.milestones.rules import Lateness


def _course(course: Course) -> dict[str, str]:
    return {"code": course.code, "title": course.title, "timezone": course.timezone}


def _group_context(course: Course, group: ProjectGroup) -> dict[str, object]:
    return {
        "course": _course(course),
        "group": {"id": group.id, "name": group.name},
        "status_url": link(f"/ui/groups/{group.id}/status"),
    }


def _to_group(
    session: Session,
    *,
    kind: str,
    course: Course,
    group: ProjectGroup,
    now: datetime,
    members: list[User] | None = None,
    **context: object,
) -> list[Notice]:
    """A notice about a group to its current members (`members` when the caller read every group's at once)."""
    return notice_enqueue(
        session,
        kind=kind,
        users=group_members(session, group_id=group.id or 0) if members is None else members,
        now=now,
        course_id=course.id,
        context={**_group_context(course, group), **context},
    )


def notice_activation(
    session: Session,
    *,
    course: Course,
    user: User,
    code: str,
    expires_at: datetime,
    now: datetime,
    invited: bool = False,
) -> list[Notice]:
    """A new account's one-time activation code, emailed instead of handed out (the roster import's flag).

    An `invited` account joins the course when it activates; its notice stays out of the course's
    outbox, where staff would tell it apart from an invitation to an existing account.
    """
    return notice_enqueue(
        session,
        kind="activation",
        users=[user],
        now=now,
        course_id=None if invited else course.id,
        secret=code,
        context={
            "course": _course(course),
            "code": code,
            "invited": invited,
            "expires_at": expires_at,
            "activate_url": link("/api/v1/auth/activate"),
            "login_url": link("/ui/login"),
        },
    )


def notice_upload_receipt(
    session: Session,
    *,
    course: Course,
    group: ProjectGroup,
    milestone: Milestone,
    submission: Submission,
    deadline: datetime,
    lateness: "Lateness",
    now: datetime,
) -> list[Notice]:
    """The receipt of an upload, to every member: version, SHA-256, receipt time, lateness and format findings."""
    report = submission.format_report
    return _to_group(
        session,
        kind="receipt",
        course=course,
        group=group,
        now=now,
        milestone=milestone.title,
        submission=submission,
        deadline=deadline,
        lateness=lateness,
        errors=report.get("errors", []),
        warnings=report.get("warnings", []),
    )


def notice_topic_decision(
    session: Session, *, course: Course, group: ProjectGroup, topic: Topic, now: datetime
) -> list[Notice]:
    """The staff decision on a group's topic, with its comment, to every member."""
    return _to_group(session, kind="topic_decision", course=course, group=group, now=now, topic=topic)


def notice_extension(
    session: Session,
    *,
    course: Course,
    group: ProjectGroup,
    milestone: Milestone,
    change: str,
    due_at: datetime,
    deadline: datetime,
    reason: str,
    previous: datetime | None,
    now: datetime,
) -> list[Notice]:
    """An extension `change`d (granted, changed or withdrawn), to every member, with the deadline that now holds."""
    if change not in ("granted", "changed", "withdrawn"):
        raise ValueError(change)
    return _to_group(
        session,
        kind=f"extension_{change}",
        course=course,
        group=group,
        now=now,
        milestone=milestone.title,
        change=change,
        due_at=due_at,
        deadline=deadline,
        reason=reason,
        previous=previous,
    )


def notice_marks_released(session: Session, *, course: Course, milestone: Milestone, now: datetime) -> list[Notice]:
    """A milestone's marks and reviews are released: to every student of the course."""
    return notice_enqueue(
        session,
        kind="marks_released",
        users=course_people(session, course_id=course.id or 0, roles=[STUDENT]),
        now=now,
        course_id=course.id,
        context={"course": _course(course), "milestone": milestone.title, "home_url": link("/ui")},
    )


def notice_selection_published(
    session: Session,
    *,
    course: Course,
    groups: Iterable[ProjectGroup],
    now: datetime,
    superseded: bool = False,
    places: dict[int, str] | None = None,
) -> list[Notice]:
    """The published (or, with `superseded`, the replacing) selection: each group's deliverable and place.

    `places` maps a group id to its slot or board in words, once the week-16 programme has one.
    """
    kind = "selection_superseded" if superseded else "selection_published"
    members = course_group_members(session, course_id=course.id or 0)  # one query, however many groups
    notices: list[Notice] = []
    for group in groups:
        notices += _to_group(
            session,
            kind=kind,
            course=course,
            group=group,
            now=now,
            members=members.get(group.id or 0, []),
            deliverable=group.deliverable,
            place=(places or {}).get(group.id or 0),
        )
    return notices


def notice_programme_placed(
    session: Session, *, course: Course, group: ProjectGroup, place: str, starts_at: datetime | None, now: datetime
) -> list[Notice]:
    """A group's presentation slot or poster board in the week-16 programme (`place` in words), to every member."""
    return _to_group(
        session,
        kind="programme_placed",
        course=course,
        group=group,
        now=now,
        deliverable=group.deliverable,
        place=place,
        starts_at=starts_at,
    )


def notice_programme_published(
    session: Session, *, course: Course, places: list[tuple[ProjectGroup, str, datetime | None]], now: datetime
) -> list[Notice]:
    """Each group's slot or board, as `notice_programme_placed` words it, with every group's members in one query."""
    members = course_group_members(session, course_id=course.id or 0)
    notices: list[Notice] = []
    for group, place, starts_at in places:
        notices += _to_group(
            session,
            kind="programme_placed",
            course=course,
            group=group,
            now=now,
            members=members.get(group.id or 0, []),
            deliverable=group.deliverable,
            place=place,
            starts_at=starts_at,
        )
    return notices


def notice_password_changed(session: Session, *, user: User, now: datetime) -> list[Notice]:
    """A security notice: the account's password changed (always sent; it cannot be turned off)."""
    return notice_enqueue(
        session, kind="password_changed", users=[user], now=now, context={"at": now, "login_url": link("/ui/login")}
    )


def notice_account_disabled(session: Session, *, user: User, now: datetime) -> list[Notice]:
    """A security notice: the account was disabled (sent although the account can no longer log in)."""
    return notice_enqueue(session, kind="account_disabled", users=[user], now=now, context={"at": now})


def notice_invitation(
    session: Session, *, course: Course, user: User, role: str, expires_at: datetime, now: datetime
) -> list[Notice]:
    """An existing account is invited into a course; it joins only if its owner accepts.

    Kept out of the course's outbox (no course id): staff must not learn which lines reached an account.
    """
    return notice_enqueue(
        session,
        kind="invitation",
        users=[user],
        now=now,
        context={
            "course": _course(course),
            "role": "teaching assistant" if role == "ta" else role,
            "expires_at": expires_at,
            "home_url": link("/ui"),
            "api_url": link("/api/v1/me/invitations"),
        },
    )
