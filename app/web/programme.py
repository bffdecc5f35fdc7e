"""Week-16 pages: the programme (build, reorder, publish), the poster board map, ballots, the talk timer."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.access import current_group_id
from app.deps import ClockDep, SessionDep
from app.errors import InvalidInput, NotFound
from app.programme import ballots as ballot_service
from app.programme import boards, service
from app.programme.export import programme_csv, programme_pdf
from app.programme.flows import programme_publish
from app.programme.schemas import BallotIn, BoardIn, BreakIn, PlaceIn, ProgrammeUpdate, SessionIn
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute, form_model
from app.web.groups import parse_local
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SAVED = {
    "session": "Session added.",
    "place": "The talks are placed.",
    "move": "Talk moved.",
    "publish": "Published: students see their slot or board, and their calendars hold their talk.",
    "settings": "Poster session and ballot rules saved.",
    "board": "Board number changed.",
    "ballot": "Your ballot is cast.",
}


def programme_url(course_id: int, saved: str | None = None, page: str = "programme") -> str:
    """A week-16 page of the course, optionally saying what was just done."""
    return f"/ui/courses/{course_id}/{page}" + (f"?saved={saved}" if saved else "")


def _done(course_id: int, saved: str, page: str = "programme") -> Response:
    return RedirectResponse(programme_url(course_id, saved, page), status_code=303)


@router.get("/courses/{course_id}/programme")
def programme_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentWebUser,
    course_id: int,
    saved: str | None = None,
) -> Response:
    """The programme: staff build and publish it; students read it once published."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return render(
        request,
        "programme.html",
        {
            "view": view,
            "course": view.course,
            "is_staff": view.access.is_staff,
            "is_lecturer": view.access.is_lecturer,
            "saved": SAVED.get(saved or ""),
            "title": "Week-16 programme",
        },
    )


@router.post("/courses/{course_id}/programme/sessions")
def add_session(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    day: Annotated[str, Form()],
    start_time: Annotated[str, Form()],
    room: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
    talk_minutes: Annotated[int, Form()] = 10,
    changeover_minutes: Annotated[int, Form()] = 2,
    break_after: Annotated[str, Form()] = "",
    break_minutes: Annotated[str, Form()] = "",
    max_talks: Annotated[str, Form()] = "",
) -> Response:
    """Add a session of talks (staff)."""
    breaks = []
    if break_after.strip() and break_minutes.strip():
        if not (break_after.strip().isdigit() and break_minutes.strip().isdigit()):
            raise InvalidInput("A break needs whole numbers: after which talk, and how many minutes.")
        breaks = [form_model(BreakIn, after=int(break_after), minutes=int(break_minutes))]
    cap = int(max_talks) if max_talks.strip().isdigit() else None
    data = form_model(
        SessionIn,
        day=day,
        start_time=start_time,
        room=room.strip(),
        title=title.strip(),
        talk_minutes=talk_minutes,
        changeover_minutes=changeover_minutes,
        breaks=breaks,
        max_talks=cap,
    )
    service.session_create(session, user=user, course_id=course_id, data=data, now=clock())
    return _done(course_id, "session")


@router.post("/courses/{course_id}/programme/place")
def place_talks(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    order: Annotated[str, Form()] = "ranking",
    seed: Annotated[str, Form()] = "",
) -> Response:
    """Place the presenting groups by ranking or seeded random order (staff)."""
    if seed.strip() and not seed.strip().isdigit():
        raise InvalidInput("The seed is a whole number (or leave it empty for a new one).", field="seed")
    data = form_model(PlaceIn, order=order, seed=int(seed) if seed.strip() else None)
    service.talks_place(session, user=user, course_id=course_id, mode=data.order, seed=data.seed, now=clock())
    return _done(course_id, "place")


@router.post("/courses/{course_id}/programme/slots/{slot_id}/move")
def move_talk(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    slot_id: int,
    session_id: Annotated[int, Form()],
    position: Annotated[int, Form()],
) -> Response:
    """Move a talk up, down or to another session (staff)."""
    service.slot_move(
        session,
        user=user,
        course_id=course_id,
        slot_id=slot_id,
        session_id=session_id,
        position=max(0, position),
        now=clock(),
    )
    return _done(course_id, "move")


@router.post("/courses/{course_id}/programme/publish")
def publish_programme(session: SessionDep, clock: ClockDep, user: CsrfUser, course_id: int) -> Response:
    """Publish the programme (staff)."""
    programme_publish(session, user=user, course_id=course_id, now=clock())
    return _done(course_id, "publish")


@router.post("/courses/{course_id}/programme/settings")
def programme_settings(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    poster_starts_at: Annotated[str, Form()] = "",
    poster_ends_at: Annotated[str, Form()] = "",
    poster_room: Annotated[str, Form()] = "",
    ballots_open: Annotated[bool, Form()] = False,
    max_ballots: Annotated[int, Form()] = 5,
    ballots_count: Annotated[bool, Form()] = False,
    ballot_weight: Annotated[float, Form()] = 0.0,
) -> Response:
    """The poster session's time and room, and the ballot rules (lecturer)."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    zone = view.course.timezone
    data = form_model(
        ProgrammeUpdate,
        poster_room=poster_room.strip(),
        ballots_open=ballots_open,
        max_ballots=max_ballots,
        ballots_count=ballots_count,
        ballot_weight=ballot_weight,
        poster_starts_at=parse_local(poster_starts_at, zone, "poster_starts_at") if poster_starts_at else None,
        poster_ends_at=parse_local(poster_ends_at, zone, "poster_ends_at") if poster_ends_at else None,
    )
    service.programme_update(session, user=user, course_id=course_id, values=data.model_dump(), now=clock())
    return _done(course_id, "settings")


@router.get("/courses/{course_id}/programme.pdf")
def programme_pdf_page(session: SessionDep, clock: ClockDep, user: CurrentWebUser, course_id: int) -> Response:
    """The printable programme (as the user may see it)."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return Response(
        programme_pdf(view),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="programme-{course_id}.pdf"'},
    )


@router.get("/courses/{course_id}/programme.csv")
def programme_csv_page(session: SessionDep, clock: ClockDep, user: CurrentWebUser, course_id: int) -> Response:
    """The programme as CSV (as the user may see it)."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    return Response(
        programme_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="programme-{course_id}.csv"'},
    )


@router.get("/courses/{course_id}/boards")
def boards_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentWebUser,
    course_id: int,
    saved: str | None = None,
) -> Response:
    """The board map and list, ordered by number (printable); students score posters here while ballots are open."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    mine = ballot_service.ballots_mine(session, user=user, course_id=course_id, now=clock())
    own = current_group_id(session, course_id=course_id, user_id=user.id or 0) if not view.access.is_staff else None
    counts = ballot_service.ballot_counts(session, user=user, course_id=course_id) if view.access.is_staff else {}
    return render(
        request,
        "boards.html",
        {
            "view": view,
            "course": view.course,
            "is_staff": view.access.is_staff,
            "mine": mine,
            "voted": {b.group_id: b.score for b, _ in mine.ballots},
            "own_group": own,
            "counts": counts,
            "saved": SAVED.get(saved or ""),
            "title": "Poster boards",
        },
    )


@router.post("/courses/{course_id}/boards/{board_id}")
def renumber_board(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    board_id: int,
    number: Annotated[int, Form()],
) -> Response:
    """Give a poster another board number (staff)."""
    data = form_model(BoardIn, number=number)
    boards.board_renumber(session, user=user, course_id=course_id, board_id=board_id, number=data.number, now=clock())
    return _done(course_id, "board", "boards")


@router.post("/courses/{course_id}/boards/{board_id}/ballot")
def cast_ballot(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    board_id: int,
    score: Annotated[int, Form()],
) -> Response:
    """Score another group's poster (students)."""
    data = form_model(BallotIn, score=score)
    ballot_service.ballot_cast(
        session, user=user, course_id=course_id, board_id=board_id, score=data.score, now=clock()
    )
    return _done(course_id, "ballot", "boards")


@router.get("/courses/{course_id}/programme/timer")
def timer_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentWebUser,
    course_id: int,
    session_id: int | None = None,
) -> Response:
    """The projector countdown for a session's talks: plain JavaScript, offline, keyboard-driven."""
    view = service.programme_view(session, user=user, course_id=course_id, now=clock())
    sessions = [s for s in view.sessions if s.talks]
    chosen = (
        next((s for s in sessions if s.session.id == session_id), None)
        if session_id
        else (sessions[0] if sessions else None)
    )
    if chosen is None:
        raise NotFound("No session with talks to time.")
    return render(
        request,
        "timer.html",
        {"view": view, "course": view.course, "chosen": chosen, "sessions": sessions, "title": "Talk timer"},
    )
