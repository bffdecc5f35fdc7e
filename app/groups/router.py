"""Group endpoints: create, join, list, read, leave or remove, add, lock formation."""

from fastapi import APIRouter, Response, status

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.groups import service
from app.groups.presenters import group_public
from app.groups.schemas import FormationPublic, GroupCreate, GroupJoin, GroupPublic, MemberAdd

router = APIRouter(tags=["groups"], route_class=TransactionRoute)


@router.post("/courses/{course_id}/groups", status_code=status.HTTP_201_CREATED)
def create_group(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: GroupCreate
) -> GroupPublic:
    """Create a group (students); the creator joins it and gets its join code."""
    return group_public(service.group_create(session, user=user, course_id=course_id, name=body.name, now=clock()))


@router.post("/courses/{course_id}/groups/join")
def join_group(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, body: GroupJoin) -> GroupPublic:
    """Join a group of the course by its join code (students)."""
    return group_public(service.group_join(session, user=user, course_id=course_id, code=body.code, now=clock()))


@router.get("/courses/{course_id}/groups")
def list_groups(session: SessionDep, user: CurrentUser, course_id: int) -> list[GroupPublic]:
    """The course's groups with their members: all for staff, their own for a student."""
    return [group_public(v) for v in service.group_list(session, user=user, course_id=course_id)]


@router.post("/courses/{course_id}/groups/lock")
def lock_formation(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> FormationPublic:
    """Lock group formation (staff): afterwards only staff change membership."""
    course = service.group_formation_lock(session, user=user, course_id=course_id, locked=True, now=clock())
    return FormationPublic(course_id=course.id or 0, formation_locked=course.formation_locked)


@router.post("/courses/{course_id}/groups/unlock")
def unlock_formation(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int) -> FormationPublic:
    """Unlock group formation (staff)."""
    course = service.group_formation_lock(session, user=user, course_id=course_id, locked=False, now=clock())
    return FormationPublic(course_id=course.id or 0, formation_locked=course.formation_locked)


@router.get("/groups/{group_id}")
def get_group(session: SessionDep, user: CurrentUser, group_id: int) -> GroupPublic:
    """A group with its members (its members and the course staff)."""
    return group_public(service.group_get(session, user=user, group_id=group_id))


@router.post("/groups/{group_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, body: MemberAdd) -> GroupPublic:
    """Put a student of the course into the group (staff, also while formation is locked)."""
    return group_public(
        service.group_member_add(session, user=user, group_id=group_id, user_id=body.user_id, now=clock())
    )


@router.delete("/groups/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, user_id: int) -> Response:
    """Leave the group (the member) or remove a member (staff); the membership history is kept."""
    service.group_member_remove(session, user=user, group_id=group_id, user_id=user_id, now=clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
