"""The notices API: a user's sent notices and preferences; a course's outbox and retrying a failed notice."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import ClockDep, CurrentUser, SessionDep, SettingsDep, TransactionRoute
from app.models import Notice, User
from app.notify import service
from app.notify.schemas import (
    NoticeDetail,
    NoticePreferences,
    NoticePreferencesUpdate,
    NoticeStatus,
    NoticeSummary,
    OutboxNotice,
    OutboxPublic,
)

router = APIRouter(tags=["notices"], route_class=TransactionRoute)


def outbox_notice(notice: Notice, user: User) -> OutboxNotice:
    """A notice as the outbox lists it."""
    return OutboxNotice(
        id=notice.id or 0,
        kind=notice.kind,
        user_id=notice.user_id,
        username=user.username,
        to_address=notice.to_address,
        subject=notice.subject,
        status=notice.status,  # type: ignore[arg-type]
        attempts=notice.attempts,
        last_error=notice.last_error,
        created_at=notice.created_at,
        next_attempt_at=notice.next_attempt_at,
        sent_at=notice.sent_at,
    )


@router.get("/me/notices")
def list_my_notices(session: SessionDep, user: CurrentUser) -> list[NoticeSummary]:
    """The notices sent to the caller, newest first (at most 100)."""
    return [NoticeSummary.model_validate(n, from_attributes=True) for n in service.my_notices(session, user=user)]


@router.get("/me/notices/{notice_id}")
def get_my_notice(session: SessionDep, user: CurrentUser, notice_id: int) -> NoticeDetail:
    """One notice sent to the caller, with its text and HTML bodies."""
    return NoticeDetail.model_validate(service.my_notice(session, user=user, notice_id=notice_id), from_attributes=True)


@router.get("/me/notice-preferences")
def get_notice_preferences(session: SessionDep, user: CurrentUser) -> NoticePreferences:
    """Which optional notices (reminders, digests) the caller receives."""
    return NoticePreferences(**service.notice_preferences(session, user=user))


@router.patch("/me/notice-preferences")
def update_notice_preferences(
    session: SessionDep, clock: ClockDep, user: CurrentUser, data: NoticePreferencesUpdate
) -> NoticePreferences:
    """Turn reminders or digests on or off for the caller."""
    choices = dict(data.model_dump(exclude_none=True))
    return NoticePreferences(**service.notice_preferences_set(session, user=user, choices=choices, now=clock()))


@router.get("/courses/{course_id}/outbox")
def get_outbox(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    course_id: int,
    status: Annotated[NoticeStatus | None, Query(description="only notices in this state")] = None,
) -> OutboxPublic:
    """The course's outbox (staff): pending, sent and failed notices with their errors, newest first."""
    page = service.outbox_list(session, user=user, course_id=course_id, status=status)
    return OutboxPublic(
        smtp_configured=bool(settings.smtp_url),
        counts=page.counts,
        notices=[outbox_notice(n, u) for n, u in page.notices],
    )


@router.post("/notices/{notice_id}/retry")
def retry_notice(session: SessionDep, clock: ClockDep, user: CurrentUser, notice_id: int) -> OutboxNotice:
    """Queue a failed notice again (staff of its course); the sender delivers it on its next round."""
    return outbox_notice(*service.notice_retry(session, user=user, notice_id=notice_id, now=clock()))
