"""Calendar events of week 16: one per talk (members of its group; staff see all) and the poster session."""

from datetime import datetime

from icalendar import Event
from sqlmodel import Session, select

from app.access import CourseAccess, current_group_id
from app.milestones.service import local_instant
from app.models import Programme, User
from app.programme.views import ProgrammeView, SessionView, TalkView, programme_build


def programme_events(session: Session, *, user: User, access: CourseAccess, now: datetime) -> list[Event]:
    """The published programme's events for this user: staff get every talk, a student their group's talk or board."""
    row = session.exec(select(Programme).where(Programme.course_id == access.course.id)).first()
    if row is None or row.published_at is None:
        return []
    view = programme_build(session, access=access, row=row)
    group_id = (
        None if access.is_staff else current_group_id(session, course_id=access.course.id or 0, user_id=user.id or 0)
    )
    events = [
        _talk_event(view, s, t, now)
        for s in view.sessions
        for t in s.talks
        if access.is_staff or t.group.id == group_id
    ]
    board = view.board_of(group_id) if group_id is not None else None
    if row.poster_starts_at and row.poster_ends_at and (access.is_staff or board is not None):
        events.append(_poster_event(view, board.board.number if board else None, now))
    return events


def _talk_event(view: ProgrammeView, session_view: SessionView, talk: TalkView, now: datetime) -> Event:
    course = view.course
    event = Event()
    event.add("uid", f"course-{course.id}-talk-group-{talk.group.id}@tracker")
    event.add("summary", f"{course.code}: talk by {talk.group.name}")
    topic = f" — {talk.group.topic}" if talk.group.topic else ""
    event.add("description", f"{talk.group.name}{topic}. Speakers: {', '.join(talk.group.members)}.")
    event.add("location", session_view.session.room)
    event.add("dtstamp", now)
    event.add("dtstart", local_instant(talk.span.starts_at, course))
    event.add("dtend", local_instant(talk.span.ends_at, course))
    event.add("categories", ["presentation"])
    return event


def _poster_event(view: ProgrammeView, number: int | None, now: datetime) -> Event:
    course, row = view.course, view.programme
    event = Event()
    event.add("uid", f"course-{course.id}-poster-session@tracker")
    event.add("summary", f"{course.code}: poster session" + (f" (your board: {number})" if number else ""))
    event.add("location", row.poster_room)
    event.add("dtstamp", now)
    event.add("dtstart", local_instant(row.poster_starts_at, course))  # type: ignore[arg-type]
    event.add("dtend", local_instant(row.poster_ends_at, course))  # type: ignore[arg-type]
    event.add("categories", ["poster"])
    return event
