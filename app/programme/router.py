"""Week-16 programme endpoints: sessions, talk slots, poster boards, ballots, and the CSV and PDF exports."""

from datetime import datetime

from fastapi import APIRouter, Response, status

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.errors import body_of
from app.milestones.service import local_instant
from app.models import PosterBallot, PosterBoard
from app.programme import ballots, boards, service, slots, views
from app.programme.export import programme_export
from app.programme.flows import programme_publish
from app.programme.schemas import (
    BallotIn,
    BallotPublic,
    BoardIn,
    BoardPublic,
    BreakIn,
    BreakPublic,
    GroupRef,
    MoveIn,
    MyBallotsPublic,
    PlaceIn,
    ProgrammePublic,
    ProgrammeUpdate,
    SessionIn,
    SessionPublic,
    TalkPublic,
)

router = APIRouter(prefix="/courses/{course_id}/programme", tags=["programme"], route_class=TransactionRoute)


def _group(info: views.GroupInfo) -> GroupRef:
    return GroupRef(id=info.id, name=info.name, topic=info.topic, members=info.members)


def session_public(view: views.ProgrammeView, s: views.SessionView) -> SessionPublic:
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


def programme_public(view: views.ProgrammeView, counts: dict[int, int] | None = None) -> ProgrammePublic:
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


def _staff_counts(session: SessionDep, user: CurrentUser, view: views.ProgrammeView) -> dict[int, int] | None:
    if not view.access.is_staff:
        return None
    return ballots.ballot_counts(session, user=user, course_id=view.course.id or 0)


def _read_back(session: SessionDep, user: CurrentUser, course_id: int, clock: ClockDep) -> ProgrammePublic:
    view = views.programme_view(session, user=user, course_id=course_id, now=clock())
    return programme_public(view, _staff_counts(session, user, view))


@router.get("")
def get_programme(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> ProgrammePublic:
    """The programme (members): staff see drafts and ballot counts; students see it once published."""
    return _read_back(session, user, course_id, clock)


@router.patch("")
def update_programme(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: ProgrammeUpdate
) -> ProgrammePublic:
    """Set the poster session's time and room and the ballot rules (lecturer)."""
    service.programme_update(
        session, user=user, course_id=course_id, now=clock(), values=body.model_dump(exclude_unset=True)
    )
    return _read_back(session, user, course_id, clock)


@router.post("/publish")
def publish_programme(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> ProgrammePublic:
    """Publish the programme to students and their calendars (staff); boards are brought up to date."""
    view = programme_publish(session, user=user, course_id=course_id, now=clock())
    return programme_public(view, _staff_counts(session, user, view))


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
def create_session(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: SessionIn
) -> SessionPublic:
    """Add a session of talks (staff); 409 when it would overlap another session."""
    row = service.session_create(session, user=user, course_id=course_id, data=body, now=clock())
    view = views.programme_view(session, user=user, course_id=course_id, now=clock())
    return session_public(view, next(s for s in view.sessions if s.session.id == row.id))


@router.put("/sessions/{session_id}")
def update_session(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, session_id: int, body: SessionIn
) -> SessionPublic:
    """Change a session (staff); its talks keep their order and their times follow."""
    row = service.session_update(session, user=user, course_id=course_id, session_id=session_id, data=body, now=clock())
    view = views.programme_view(session, user=user, course_id=course_id, now=clock())
    return session_public(view, next(s for s in view.sessions if s.session.id == row.id))


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, session_id: int) -> None:
    """Remove an empty session (staff)."""
    service.session_delete(session, user=user, course_id=course_id, session_id=session_id, now=clock())


@router.post("/slots")
def place_talks(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: PlaceIn
) -> ProgrammePublic:
    """Place the presenting groups in the sessions by ranking or seeded random order (staff); replaces the order."""
    slots.talks_place(session, user=user, course_id=course_id, mode=body.order, seed=body.seed, now=clock())
    return _read_back(session, user, course_id, clock)


@router.patch("/slots/{slot_id}")
def move_talk(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, slot_id: int, body: MoveIn
) -> ProgrammePublic:
    """Move a talk to a position of a session (staff); the talks close up, with no gap or overlap."""
    slots.slot_move(
        session,
        user=user,
        course_id=course_id,
        slot_id=slot_id,
        session_id=body.session_id,
        position=body.position,
        now=clock(),
    )
    return _read_back(session, user, course_id, clock)


@router.patch("/boards/{board_id}")
def renumber_board(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, board_id: int, body: BoardIn
) -> ProgrammePublic:
    """Give a poster another board number (staff); the poster on that number swaps."""
    boards.board_renumber(session, user=user, course_id=course_id, board_id=board_id, number=body.number, now=clock())
    return _read_back(session, user, course_id, clock)


@router.post("/boards/{board_id}/ballot", status_code=status.HTTP_201_CREATED)
def cast_ballot(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, board_id: int, body: BallotIn
) -> BallotPublic:
    """Score another group's poster, 1-5 (students, while ballots are open): one per poster, at most N in all."""
    ballot = ballots.ballot_cast(
        session, user=user, course_id=course_id, board_id=board_id, score=body.score, now=clock()
    )
    mine = ballots.ballots_mine(session, user=user, course_id=course_id, now=clock())
    return next(_ballot_public(b, p) for b, p in mine.ballots if b.id == ballot.id)


def _ballot_public(ballot: PosterBallot, board: PosterBoard) -> BallotPublic:
    return BallotPublic(
        board_id=board.id or 0,
        board_number=board.number,
        group_id=ballot.group_id,
        score=ballot.score,
        cast_at=ballot.cast_at,
    )


@router.get("/ballots/mine")
def my_ballots(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> MyBallotsPublic:
    """Your own ballots (nobody else ever sees them) and how many you may still cast."""
    mine = ballots.ballots_mine(session, user=user, course_id=course_id, now=clock())
    return MyBallotsPublic(
        max_ballots=mine.programme.max_ballots,
        remaining=mine.remaining,
        ballots=[_ballot_public(b, p) for b, p in mine.ballots],
    )


@router.get("/programme.csv", response_class=Response, responses=body_of("text/csv"))
def programme_csv_export(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> Response:
    """The programme as CSV: talks in order, then boards by number (as the caller may see it)."""
    view = views.programme_view(session, user=user, course_id=course_id, now=clock())
    content, media_type, headers = programme_export(view, "csv")
    return Response(content, media_type=media_type, headers=headers)


@router.get("/programme.pdf", response_class=Response, responses=body_of("application/pdf", binary=True))
def programme_pdf_export(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> Response:
    """The printable programme and board list as PDF (as the caller may see it)."""
    view = views.programme_view(session, user=user, course_id=course_id, now=clock())
    content, media_type, headers = programme_export(view, "pdf")
    return Response(content, media_type=media_type, headers=headers)
