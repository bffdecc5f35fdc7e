"""Presentation selection endpoints."""

from fastapi import APIRouter, status

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.selection import service
from app.selection.schemas import OverrideIn, OverridePublic, RankingRowPublic, SelectionIn, SelectionPublic

router = APIRouter(tags=["selection"], route_class=TransactionRoute)


def selection_public(view: service.SelectionView) -> SelectionPublic:
    """A run as returned by the API."""
    run = view.run
    return SelectionPublic(
        id=run.id or 0, course_id=run.course_id, status=run.status, slots=run.slots, normalise=run.normalise,
        forced=run.forced, created_by=run.created_by, created_at=run.created_at, published_by=run.published_by,
        published_at=run.published_at, presenting=view.presenting,
        ranking=[RankingRowPublic(**vars(r), overridden=r.group_id in view.overridden) for r in view.rows],
        overrides=[OverridePublic.model_validate(o, from_attributes=True) for o in view.overrides],
        inputs=run.inputs,
    )


@router.post("/courses/{course_id}/selections", status_code=status.HTTP_201_CREATED)
def run_selection(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: SelectionIn
) -> SelectionPublic:
    """Rank the reports and store a new draft run (lecturer); 409 listing unreviewed reports unless forced."""
    run = service.selection_run(session, user=user, course_id=course_id, slots=body.slots, normalise=body.normalise,
                                force=body.force, now=clock())
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
    return selection_public(service.selection_override(
        session, user=user, selection_id=selection_id, add_group_id=body.add_group_id,
        remove_group_id=body.remove_group_id, reason=body.reason, now=clock()))


@router.post("/selections/{selection_id}/publish")
def publish_selection(session: SessionDep, clock: ClockDep, user: CurrentUser, selection_id: int) -> SelectionPublic:
    """Publish the run: fixes every group's week-16 deliverable (lecturer); idempotent."""
    return selection_public(service.selection_publish(session, user=user, selection_id=selection_id, now=clock()))
