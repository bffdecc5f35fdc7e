"""The course's people: members with ids and roles, the roster import, activation codes shown once, accounts."""

import csv
import io
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.config import get_settings
from app.db import run_transaction
from app.deps import ClockDep, SessionDep
from app.errors import AppError, InvalidInput, PayloadTooLarge
from app.models import Course, User
from app.people.service import account_set_active
from app.roster.invitations import roster_import_for
from app.roster.service import activation_reissue, course_members
from app.spreadsheet import text_cell
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute, staff_course
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SAVED = {
    "created": "The course is created. Import its roster next.",
    "disabled": "The account is disabled.",
    "enabled": "The account is enabled again.",
}


def people_page(
    request: Request,
    session: Session,
    *,
    user: User,
    course_id: int,
    saved: str | None = None,
    errors: dict[str, str] | None = None,
    problems: list[dict[str, object]] | None = None,
    status_code: int = 200,
) -> Response:
    """The members list and the roster import form."""
    access = staff_course(session, user=user, course_id=course_id)
    _, members = course_members(session, user=user, course_id=course_id)
    return render(
        request,
        "people.html",
        {
            "course": access.course,
            "members": members,
            "is_lecturer": access.is_lecturer,
            "saved": SAVED.get(saved or ""),
            "errors": errors or {},
            "problems": problems or [],
            "max_upload_mb": get_settings().max_upload_mb,
            "title": f"{access.course.code} · people",
            "tab": "people",
        },
        status_code=status_code,
    )


@router.get("/courses/{course_id}/people")
def people(
    request: Request, session: SessionDep, user: CurrentWebUser, course_id: int, saved: str | None = None
) -> Response:
    """Everyone in the course with their user id and role (staff)."""
    return people_page(request, session, user=user, course_id=course_id, saved=saved)


def codes_csv(rows: list[tuple[User, str]]) -> str:
    """The codes as CSV for a spreadsheet: a UTF-8 byte-order mark, then student_no,name,email,username,code."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["student_no", "name", "email", "username", "activation_code"])
    for u, code in rows:
        writer.writerow(
            [text_cell(u.student_no or ""), text_cell(u.name), text_cell(u.email or ""), text_cell(u.username), code]
        )
    return "\ufeff" + out.getvalue()


def codes_page(
    request: Request, *, course: Course, rows: list[tuple[User, str]], summary: str, invited: bool = False
) -> Response:
    """The new activation codes, shown this once: printable, and as a CSV download made in the page.

    After a non-admin's import (`invited`) there are none: every new person was emailed instead.
    """
    return render(
        request,
        "codes.html",
        {
            "course": course,
            "rows": rows,
            "summary": summary,
            "invited": invited,
            "tab": "people",
            "csv_href": "data:text/csv;charset=utf-8," + quote(codes_csv(rows)),
            "title": f"{course.code} · activation codes",
        },
    )


def _imported(
    session: Session, *, request: Request, user: User, course_id: int, data: bytes, now: datetime
) -> Response:
    result = roster_import_for(session, user=user, course_id=course_id, data=data, now=now)
    course = staff_course(session, user=user, course_id=course_id).course
    if not user.is_admin:
        summary = (
            f"{result.invited} invited by email (each joins on activating or accepting), "
            f"{len(result.already_enrolled)} already in the course."
        )
        return codes_page(request, course=course, rows=[], summary=summary, invited=True)
    summary = (
        f"{len(result.codes)} new account{'s' if len(result.codes) != 1 else ''}, "
        f"{len(result.enrolled_existing)} existing user(s) enrolled, {len(result.already_enrolled)} already "
        "in the course."
    )
    return codes_page(request, course=course, rows=result.codes, summary=summary)


def _refused(session: Session, *, request: Request, user: User, course_id: int, exc: AppError) -> Response:
    problems = getattr(exc, "errors", None) or []
    return people_page(
        request,
        session,
        user=user,
        course_id=course_id,
        errors={"file": exc.detail},
        problems=problems,
        status_code=exc.status_code,
    )


@router.post("/courses/{course_id}/roster")
async def import_roster(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import a roster CSV; every bad line is listed by number and nothing is imported."""
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1) if file is not None else b""
    try:
        if not data:
            raise InvalidInput("Choose the roster CSV file (student_no,name,email[,role]).", field="file")
        if len(data) > limit:
            raise PayloadTooLarge(f"The roster is larger than {get_settings().max_upload_mb} MiB.")
        # An async route: its units of work end in the worker thread that ran them, never on the event loop.
        return await run_in_threadpool(
            run_transaction,
            session,
            _imported,
            write=True,
            request=request,
            user=user,
            course_id=course_id,
            data=data,
            now=clock(),
        )
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return await run_in_threadpool(
            run_transaction, session, _refused, write=False, request=request, user=user, course_id=course_id, exc=exc
        )


@router.post("/courses/{course_id}/members/{user_id}/activation")
def reissue_code(
    request: Request, session: SessionDep, clock: ClockDep, user: CsrfUser, course_id: int, user_id: int
) -> Response:
    """A new one-time activation code for a member who lost theirs (the password reset path)."""
    target, code = activation_reissue(session, user=user, course_id=course_id, user_id=user_id, now=clock())
    course = staff_course(session, user=user, course_id=course_id).course
    return codes_page(
        request,
        course=course,
        rows=[(target, code)],
        summary=f"A new code for {target.name or target.username}; earlier unused codes no longer work.",
    )


@router.post("/courses/{course_id}/members/{user_id}/active")
def set_active(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    user_id: int,
    active: Annotated[str, Form()] = "",
) -> Response:
    """Disable an account (every session and token stops at once) or enable it again (admins)."""
    staff_course(session, user=user, course_id=course_id)
    account_set_active(session, admin=user, user_id=user_id, active=active == "true", now=clock())
    saved = "enabled" if active == "true" else "disabled"
    return RedirectResponse(f"/ui/courses/{course_id}/people?saved={saved}#member-{user_id}", status_code=303)
