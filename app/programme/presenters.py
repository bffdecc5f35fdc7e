"""Turning the programme service's results into the API's response schemas, for the routes and the pages."""

from datetime import datetime

from app.milestones.service import local_instant
from app.models import PosterBallot, PosterBoard
from app.programme import service
from app.programme.schemas import (
    BallotPublic,
    BoardPublic,
    BreakIn,
    BreakPublic,
    GroupRef,
    ProgrammePublic,
    SessionPublic,
    TalkPublic,
)


def _group(info: service.GroupInfo) -> GroupRef:
    return GroupRef(id=info.id, name=info.name, topic=info.topic, members=info.members)


def session_public(view: service.ProgrammeView, s: service.SessionView) -> SessionPublic:
    """A session with its talks' times in the course time zone."""
    course, row = view.course, s.session
    span = s.span
    return SessionPublic(
        id=row.id or 0,
        title=row.title,
        day=row.day,
        start_time=row.start_time,
        room=row.room,
        talk_minutes=row.talk_minutes,
        changeover_minutes=row.changeover_minutes,
        breaks=[BreakIn(**b) for b in row.breaks],
        max_talks=row.max_talks,
        starts_at=local_instant(s.start, course),
        ends_at=local_instant(span.ends_at, course) if span else None,
        talks=[
            TalkPublic(
                slot_id=t.slot.id or 0,
                position=t.slot.position,
                group=_group(t.group),
                starts_at=local_instant(t.span.starts_at, course),
                ends_at=local_instant(t.span.ends_at, course),
            )
            for t in s.talks
        ],
        pauses=[
            BreakPublic(starts_at=local_instant(b.starts_at, course), ends_at=local_instant(b.ends_at, course))
            for b in s.breaks
        ],
    )


def programme_public(view: service.ProgrammeView, counts: dict[int, int] | None = None) -> ProgrammePublic:
    """The programme as returned by the API; ballot counts only when given (staff)."""
    row, course = view.programme, view.course

    def local(instant: datetime | None) -> datetime | None:
        return local_instant(instant, course) if instant is not None else None

    return ProgrammePublic(
        course_id=course.id or 0,
        timezone=course.timezone,
        selection_in_force=view.run_id,
        published_at=local(row.published_at),
        order=row.order_mode,
        seed=row.seed,
        poster_starts_at=local(row.poster_starts_at),
        poster_ends_at=local(row.poster_ends_at),
        poster_room=row.poster_room,
        ballots_open=row.ballots_open,
        max_ballots=row.max_ballots,
        ballots_count=row.ballots_count,
        ballot_weight=row.ballot_weight,
        sessions=[session_public(view, s) for s in view.sessions],
        boards=[
            BoardPublic(
                id=b.board.id or 0,
                number=b.board.number,
                group=_group(b.group),
                ballots=counts.get(b.group.id, 0) if counts is not None else None,
            )
            for b in view.boards
        ],
    )


def ballot_public(ballot: PosterBallot, board: PosterBoard) -> BallotPublic:
    return BallotPublic(
        board_id=board.id or 0,
        board_number=board.number,
        group_id=ballot.group_id,
        score=ballot.score,
        cast_at=ballot.cast_at,
    )
