"""The week-16 programme's settings and sessions: who may change them, and the changes themselves.

Sessions of a course may not overlap each other; talk placement lives in `slots`, the read model in `views`.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.access import CourseAccess, course_for, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Course, Programme, TalkSession, TalkSlot, User
from app.programme.rules import NoSuchLocalTime, session_start
from app.programme.schemas import SessionIn
from app.programme.views import sessions_clash

ERR_NO_SESSION = "No such session."
ERR_NO_BOARD = "No such poster board."
ERR_OVERLAP = "Session {a} and session {b} would overlap."
ERR_SESSION_HAS_TALKS = "The session still holds talks: move them elsewhere or place the talks again first."
ERR_BREAK_AFTER = "A break must follow one of the session's talks (after 1 or later)."
ERR_MAX_TALKS = "The session already holds {count} talks, more than the new maximum."
ERR_STAFF_ONLY = "Only course staff change the programme."
ERR_LECTURER_ONLY = "Only the lecturer changes the poster session and the ballot rules (ballots can count in marks)."


def staff_access(session: Session, *, user: User, course_id: int, lecturer: bool = False) -> CourseAccess:
    """The course for a programme change: 404 for outsiders, 403 for members who may read but not change it."""
    access = course_for(session, course_id=course_id, user=user)
    if lecturer and not access.is_lecturer:
        raise Forbidden(ERR_LECTURER_ONLY, code="lecturer_only")
    if not access.is_staff:
        raise Forbidden(ERR_STAFF_ONLY, code="staff_only")
    return access


def programme_row(session: Session, *, course_id: int, now: datetime, lock: bool = False) -> Programme:
    """The course's programme settings, created with defaults on first use; `lock` serialises writers."""
    if lock:
        # NO KEY UPDATE on the course: programme writes of one course run one at a time.
        session.exec(select(Course.id).where(Course.id == course_id).with_for_update(key_share=True)).one()
    row = session.exec(select(Programme).where(Programme.course_id == course_id)).first()
    if row is None:
        row = Programme(course_id=course_id, updated_at=now)
        session.add(row)
        session.flush()
    return row


def sessions_overlap_check(session: Session, course: Course) -> None:
    """Refuse a change that leaves two of the course's sessions overlapping."""
    clash = sessions_clash(session, course)
    if clash:
        raise Conflict(ERR_OVERLAP.format(a=clash[0], b=clash[1]), code="sessions_overlap")


def _session_values(data: SessionIn, course: Course) -> dict[str, Any]:
    try:
        session_start(data.day, data.start_time, course.timezone)
    except NoSuchLocalTime as exc:
        raise InvalidInput(str(exc), field="start_time") from None
    if any(b.after < 1 for b in data.breaks):
        raise InvalidInput(ERR_BREAK_AFTER, field="breaks")
    values = data.model_dump()
    values["breaks"] = [{"after": b.after, "minutes": b.minutes} for b in sorted(data.breaks, key=lambda b: b.after)]
    return values


def session_create(session: Session, *, user: User, course_id: int, data: SessionIn, now: datetime) -> TalkSession:
    """Add a session of talks (staff); refused when it would overlap another."""
    course = staff_access(session, user=user, course_id=course_id).course
    programme_row(session, course_id=course_id, now=now, lock=True)
    row = TalkSession(course_id=course_id, created_at=now, **_session_values(data, course))
    session.add(row)
    session.flush()
    sessions_overlap_check(session, course)
    _session_audit(session, user=user, now=now, action="session_create", row=row, after=_session_snapshot(row))
    return row


def _session_snapshot(row: TalkSession) -> dict[str, Any]:
    return {
        "title": row.title,
        "day": row.day.isoformat(),
        "start_time": row.start_time.isoformat("minutes"),
        "room": row.room,
        "talk_minutes": row.talk_minutes,
        "changeover_minutes": row.changeover_minutes,
        "breaks": row.breaks,
        "max_talks": row.max_talks,
    }


def _session_audit(
    session: Session,
    *,
    user: User,
    now: datetime,
    action: str,
    row: TalkSession,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit_record(
        session,
        at=now,
        actor=user,
        action=f"programme.{action}",
        entity="programme_session",
        entity_id=row.id,
        course_id=row.course_id,
        before=before,
        after=after,
    )


def _session_for(session: Session, *, user: User, course_id: int, session_id: int) -> tuple[Course, TalkSession]:
    course = staff_access(session, user=user, course_id=course_id).course
    row = session.get(TalkSession, session_id) if is_row_id(session_id) else None
    if row is None or row.course_id != course_id:
        raise NotFound(ERR_NO_SESSION)
    return course, row


def session_update(
    session: Session, *, user: User, course_id: int, session_id: int, data: SessionIn, now: datetime
) -> TalkSession:
    """Change a session's date, time, room, lengths or breaks (staff); its talks move with it."""
    course, row = _session_for(session, user=user, course_id=course_id, session_id=session_id)
    programme_row(session, course_id=course_id, now=now, lock=True)
    before = _session_snapshot(row)
    held = len(session.exec(select(TalkSlot.id).where(TalkSlot.session_id == row.id)).all())
    if data.max_talks is not None and held > data.max_talks:
        raise Conflict(ERR_MAX_TALKS.format(count=held), code="session_full")
    for key, value in _session_values(data, course).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    sessions_overlap_check(session, course)
    _session_audit(
        session, user=user, now=now, action="session_update", row=row, before=before, after=_session_snapshot(row)
    )
    return row


def session_delete(session: Session, *, user: User, course_id: int, session_id: int, now: datetime) -> None:
    """Remove an empty session (staff)."""
    _, row = _session_for(session, user=user, course_id=course_id, session_id=session_id)
    programme_row(session, course_id=course_id, now=now, lock=True)
    if session.exec(select(TalkSlot.id).where(TalkSlot.session_id == row.id)).first() is not None:
        raise Conflict(ERR_SESSION_HAS_TALKS, code="session_not_empty")
    _session_audit(session, user=user, now=now, action="session_delete", row=row, before=_session_snapshot(row))
    session.delete(row)


def programme_update(session: Session, *, user: User, course_id: int, values: dict[str, Any], now: datetime) -> None:
    """Change the poster session's time and place and the ballot rules (lecturer; ballots change marks)."""
    staff_access(session, user=user, course_id=course_id, lecturer=True)
    row = programme_row(session, course_id=course_id, now=now, lock=True)
    before = {k: _jsonable(getattr(row, k)) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    starts, ends = row.poster_starts_at, row.poster_ends_at
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidInput("The poster session must end after it starts.", field="poster_ends_at")
    row.updated_at = now
    session.add(row)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.update",
        entity="programme",
        entity_id=row.id,
        course_id=course_id,
        before=before,
        after={k: _jsonable(getattr(row, k)) for k in values},
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
