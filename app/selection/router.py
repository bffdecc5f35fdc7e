"""Presentation selection endpoints."""

from fastapi import APIRouter, status

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.errors import NotFound
from app.selection import service
from app.selection.presenters import selection_public
from app.selection.schemas import (
    OverrideIn,
    SelectionIn,
    SelectionPublic,
)

router = APIRouter(tags=["selection"], route_class=TransactionRoute)
ERR_NONE_IN_FORCE = "No selection run is in force yet."


@router.post("/courses/{course_id}/selections", status_code=status.HTTP_201_CREATED)
def run_selection(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: SelectionIn
) -> SelectionPublic:
    """Rank the reports and store a new draft run (lecturer); 409 listing unreviewed reports unless forced."""
    run = service.selection_run(
        session,
        user=user,
        course_id=course_id,
        slots=body.slots,
        normalise=body.normalise,
        force=body.force,
        now=clock(),
    )
    return selection_public(service.selection_get(session, user=user, selection_id=run.id or 0))


@router.get("/courses/{course_id}/selections")
def list_selections(session: SessionDep, user: CurrentUser, course_id: int) -> list[SelectionPublic]:
    """The course's selection runs, newest first (staff)."""
    return [selection_public(v) for v in service.selection_list(session, user=user, course_id=course_id)]


@router.get("/selections/{selection_id}")
def get_selection(session: SessionDep, user: CurrentUser, selection_id: int) -> SelectionPublic:
    """A run with its full ranking table (staff)."""
    return selection_public(service.selection_get(session, user=user, selection_id=selection_id))


@router.post("/selections/{selection_id}/overrides", status_code=status.HTTP_201_CREATED)
def override_selection(
    session: SessionDep, clock: ClockDep, user: CurrentUser, selection_id: int, body: OverrideIn
) -> SelectionPublic:
    """Swap one group in and one out with a reason (lecturer; draft runs only)."""
    return selection_public(
        service.selection_override(
            session,
            user=user,
            selection_id=selection_id,
            add_group_id=body.add_group_id,
            remove_group_id=body.remove_group_id,
            reason=body.reason,
            now=clock(),
        )
    )


@router.get("/courses/{course_id}/selections/in-force")
def selection_in_force(session: SessionDep, user: CurrentUser, course_id: int) -> SelectionPublic:
    """The run in force (staff); 404 while none is published."""
    runs = service.selection_list(session, user=user, course_id=course_id)
    view = next((v for v in runs if v.run.status == "published"), None)
    if view is None:
        raise NotFound(ERR_NONE_IN_FORCE, code="no_selection_in_force")
    return selection_public(view)
