"""Milestone and extension endpoints, and issuing the per-user calendar feed (the calendars are served by
the programme's composed router, since they carry week 16's talks)."""

from fastapi import APIRouter, Request, status

from app.config import get_settings
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.milestones import service
from app.milestones.presenters import extension_public, milestone_public
from app.milestones.schemas import CalendarFeedPublic, ExtensionIn, ExtensionPublic, MilestonePublic, MilestoneUpdate

router = APIRouter(tags=["milestones"], route_class=TransactionRoute)


@router.get("/courses/{course_id}/milestones")
def list_milestones(session: SessionDep, user: CurrentUser, course_id: int) -> list[MilestonePublic]:
    """The course's milestones with their deadline instants and rules (course members)."""
    course, milestones = service.milestone_list(session, user=user, course_id=course_id)
    return [milestone_public(course, m) for m in milestones]


@router.patch("/courses/{course_id}/milestones/{key}")
def update_milestone(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, key: str, body: MilestoneUpdate
) -> MilestonePublic:
    """Change a deadline (null: back to the week's Sunday 23:59), errors_block or page_limit (lecturer)."""
    return milestone_public(
        *service.milestone_update(session, user=user, course_id=course_id, key=key, data=body, now=clock())
    )


@router.get("/groups/{group_id}/extensions")
def list_extensions(session: SessionDep, user: CurrentUser, group_id: int) -> list[ExtensionPublic]:
    """The group's extensions (members and staff)."""
    course, rows = service.extension_list(session, user=user, group_id=group_id)
    return [extension_public(course, e, m) for e, m in rows]


@router.post("/groups/{group_id}/extensions")
def grant_extension(
    session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, body: ExtensionIn
) -> ExtensionPublic:
    """Grant or change the group's extension for a milestone (staff)."""
    return extension_public(*service.extension_grant(session, user=user, group_id=group_id, data=body, now=clock()))


@router.delete("/groups/{group_id}/extensions/{key}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_extension(session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, key: str) -> None:
    """Withdraw the group's extension for a milestone (staff)."""
    service.extension_revoke(session, user=user, group_id=group_id, key=key, now=clock())


@router.post("/me/calendar-feed", status_code=status.HTTP_201_CREATED)
def issue_calendar_feed(
    session: SessionDep, clock: ClockDep, user: CurrentUser, request: Request
) -> CalendarFeedPublic:
    """A new secret URL serving all your courses' deadlines without a login; your previous one stops working."""
    secret = service.calendar_feed_issue(session, user=user, now=clock())
    # Built from the configured address, never from the request's Host header, which the client chooses.
    settings = get_settings()
    return CalendarFeedPublic(
        url=settings.public_url.rstrip("/") + request.app.url_path_for("calendar_feed", secret=secret)
    )


@router.delete("/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
def revoke_calendar_feed(session: SessionDep, clock: ClockDep, user: CurrentUser) -> None:
    """Revoke your calendar-feed URL."""
    service.calendar_feed_revoke(session, user=user, now=clock())
