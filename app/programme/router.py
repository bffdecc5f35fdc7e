"""Week-16 programme endpoints: sessions, talk slots, poster boards, ballots, and the CSV and PDF exports."""

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from app.deps import ClockDep, CurrentUser, SessionDep, StoreDep, TransactionRoute
from app.errors import body_of
from app.milestones import service as milestones_service
from app.programme import ballots, boards, service
from app.programme.calendar import programme_events
from app.programme.export import programme_csv, programme_pdf
from app.programme.flows import programme_publish, selection_publish_flow
from app.programme.presenters import ballot_public, programme_public, session_public
from app.programme.schemas import (
    BallotIn,
    BallotPublic,
    BoardIn,
    MoveIn,
    MyBallotsPublic,
    PlaceIn,
    ProgrammePublic,
    ProgrammeUpdate,
    SessionIn,
    SessionPublic,
)
from app.selection.presenters import selection_public
from app.selection.schemas import PublishIn, SelectionPublic

router = APIRouter(prefix="/courses/{course_id}/programme", tags=["programme"], route_class=TransactionRoute)
# Routes whose paths belong to lower domains but whose work takes in week 16: the calendars carry the
# talks, and publishing a selection assigns poster boards. They live here, at the top of the domain
# order, so that milestones and selection never import the programme.
composed_router = APIRouter(route_class=TransactionRoute)
# Week 16's talks and poster session join the deadlines in both calendars.
CALENDAR_SOURCES = (programme_events,)


def _staff_counts(session: SessionDep, user: CurrentUser, view: service.ProgrammeView) -> dict[int, int] | None:
    if not view.access.is_staff:
        return None
    return ballots.ballot_counts(session, user=user, course_id=view.course.id or 0)


def _read_back(session: SessionDep, user: CurrentUser, course_id: int, clock: ClockDep) -> ProgrammePublic:
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
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
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return session_public(view, next(s for s in view.sessions if s.session.id == row.id))


@router.put("/sessions/{session_id}")
def update_session(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, session_id: int, body: SessionIn
) -> SessionPublic:
    """Change a session (staff); its talks keep their order and their times follow."""
    row = service.session_update(session, user=user, course_id=course_id, session_id=session_id, data=body, now=clock())
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
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
    service.talks_place(session, user=user, course_id=course_id, mode=body.order, seed=body.seed, now=clock())
    return _read_back(session, user, course_id, clock)


@router.patch("/slots/{slot_id}")
def move_talk(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, slot_id: int, body: MoveIn
) -> ProgrammePublic:
    """Move a talk to a position of a session (staff); the talks close up, with no gap or overlap."""
    service.slot_move(
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
    return next(ballot_public(b, p) for b, p in mine.ballots if b.id == ballot.id)


@router.get("/ballots/mine")
def my_ballots(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> MyBallotsPublic:
    """Your own ballots (nobody else ever sees them) and how many you may still cast."""
    mine = ballots.ballots_mine(session, user=user, course_id=course_id, now=clock())
    return MyBallotsPublic(
        max_ballots=mine.programme.max_ballots,
        remaining=mine.remaining,
        ballots=[ballot_public(b, p) for b, p in mine.ballots],
    )


@router.get("/programme.csv", response_class=Response, responses=body_of("text/csv"))
def programme_csv_export(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> Response:
    """The programme as CSV: talks in order, then boards by number (as the caller may see it)."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return Response(
        programme_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="programme-{course_id}.csv"'},
    )


@router.get("/programme.pdf", response_class=Response, responses=body_of("application/pdf", binary=True))
def programme_pdf_export(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> Response:
    """The printable programme and board list as PDF (as the caller may see it)."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return Response(
        programme_pdf(view),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="programme-{course_id}.pdf"'},
    )


@composed_router.get(
    "/courses/{course_id}/calendar.ics",
    response_class=Response,
    responses=body_of("text/calendar"),
    tags=["milestones"],
)
def course_calendar(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> Response:
    """The course's deadlines and published week-16 talks as iCalendar (members: their group's own)."""
    body = milestones_service.calendar_ics(
        session, user=user, course_id=course_id, now=clock(), sources=CALENDAR_SOURCES
    )
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="course-{course_id}.ics"'},
    )


@composed_router.get(
    "/calendar/{secret}.ics", response_class=Response, responses=body_of("text/calendar"), tags=["milestones"]
)
def calendar_feed(session: SessionDep, clock: ClockDep, secret: str) -> Response:
    """The deadlines and week-16 talks of every course you take part in; the URL's secret is the credential."""
    body = milestones_service.calendar_feed_ics(session, secret=secret, now=clock(), sources=CALENDAR_SOURCES)
    return Response(content=body, media_type="text/calendar; charset=utf-8")


@composed_router.post("/selections/{selection_id}/publish", tags=["selection"])
def publish_selection(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    store: StoreDep,
    selection_id: int,
    body: Annotated[PublishIn | None, Body()] = None,
) -> SelectionPublic:
    """Put the run in force (lecturer); idempotent. Replacing the run in force needs `supersedes` and a reason.

    The old run becomes `superseded`; groups whose deliverable changes are listed in `changed_groups`,
    and their week-16 files are checked again under the new rule set. After the week-16 deadline a
    change needs `force`. Poster boards are assigned to the poster groups.
    """
    options = body or PublishIn()
    outcome = selection_publish_flow(
        session,
        user=user,
        selection_id=selection_id,
        now=clock(),
        supersedes=options.supersedes,
        reason=options.reason,
        force=options.force,
        store=store,
    )
    return selection_public(outcome.view)
