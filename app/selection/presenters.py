"""Turning the selection service's results into the API's response schemas, for the routes and the pages."""

from app.selection import service
from app.selection.schemas import (
    OverridePublic,
    RankingRowPublic,
    SelectionPublic,
)


def selection_public(view: service.SelectionView) -> SelectionPublic:
    """A run as returned by the API."""
    run = view.run
    return SelectionPublic(
        id=run.id or 0,
        course_id=run.course_id,
        status=run.status,
        slots=run.slots,
        normalise=run.normalise,
        forced=run.forced,
        created_by=run.created_by,
        created_at=run.created_at,
        published_by=run.published_by,
        published_at=run.published_at,
        in_force=run.status == "published",
        supersedes_id=run.supersedes_id,
        supersede_reason=run.supersede_reason,
        superseded_at=run.superseded_at,
        changed_groups=run.changed_groups,
        forced_past_deadline=run.forced_past_deadline,
        presenting=view.presenting,
        ranking=[RankingRowPublic(**vars(r), overridden=r.group_id in view.overridden) for r in view.rows],
        overrides=[OverridePublic.model_validate(o, from_attributes=True) for o in view.overrides],
        inputs=run.inputs,
    )
