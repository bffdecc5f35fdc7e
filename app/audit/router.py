"""Reading a course's audit log (staff)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.access import STAFF_ROLES, course_for
from app.audit.service import audit_list
from app.deps import CurrentUser, SessionDep, TransactionRoute

router = APIRouter(tags=["audit"], route_class=TransactionRoute)


class AuditEventPublic(BaseModel):
    """One audit event."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("/courses/{course_id}/audit")
def list_audit(
    session: SessionDep,
    user: CurrentUser,
    course_id: int,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AuditEventPublic]:
    """The course's audit log, newest first (staff)."""
    course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    events = audit_list(session, course_id=course_id, limit=limit, offset=offset)
    return [AuditEventPublic.model_validate(e, from_attributes=True) for e in events]
