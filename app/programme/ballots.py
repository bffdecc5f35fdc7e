"""Poster ballots: students score other groups' posters during the poster session.

Only the voter reads a ballot back. Staff see counts per board; the audit log records that a
ballot was cast (by whom, in which course), never for which poster.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from app.access import STAFF_ROLES, STUDENT, course_for, current_group_id, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, NotFound
from app.models import PosterBallot, PosterBoard, Programme, User
from app.programme.rules import ballot_mark
from app.programme.service import ERR_NO_BOARD, programme_row

ERR_STUDENTS_ONLY = "Only students of the course cast ballots."
ERR_OWN_GROUP = "You cannot score your own group's poster."
ERR_ALREADY = "You already scored this poster; one ballot per poster."
ERR_LIMIT = "You have cast all {n} of your ballots."
ERR_CLOSED = "Ballots are not open."
ERR_OUTSIDE_SESSION = "Ballots are cast during the poster session only."


@dataclass(frozen=True)
class MyBallots:
    """The caller's own ballots with their boards, and the limit."""

    programme: Programme
    ballots: list[tuple[PosterBallot, PosterBoard]]

    @property
    def remaining(self) -> int:
        """Ballots the caller may still cast."""
        return max(0, self.programme.max_ballots - len(self.ballots))


def _check_open(row: Programme, now: datetime) -> None:
    if row.published_at is None or not row.ballots_open:
        raise Conflict(ERR_CLOSED, code="ballots_closed")
    if row.poster_starts_at is not None and now < row.poster_starts_at:
        raise Conflict(ERR_OUTSIDE_SESSION, code="ballots_closed")
    if row.poster_ends_at is not None and now > row.poster_ends_at:
        raise Conflict(ERR_OUTSIDE_SESSION, code="ballots_closed")


def ballot_cast(
    session: Session, *, user: User, course_id: int, board_id: int, score: int, now: datetime
) -> PosterBallot:
    """Score another group's poster (students): one ballot per poster, at most N in all, never one's own."""
    access = course_for(session, course_id=course_id, user=user)
    board = session.get(PosterBoard, board_id) if is_row_id(board_id) else None
    row = session.exec(select(Programme).where(Programme.course_id == course_id)).first()
    visible = access.is_staff or (row is not None and row.published_at is not None)
    if board is None or board.course_id != course_id or not visible:
        raise NotFound(ERR_NO_BOARD)
    if access.role != STUDENT:
        raise Forbidden(ERR_STUDENTS_ONLY, code="students_only")
    row = programme_row(session, course_id=course_id, now=now)
    _check_open(row, now)
    if current_group_id(session, course_id=course_id, user_id=user.id or 0) == board.group_id:
        raise Forbidden(ERR_OWN_GROUP, code="own_group")
    # The voter's row, locked: two ballots sent at once are counted one after the other.
    session.exec(select(User.id).where(User.id == user.id).with_for_update(key_share=True)).one()
    mine = list(
        session.exec(
            select(PosterBallot.group_id).where(PosterBallot.voter_id == user.id, PosterBallot.course_id == course_id)
        )
    )
    if board.group_id in mine:
        raise Conflict(ERR_ALREADY, code="already_voted")
    if len(mine) >= row.max_ballots:
        raise Conflict(ERR_LIMIT.format(n=row.max_ballots), code="ballot_limit")
    ballot = PosterBallot(course_id=course_id, group_id=board.group_id, voter_id=user.id or 0, score=score, cast_at=now)
    session.add(ballot)
    session.flush()
    # Who voted is recorded, never for which poster or with what score.
    audit_record(
        session,
        at=now,
        actor=user,
        action="ballot.cast",
        entity="course",
        entity_id=course_id,
        course_id=course_id,
        after={"ballots_cast_by_voter": len(mine) + 1},
    )
    return ballot


def ballots_mine(session: Session, *, user: User, course_id: int, now: datetime) -> MyBallots:
    """The caller's own ballots in the course (any member; staff have none)."""
    course_for(session, course_id=course_id, user=user)
    row = session.exec(select(Programme).where(Programme.course_id == course_id)).first()
    row = row or Programme(course_id=course_id, updated_at=now)
    rows = session.exec(
        select(PosterBallot, PosterBoard)
        .join(PosterBoard, col(PosterBoard.group_id) == col(PosterBallot.group_id))
        .where(PosterBallot.voter_id == user.id, PosterBallot.course_id == course_id)
        .order_by(col(PosterBoard.number))
    ).all()
    return MyBallots(programme=row, ballots=[(b, p) for b, p in rows])


def ballot_counts(session: Session, *, user: User, course_id: int) -> dict[int, int]:
    """Ballots per poster group (staff), never who cast them."""
    course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    return dict(
        session.exec(
            select(PosterBallot.group_id, func.count())
            .where(PosterBallot.course_id == course_id)
            .group_by(col(PosterBallot.group_id))
        ).all()
    )


def ballot_marks(session: Session, *, course_id: int) -> tuple[float, dict[int, float]]:
    """When ballots count: their weight (percent) and each poster group's ballot mark (0-100); else (0, {})."""
    row = session.exec(select(Programme).where(Programme.course_id == course_id)).first()
    if row is None or not row.ballots_count or row.ballot_weight <= 0:
        return 0.0, {}
    scores: dict[int, list[int]] = defaultdict(list)
    for group_id, score in session.exec(
        select(PosterBallot.group_id, PosterBallot.score).where(PosterBallot.course_id == course_id)
    ):
        scores[group_id].append(score)
    return row.ballot_weight, {g: mark for g, s in scores.items() if (mark := ballot_mark(s)) is not None}
