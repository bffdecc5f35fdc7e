"""Publishing: a selection run, which reaches into the programme, and the programme itself, which syncs the boards."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.audit.service import audit_record
from app.errors import Conflict
from app.models import ProjectGroup, User
from app.outbox.events import notice_programme_published
from app.programme.boards import boards_sync
from app.programme.service import (
    ERR_NO_RUN,
    ProgrammeView,
    programme_build,
    programme_row,
    slots_prune,
    staff_access,
)
from app.selection.service import PublishOutcome, selection_in_force_id, selection_publish
from app.storage import FileStore


def selection_publish_flow(
    session: Session,
    *,
    user: User,
    selection_id: int,
    now: datetime,
    supersedes: int | None = None,
    reason: str = "",
    force: bool = False,
    store: FileStore | None = None,
) -> PublishOutcome:
    """Publish a run (see selection_publish), then bring the programme in line with it.

    Poster groups get boards (numbers already held stay); groups that no longer present leave their
    talk slot, and the talks after it move up.
    """
    outcome = selection_publish(
        session,
        user=user,
        selection_id=selection_id,
        now=now,
        supersedes=supersedes,
        reason=reason,
        force=force,
        store=store,
    )
    boards_sync(session, course_id=outcome.view.run.course_id, now=now)
    slots_prune(session, course_id=outcome.view.run.course_id)
    return outcome


def programme_publish(session: Session, *, user: User, course_id: int, now: datetime) -> ProgrammeView:
    """Show the programme to students and in their calendars (staff); boards are brought up to date first."""
    access = staff_access(session, user=user, course_id=course_id)
    row = programme_row(session, course_id=course_id, now=now, lock=True)
    if selection_in_force_id(session, course_id=course_id) is None:
        raise Conflict(ERR_NO_RUN, code="no_selection_in_force")
    boards_sync(session, course_id=course_id, now=now)
    first = row.published_at is None
    row.published_at, row.published_by, row.updated_at = now, user.id, now
    session.add(row)
    session.flush()
    view = programme_build(session, access=access, row=row)
    if first:
        _tell_places(session, view, now=now)
    audit_record(
        session,
        at=now,
        actor=user,
        action="programme.publish",
        entity="programme",
        entity_id=row.id,
        course_id=course_id,
        after={"talks": sum(len(s.talks) for s in view.sessions), "boards": len(view.boards), "first": first},
    )
    return view


def _tell_places(session: Session, view: ProgrammeView, *, now: datetime) -> None:
    """On the first publication, each placed group hears its slot or board; later changes show on its page."""
    places: dict[int, tuple[str, datetime | None]] = {}
    for s in view.sessions:
        for t in s.talks:
            places[t.group.id] = (
                f"talk {t.slot.position + 1} of {s.session.title or 'the session'} in room {s.session.room}",
                t.span.starts_at,
            )
    for b in view.boards:
        room = f" in {view.programme.poster_room}" if view.programme.poster_room else ""
        places[b.group.id] = (f"board {b.board.number}{room}", view.programme.poster_starts_at)
    if not places:
        return
    groups = session.exec(
        select(ProjectGroup).where(ProjectGroup.course_id == view.course.id).order_by(col(ProjectGroup.id))
    ).all()
    notice_programme_published(
        session, course=view.course, now=now, places=[(g, *places[g.id or 0]) for g in groups if g.id in places]
    )
