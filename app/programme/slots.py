"""Talk slots: placing the presenting groups into the sessions, moving a talk, dropping talks that no longer present."""

import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select

from app.access import is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, InvalidInput, NotFound
from app.models import ProjectGroup, TalkSession, TalkSlot, User
from app.programme.rules import fill_sessions, talk_order
from app.programme.service import (
    ERR_MAX_TALKS,
    ERR_NO_SESSION,
    programme_row,
    sessions_overlap_check,
    staff_access,
)
from app.programme.views import sessions_of
from app.selection.service import selection_get, selection_in_force_id

ERR_NO_SLOT = "No such talk slot."
ERR_NO_RUN = "No selection run is in force yet: publish one first."
ERR_NO_SESSIONS = "Create a session first: the talks need a date, a time and a room."
ERR_NO_ROOM = "The sessions hold {room} talks but {count} groups present: raise a session's maximum or add one."


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
    rows = sessions_of(session, course_id=course_id)
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
    sessions_overlap_check(session, access.course)
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
    slots = _slots_in_order(session, course_id=course_id)
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
    _lanes_renumber(session, slots, lanes.values())
    sessions_overlap_check(session, access.course)
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
    slots = _slots_in_order(session, course_id=course_id)
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
    lanes: dict[int, list[TalkSlot]] = defaultdict(list)
    for s in kept:
        lanes[s.session_id].append(s)
    _lanes_renumber(session, kept, lanes.values())
    return sorted(s.group_id for s in gone)


def _slots_in_order(session: Session, *, course_id: int) -> list[TalkSlot]:
    return list(
        session.exec(
            select(TalkSlot)
            .where(TalkSlot.course_id == course_id)
            .order_by(col(TalkSlot.session_id), col(TalkSlot.position))
        )
    )


def _lanes_renumber(session: Session, slots: list[TalkSlot], lanes: Iterable[list[TalkSlot]]) -> None:
    # Two steps: the unique (session, position) pair must hold after each flush.
    for s in slots:
        s.position = -(s.id or 0)
    session.flush()
    for lane in lanes:
        for index, s in enumerate(lane):
            s.position = index
    session.flush()
