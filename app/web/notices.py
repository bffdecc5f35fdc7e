"""The notice pages: a user's email preferences and what was sent to them; a course's outbox for staff."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.config import get_settings
from app.deps import ClockDep, SessionDep
from app.errors import InvalidInput
from app.notify.service import (
    MSG_NO_SMTP,
    STATUSES,
    my_notices,
    notice_preferences,
    notice_preferences_set,
    notice_retry,
    outbox_list,
)
from app.outbox.render import OPTIONAL_LABELS
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute, staff_course
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SAVED = {
    "preferences": "Your email preferences are saved.",
    "retry": "The notice is queued again; the sender delivers it on its next round.",
}


@router.get("/account/notices")
def account_notices(request: Request, session: SessionDep, user: CurrentWebUser, saved: str | None = None) -> Response:
    """The user's choice of optional emails, and every notice sent to them."""
    return render(
        request,
        "account_notices.html",
        {
            "preferences": notice_preferences(session, user=user),
            "labels": OPTIONAL_LABELS,
            "notices": my_notices(session, user=user),
            "saved": SAVED.get(saved or ""),
            "no_smtp": None if get_settings().smtp_url else MSG_NO_SMTP,
            "title": "Email notices",
        },
    )


@router.post("/account/notices")
def save_preferences(
    session: SessionDep, clock: ClockDep, user: CsrfUser, kinds: Annotated[list[str] | None, Form()] = None
) -> Response:
    """Keep the optional kinds whose boxes are ticked; turn the others off."""
    chosen = set(kinds or [])
    unknown = chosen - set(OPTIONAL_LABELS)
    if unknown:
        raise InvalidInput(f"Unknown kind of notice: {', '.join(sorted(unknown))}.")
    notice_preferences_set(session, user=user, choices={k: k in chosen for k in OPTIONAL_LABELS}, now=clock())
    return RedirectResponse("/ui/account/notices?saved=preferences", status_code=303)


@router.get("/courses/{course_id}/outbox")
def outbox_page(
    request: Request,
    session: SessionDep,
    user: CurrentWebUser,
    course_id: int,
    status: str | None = None,
    saved: str | None = None,
) -> Response:
    """The course's notices, pending, sent, failed with their error (staff), and a retry for failed ones."""
    course = staff_course(session, user=user, course_id=course_id).course
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Unknown status {status!r}.")
    page = outbox_list(session, user=user, course_id=course_id, status=status)
    return render(
        request,
        "outbox.html",
        {
            "course": course,
            "page": page,
            "status": status,
            "statuses": STATUSES,
            "saved": SAVED.get(saved or ""),
            "no_smtp": None if get_settings().smtp_url else MSG_NO_SMTP,
            "title": f"{course.code} · outbox",
        },
    )


@router.post("/notices/{notice_id}/retry")
def retry_notice(session: SessionDep, clock: ClockDep, user: CsrfUser, notice_id: int) -> Response:
    """Queue a failed notice again and return to the outbox."""
    notice, _ = notice_retry(session, user=user, notice_id=notice_id, now=clock())
    return RedirectResponse(f"/ui/courses/{notice.course_id}/outbox?saved=retry", status_code=303)
