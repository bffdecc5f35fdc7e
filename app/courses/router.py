"""Course endpoints: create, read, change settings."""

from fastapi import APIRouter, status

from app.courses import service
from app.courses.presenters import course_public
from app.courses.schemas import CourseCreate, CoursePublic, CourseSettings
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute

router = APIRouter(prefix="/courses", tags=["courses"], route_class=TransactionRoute)


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
