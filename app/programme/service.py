"""The week-16 programme: sessions, talk slots and their order, poster boards, publication.

Talk times are never stored: they are derived from each session's start, talk length,
changeover and breaks and from each slot's position, so a reorder can never leave a gap or
an overlap inside a session. Sessions of a course may not overlap each other.
"""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from app.access import CourseAccess, course_for, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Course, GroupMembership, PosterBoard, Programme, ProjectGroup, TalkSession, TalkSlot, Topic, User
from app.programme.rules import (
    Break,
    NoSuchLocalTime,
    Span,
    fill_sessions,
    first_overlap,
    session_start,
    talk_order,
    talk_spans,
)
from app.programme.schemas import SessionIn
from app.selection.service import selection_get, selection_in_force_id

ERR_NO_SESSION = "No such session."
ERR_NO_SLOT = "No such talk slot."
ERR_NO_BOARD = "No such poster board."
ERR_NO_RUN = "No selection run is in force yet: publish one first."
ERR_NO_SESSIONS = "Create a session first: the talks need a date, a time and a room."
ERR_NO_ROOM = "The sessions hold {room} talks but {count} groups present: raise a session's maximum or add one."
ERR_OVERLAP = "Session {a} and session {b} would overlap."
ERR_SESSION_HAS_TALKS = "The session still holds talks: move them elsewhere or place the talks again first."
ERR_BREAK_AFTER = "A break must follow one of the session's talks (after 1 or later)."
ERR_MAX_TALKS = "The session already holds {count} talks, more than the new maximum."
ERR_STAFF_ONLY = "Only course staff change the programme."
ERR_LECTURER_ONLY = "Only the lecturer changes the poster session and the ballot rules (ballots can count in marks)."


@dataclass(frozen=True)
class GroupInfo:
    """What the programme shows of a group: name, topic and current members."""

    id: int
    name: str
    topic: str | None
    members: list[str]


@dataclass(frozen=True)
class TalkView:
    """A talk with its derived times."""

    slot: TalkSlot
    group: GroupInfo
    span: Span


@dataclass(frozen=True)
class SessionView:
    """A session with its talks and breaks in order; `span` is None while it has no talks."""

    session: TalkSession
    start: datetime
    talks: list[TalkView]
    breaks: list[Span]

    @property
    def span(self) -> Span | None:
        """From the first talk's start to the last talk's end."""
        return Span(self.talks[0].span.starts_at, self.talks[-1].span.ends_at) if self.talks else None


@dataclass(frozen=True)
class BoardRow:
    """A poster board's columns (plain values: building 1,000 ORM rows costs more than the query)."""

    id: int
    group_id: int
    number: int


@dataclass(frozen=True)
class BoardView:
    """A poster board and the group whose poster hangs on it."""

    board: BoardRow
    group: GroupInfo


@dataclass(frozen=True)
class ProgrammeView:
    """The week-16 programme as one user may see it."""

    access: CourseAccess
    programme: Programme
    run_id: int | None
    sessions: list[SessionView]
    boards: list[BoardView]

    @property
    def course(self) -> Course:
        """The course."""
        return self.access.course

    def talk_of(self, group_id: int) -> tuple[SessionView, TalkView] | None:
        """The session and talk of a group, if it presents."""
        for view in self.sessions:
            for talk in view.talks:
                if talk.group.id == group_id:
                    return view, talk
        return None

    def board_of(self, group_id: int) -> BoardView | None:
        """The board of a poster group."""
        return next((b for b in self.boards if b.group.id == group_id), None)


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


def _groups_info(session: Session, *, course_id: int, group_ids: set[int]) -> dict[int, GroupInfo]:
    # Filtered by course, not by a list of a thousand ids, and sorted here: cheaper on both backends.
    if not group_ids:
        return {}
    names = {
        gid: name
        for gid, name in session.exec(
            select(ProjectGroup.id, ProjectGroup.name).where(ProjectGroup.course_id == course_id)
        )
        if gid in group_ids
    }
    topics = dict(
        session.exec(
            select(Topic.group_id, Topic.title)
            .join(ProjectGroup, col(ProjectGroup.id) == col(Topic.group_id))
            .where(ProjectGroup.course_id == course_id)
        ).all()
    )
    people: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for group_id, user_id, name in session.exec(
        select(GroupMembership.group_id, User.id, User.name)
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .where(GroupMembership.course_id == course_id, col(GroupMembership.left_at).is_(None))
    ):
        if group_id in group_ids:
            people[group_id].append((name, user_id or 0))
    return {
        gid: GroupInfo(
            id=gid, name=names[gid], topic=topics.get(gid), members=[name for name, _ in sorted(people[gid])]
        )
        for gid in sorted(group_ids)
        if gid in names
    }


def _breaks(row: TalkSession) -> list[Break]:
    return [Break(after=int(b["after"]), minutes=int(b["minutes"])) for b in row.breaks]


def _session_views(
    session: Session, course: Course, rows: list[TalkSession], slots: list[TalkSlot], info: dict[int, GroupInfo]
) -> list[SessionView]:
    by_session: dict[int, list[TalkSlot]] = defaultdict(list)
    for slot in sorted(slots, key=lambda s: (s.session_id, s.position)):
        by_session[slot.session_id].append(slot)
    views = []
    for row in rows:
        start = session_start(row.day, row.start_time, course.timezone)
        mine = by_session[row.id or 0]
        talks, pauses = talk_spans(
            start=start,
            count=len(mine),
            talk_minutes=row.talk_minutes,
            changeover_minutes=row.changeover_minutes,
            breaks=_breaks(row),
        )
        views.append(
            SessionView(
                session=row,
                start=start,
                breaks=pauses,
                talks=[TalkView(slot=s, group=info[s.group_id], span=t) for s, t in zip(mine, talks, strict=True)],
            )
        )
    return views


def _load(session: Session, course: Course) -> tuple[list[TalkSession], list[TalkSlot]]:
    rows = list(
        session.exec(
            select(TalkSession)
            .where(TalkSession.course_id == course.id)
            .order_by(col(TalkSession.day), col(TalkSession.start_time), col(TalkSession.id))
        )
    )
    slots = list(session.exec(select(TalkSlot).where(TalkSlot.course_id == course.id)))
    return rows, slots


def _boards(session: Session, course_id: int) -> list[BoardRow]:
    return [
        BoardRow(id=i or 0, group_id=g, number=n)
        for i, g, n in session.exec(
            select(PosterBoard.id, PosterBoard.group_id, PosterBoard.number)
            .where(PosterBoard.course_id == course_id)
            .order_by(col(PosterBoard.number))
        )
    ]


def programme_view(session: Session, *, user: User, course_id: int, now: datetime) -> ProgrammeView:
    """The programme (course members): staff see it all, drafts too; students the published programme."""
    access = course_for(session, course_id=course_id, user=user)
    row = session.exec(select(Programme).where(Programme.course_id == course_id)).first()
    if row is None:
        row = Programme(course_id=course_id, updated_at=now)  # not stored: reading changes nothing
    if not access.is_staff and row.published_at is None:
        return ProgrammeView(access=access, programme=row, run_id=None, sessions=[], boards=[])
    return programme_build(session, access=access, row=row)


def programme_build(session: Session, *, access: CourseAccess, row: Programme) -> ProgrammeView:
    """The whole programme (no visibility check: callers decide what `access` may see)."""
    course = access.course
    rows, slots = _load(session, course)
    boards = _boards(session, course.id or 0)
    info = _groups_info(
        session, course_id=course.id or 0, group_ids={s.group_id for s in slots} | {b.group_id for b in boards}
    )
    return ProgrammeView(
        access=access,
        programme=row,
        run_id=selection_in_force_id(session, course_id=course.id or 0),
        sessions=_session_views(session, course, rows, slots, info),
        boards=[BoardView(board=b, group=info[b.group_id]) for b in boards],
    )


def _check_no_overlap(session: Session, course: Course) -> None:
    rows, slots = _load(session, course)
    info = {s.group_id: GroupInfo(id=s.group_id, name="", topic=None, members=[]) for s in slots}
    spans = [(v.session.id or 0, v.span) for v in _session_views(session, course, rows, slots, info) if v.span]
    clash = first_overlap(spans)
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
    _check_no_overlap(session, course)
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.session_create",
        entity="programme_session",
        entity_id=row.id,
        course_id=course_id,
        after=_session_snapshot(row),
    )
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
    _check_no_overlap(session, course)
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.session_update",
        entity="programme_session",
        entity_id=row.id,
        course_id=course_id,
        before=before,
        after=_session_snapshot(row),
    )
    return row


def session_delete(session: Session, *, user: User, course_id: int, session_id: int, now: datetime) -> None:
    """Remove an empty session (staff)."""
    _, row = _session_for(session, user=user, course_id=course_id, session_id=session_id)
    programme_row(session, course_id=course_id, now=now, lock=True)
    if session.exec(select(TalkSlot.id).where(TalkSlot.session_id == row.id)).first() is not None:
        raise Conflict(ERR_SESSION_HAS_TALKS, code="session_not_empty")
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.session_delete",
        entity="programme_session",
        entity_id=row.id,
        course_id=course_id,
        before=_session_snapshot(row),
    )
    session.delete(row)


def talks_place(session: Session, *, user: User, course_id: int, mode: str, seed: int | None, now: datetime) -> None:
    """Place the presenting groups of the run in force into the sessions, by ranking or seeded random order (staff).

    Any previous placement is replaced. A random order without a seed gets a new one; either way the
    seed is stored, and the same seed gives the same order again.
    """
    access = staff_access(session, user=user, course_id=course_id)
    row = programme_row(session, course_id=course_id, now=now, lock=True)
    run_id = selection_in_force_id(session, course_id=course_id)
    if run_id is None:
        raise Conflict(ERR_NO_RUN, code="no_selection_in_force")
    presenting = selection_get(session, user=user, selection_id=run_id).presenting
    if mode == "random" and seed is None:
        seed = secrets.randbelow(2**31)
    order = talk_order(presenting, mode=mode, seed=seed if mode == "random" else None)
    rows = list(
        session.exec(
            select(TalkSession)
            .where(TalkSession.course_id == course_id)
            .order_by(col(TalkSession.day), col(TalkSession.start_time), col(TalkSession.id))
        )
    )
    if not rows and order:
        raise Conflict(ERR_NO_SESSIONS, code="no_sessions")
    dealt = fill_sessions(order, [r.max_talks for r in rows])
    if dealt is None:
        room = sum(r.max_talks or 0 for r in rows)
        raise Conflict(ERR_NO_ROOM.format(room=room, count=len(order)), code="no_room")
    session.execute(delete(TalkSlot).where(col(TalkSlot.course_id) == course_id))
    session.add_all(
        [
            TalkSlot(course_id=course_id, session_id=r.id or 0, group_id=gid, position=i)
            for r, groups in zip(rows, dealt, strict=True)
            for i, gid in enumerate(groups)
        ]
    )
    row.order_mode, row.seed, row.updated_at = mode, seed if mode == "random" else None, now
    session.add(row)
    session.flush()
    _check_no_overlap(session, access.course)
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.place",
        entity="programme",
        entity_id=row.id,
        course_id=course_id,
        after={"mode": mode, "seed": row.seed, "run": run_id, "order": order},
    )


def slot_move(
    session: Session, *, user: User, course_id: int, slot_id: int, session_id: int, position: int, now: datetime
) -> None:
    """Move a talk to a position (0-based, clamped) in a session (staff); every session stays gap-free."""
    access = staff_access(session, user=user, course_id=course_id)
    row = programme_row(session, course_id=course_id, now=now, lock=True)
    slot = session.get(TalkSlot, slot_id) if is_row_id(slot_id) else None
    if slot is None or slot.course_id != course_id:
        raise NotFound(ERR_NO_SLOT)
    target = session.get(TalkSession, session_id) if is_row_id(session_id) else None
    if target is None or target.course_id != course_id:
        raise InvalidInput(ERR_NO_SESSION, field="session_id")
    slots = list(
        session.exec(
            select(TalkSlot)
            .where(TalkSlot.course_id == course_id)
            .order_by(col(TalkSlot.session_id), col(TalkSlot.position))
        )
    )
    lanes: dict[int, list[TalkSlot]] = defaultdict(list)
    for s in slots:
        if s.id != slot.id:
            lanes[s.session_id].append(s)
    lane = lanes[session_id]
    if target.max_talks is not None and slot.session_id != session_id and len(lane) >= target.max_talks:
        raise Conflict(ERR_MAX_TALKS.format(count=len(lane)), code="session_full")
    before = {"session_id": slot.session_id, "position": slot.position}
    lane.insert(max(0, min(position, len(lane))), slot)
    slot.session_id = session_id
    # Two steps: the unique (session, position) pair must hold after each flush.
    for s in slots:
        s.position = -(s.id or 0)
    session.flush()
    for lane_slots in lanes.values():
        for index, s in enumerate(lane_slots):
            s.position = index
    session.flush()
    _check_no_overlap(session, access.course)
    row.updated_at = now
    session.add(row)
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.move",
        entity="programme_slot",
        entity_id=slot.id,
        course_id=course_id,
        before=before,
        after={"session_id": session_id, "position": slot.position},
    )


def slots_prune(session: Session, *, course_id: int) -> list[int]:
    """Drop the talks of groups that no longer present and close the gaps they leave; returns those groups.

    No access check: the publish flow calls it after checking.
    """
    slots = list(
        session.exec(
            select(TalkSlot)
            .where(TalkSlot.course_id == course_id)
            .order_by(col(TalkSlot.session_id), col(TalkSlot.position))
        )
    )
    presenting = set(
        session.exec(
            select(ProjectGroup.id).where(ProjectGroup.course_id == course_id, ProjectGroup.deliverable == "slides")
        )
    )
    gone = [s for s in slots if s.group_id not in presenting]
    if not gone:
        return []
    for s in gone:
        session.delete(s)
    session.flush()
    kept = [s for s in slots if s.group_id in presenting]
    for s in kept:
        s.position = -(s.id or 0)
    session.flush()
    lanes: dict[int, int] = defaultdict(int)
    for s in kept:
        s.position = lanes[s.session_id]
        lanes[s.session_id] += 1
    session.flush()
    return sorted(s.group_id for s in gone)


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
