"""Work that starts with publishing a selection and reaches into the programme."""

from datetime import datetime

from sqlmodel import Session

from app.models import User
from app.programme.service import boards_sync, slots_prune
from app.selection.service import PublishOutcome, selection_publish
from app.storage import FileStore


def selection_publish_flow(
    session: Session, *, user: User, selection_id: int, now: datetime, supersedes: int | None = None,
    reason: str = "", force: bool = False, store: FileStore | None = None,
) -> PublishOutcome:
    """Publish a run (see selection_publish), then bring the programme in line with it.

    Poster groups get boards (numbers already held stay); groups that no longer present leave their
    talk slot, and the talks after it move up.
    """
    outcome = selection_publish(session, user=user, selection_id=selection_id, now=now, supersedes=supersedes,
                                reason=reason, force=force, store=store)
    boards_sync(session, course_id=outcome.view.run.course_id, now=now)
    slots_prune(session, course_id=outcome.view.run.course_id)
    return outcome
