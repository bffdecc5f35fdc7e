"""Turning the milestones service's results into the API's response schemas, for the routes and the pages."""

from app.milestones import service
from app.milestones.rules import milestone_deadline
from app.milestones.schemas import ExtensionPublic, MilestonePublic
from app.models import Course, Extension, Milestone


def milestone_public(course: Course, milestone: Milestone) -> MilestonePublic:
    """A milestone as returned by the API, its deadline in the course time zone."""
    return MilestonePublic(
        key=milestone.key,
        title=milestone.title,
        week=milestone.week,
        weight=milestone.weight,
        ruleset=milestone.ruleset,
        page_limit=milestone.page_limit,
        errors_block=milestone.errors_block,
        requires_approved_topic=milestone.requires_approved_topic,
        due_at=service.local_instant(milestone_deadline(course, milestone), course),
        due_at_is_default=milestone.due_at_override is None,
    )


def extension_public(course: Course, extension: Extension, milestone: Milestone) -> ExtensionPublic:
    """An extension as returned by the API, its instants in the course time zone."""
    return ExtensionPublic(
        group_id=extension.group_id,
        milestone=milestone.key,
        due_at=service.local_instant(extension.due_at, course),
        reason=extension.reason,
        granted_by=extension.granted_by,
        created_at=service.local_instant(extension.created_at, course),
    )
