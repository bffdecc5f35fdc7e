"""Course endpoints: create, read, change settings."""

from fastapi import APIRouter, status

from app.access import CourseAccess
from app.courses import service
from app.courses.schemas import CourseCreate, CoursePublic, CourseSettings, MilestoneBrief
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.milestones.rules import milestone_due_at
from app.models import Milestone

router = APIRouter(prefix="/courses", tags=["courses"], route_class=TransactionRoute)


def course_public(access: CourseAccess, milestones: list[Milestone]) -> CoursePublic:
    """The course as returned by the API, with the caller's role."""
    course = access.course
    briefs = [
        MilestoneBrief(
            key=m.key,
            title=m.title,
            week=m.week,
            weight=m.weight,
            due_at=milestone_due_at(
                start_date=course.start_date, week=m.week, timezone=course.timezone, override=m.due_at_override
            ),
        )
        for m in milestones
    ]
    return CoursePublic.model_validate({**course.model_dump(), "milestones": briefs, "my_role": access.role})


@router.post("", status_code=status.HTTP_201_CREATED)
def create_course(session: SessionDep, clock: ClockDep, user: CurrentUser, body: CourseCreate) -> CoursePublic:
    """Create a course with SPEC.md's defaults and any overrides; the caller becomes its lecturer."""
    course = service.course_create(session, user=user, data=body, now=clock())
    access, milestones = service.course_get(session, user=user, course_id=course.id or 0)
    return course_public(access, milestones)


@router.get("/{course_id}")
def get_course(session: SessionDep, user: CurrentUser, course_id: int) -> CoursePublic:
    """A course and its settings (staff and members)."""
    return course_public(*service.course_get(session, user=user, course_id=course_id))


@router.patch("/{course_id}")
def update_course(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: CourseSettings
) -> CoursePublic:
    """Change course settings (staff); an inconsistent result is refused with 422 naming the field."""
    return course_public(*service.course_update(session, user=user, course_id=course_id, data=body, now=clock()))
