"""Turning the courses service's results into the API's response schemas, for the routes and the pages."""

from app.access import CourseAccess
from app.courses.schemas import CoursePublic, MilestoneBrief
from app.milestones.rules import milestone_deadline
from app.models import Milestone


def course_public(access: CourseAccess, milestones: list[Milestone]) -> CoursePublic:
    """The course as returned by the API, with the caller's role."""
    course = access.course
    briefs = [
        MilestoneBrief(
            key=m.key,
            title=m.title,
            week=m.week,
            weight=m.weight,
            due_at=milestone_deadline(course, m),
        )
        for m in milestones
    ]
    return CoursePublic.model_validate({**course.model_dump(), "milestones": briefs, "my_role": access.role})
