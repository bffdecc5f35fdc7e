"""The week-16 programme as it is read: sessions with their derived talk times, poster boards, groups.

Talk times are never stored: they are derived from each session's start, talk length,
changeover and breaks and from each slot's position, so a reorder can never leave a gap or
an overlap inside a session.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.access import CourseAccess, course_for
from app.models import Course, GroupMembership, PosterBoard, Programme, ProjectGroup, TalkSession, TalkSlot, Topic, User
from app.programme.rules import Break, Span, first_overlap, session_start, talk_spans
from app.selection.service import selection_in_force_id


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


def sessions_of(session: Session, *, course_id: int) -> list[TalkSession]:
    """The course's sessions in time order."""
    return list(
        session.exec(
            select(TalkSession)
            .where(TalkSession.course_id == course_id)
            .order_by(col(TalkSession.day), col(TalkSession.start_time), col(TalkSession.id))
        )
    )


def _load(session: Session, course: Course) -> tuple[list[TalkSession], list[TalkSlot]]:
    slots = list(session.exec(select(TalkSlot).where(TalkSlot.course_id == course.id)))
    return sessions_of(session, course_id=course.id or 0), slots


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


def sessions_clash(session: Session, course: Course) -> tuple[int, int] | None:
    """The first two sessions of the course whose talks overlap, if any."""
    rows, slots = _load(session, course)
    info = {s.group_id: GroupInfo(id=s.group_id, name="", topic=None, members=[]) for s in slots}
    spans = [(v.session.id or 0, v.span) for v in _session_views(session, course, rows, slots, info) if v.span]
    return first_overlap(spans)
