"""Writing and reading the audit log."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditEvent, User


def audit_record(
    session: Session,
    *,
    at: datetime,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: int | None,
    course_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(
        course_id=course_id,
        actor_id=actor.id if actor else None,
        at=at,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event


def audit_list(session: Session, *, course_id: int, limit: int = 500, offset: int = 0) -> list[AuditEvent]:
    """A course's audit events, newest first."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.course_id == course_id)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))


def audit_search(
    session: Session,
    *,
    course_id: int,
    action: str = "",
    actor_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[tuple[AuditEvent, str | None]]:
    """A course's audit events, newest first, with each actor's username; `action` matches a prefix."""
    statement = (
        select(AuditEvent, User.username)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .where(AuditEvent.course_id == course_id)
    )
    if action:
        statement = statement.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    statement = statement.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).offset(offset).limit(limit)
    return [(event, username) for event, username in session.exec(statement).all()]


def audit_actions(session: Session, *, course_id: int) -> list[str]:
    """The distinct actions recorded in a course, for a filter."""
    return sorted(session.exec(select(AuditEvent.action).where(AuditEvent.course_id == course_id).distinct()).all())
