"""Poster boards: a number for every poster group, kept stable, re-assignable by staff."""

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, delete, func, select

from app.access import is_row_id
from app.audit.service import audit_record
from app.errors import NotFound
from app.models import PosterBoard, ProjectGroup, User
from app.programme.rules import board_numbers
from app.programme.service import ERR_NO_BOARD, programme_row, staff_access


def boards_sync(session: Session, *, course_id: int, now: datetime) -> int:
    """Give every poster group a board, keep the numbers already held, free those of groups that now present.

    No access check: callers are the publish flows, which checked it. Plain statements, not ORM
    objects: a course may hang a thousand posters. Returns the number of new boards.
    """
    held = dict(
        session.exec(select(PosterBoard.group_id, PosterBoard.number).where(PosterBoard.course_id == course_id)).all()
    )
    posters = [
        gid or 0
        for gid, _ in session.exec(
            select(ProjectGroup.id, ProjectGroup.name)
            .where(ProjectGroup.course_id == course_id, ProjectGroup.deliverable == "poster")
            .order_by(col(ProjectGroup.name), col(ProjectGroup.id))
        )
    ]
    wanted = set(posters)
    stale = sorted(g for g in held if g not in wanted)
    if stale:
        session.execute(
            delete(PosterBoard).where(col(PosterBoard.course_id) == course_id, col(PosterBoard.group_id).in_(stale))
        )
        for group_id in stale:
            held.pop(group_id)
    numbers = board_numbers(held, [gid for gid in posters if gid not in held])
    if numbers:
        # A Core executemany (psycopg pipelines it); one giant multi-row VALUES was six times slower here.
        session.execute(
            insert(PosterBoard.__table__),  # type: ignore[attr-defined]
            [{"course_id": course_id, "group_id": gid, "number": n, "assigned_at": now} for gid, n in numbers.items()],
        )
    return len(numbers)


def board_renumber(session: Session, *, user: User, course_id: int, board_id: int, number: int, now: datetime) -> None:
    """Give a poster another board number (staff); a poster already on that number swaps with it."""
    staff_access(session, user=user, course_id=course_id)
    programme_row(session, course_id=course_id, now=now, lock=True)
    board = session.get(PosterBoard, board_id) if is_row_id(board_id) else None
    if board is None or board.course_id != course_id:
        raise NotFound(ERR_NO_BOARD)
    other = session.exec(
        select(PosterBoard).where(PosterBoard.course_id == course_id, PosterBoard.number == number)
    ).first()
    before = board.number
    if other is not None and other.id != board.id:
        # Park the board on a free number first, so the unique (course, number) pair holds after each flush.
        top = session.exec(select(func.max(PosterBoard.number)).where(PosterBoard.course_id == course_id)).one()
        board.number = (top or 0) + 1
        session.flush()
        other.number, other.assigned_at = before, now
        session.add(other)
        session.flush()
    board.number, board.assigned_at = number, now
    session.add(board)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.board",
        entity="poster_board",
        entity_id=board.id,
        course_id=course_id,
        before={"number": before},
        after={"number": number, "swapped_with": other.id if other else None},
    )
