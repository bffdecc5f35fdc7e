"""Uploading a version and checking a file without submitting, from the group's page.

The file streams from the request into a staged file as in the API (never held in memory),
and the database transaction is ended before each await, as the API's upload route does, so
SQLite's write lock is never held while the body arrives or the PDF is checked. A refused
upload shows the reason next to the file field and keeps nothing.
"""

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.clock import Clock
from app.config import get_settings
from app.db import run_transaction
from app.deps import ClockDep, SessionDep, StagedUploadDep, StoreDep
from app.errors import AppError, Forbidden, NotFound
from app.formatcheck import CheckReport
from app.models import User
from app.submissions.checkqueue import DRY_RUN, UPLOAD, get_check_queue
from app.submissions.pictures import inline_pictures, stored_page_picture
from app.submissions.service import (
    UploadTarget,
    check_target,
    format_check,
    submission_check,
    submission_create,
    submission_get,
    submission_target,
)
from app.submissions.upload import receive_pdf
from app.web.deps import ERR_CSRF, SESSION_COOKIE, CurrentWebUser, WebRoute, csrf_valid, get_web_user
from app.web.student import PageState, status_page, status_url

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _poster(session: Session, *, request: Request, clock: Clock, csrf_token: str) -> User:
    """The signed-in user of a form post whose CSRF token (in the form's address) is this session's."""
    user = get_web_user(request, session, clock)
    if not csrf_valid(request.cookies.get(SESSION_COOKIE), csrf_token):
        raise Forbidden(ERR_CSRF, code="csrf")
    return user


def _page(
    session: Session,
    *,
    request: Request,
    user: User,
    group_id: int,
    clock: Clock,
    state: PageState,
    status_code: int = 200,
) -> Response:
    return status_page(
        request, session, user=user, group_id=group_id, now=clock(), state=state, status_code=status_code
    )


async def _show(
    request: Request,
    session: Session,
    *,
    user: User,
    group_id: int,
    clock: Clock,
    state: PageState,
    status_code: int = 200,
) -> Response:
    """The group's page in `state`, read in its own transaction."""
    return await run_in_threadpool(
        run_transaction,
        session,
        _page,
        write=False,
        request=request,
        user=user,
        group_id=group_id,
        clock=clock,
        state=state,
        status_code=status_code,
    )


async def _refused(
    request: Request, session: Session, *, user: User, group_id: int, key: str, exc: AppError, clock: Clock
) -> Response:
    """The group's page with the refusal next to the file field."""
    state = PageState(errors={f"file-{key}": exc.detail})
    return await _show(
        request, session, user=user, group_id=group_id, clock=clock, state=state, status_code=exc.status_code
    )


async def _checked(
    request: Request,
    staged: StagedUploadDep,
    session: Session,
    *,
    target_of: Callable[..., UploadTarget],
    user: User,
    group_id: int,
    key: str,
    clock: Clock,
    dry_run: bool,
) -> tuple[str, datetime, CheckReport]:
    """The file streamed to `staged` (after `target_of`'s refusal rules), when it arrived, and its report.

    The pages take a place in the API's check queue: the same per-user cap, uploads before dry runs,
    and no thread held while waiting for a checker.
    """
    settings = get_settings()
    queue = get_check_queue()
    async with queue.admitted(user.id or 0):
        target = await run_in_threadpool(
            run_transaction, session, target_of, write=False, user=user, group_id=group_id, key=key
        )
        filename = await receive_pdf(request, staged, max_bytes=settings.max_upload_bytes)
        received_at = clock()
        if dry_run:
            report = await queue.run(
                format_check,
                priority=DRY_RUN,
                gone=request.is_disconnected,
                staged=staged,
                ruleset=target.ruleset,
                course=target.course,
                milestone=target.milestone,
                settings=settings,
                dry_run=True,
            )
        else:
            report = await queue.run(
                submission_check,
                priority=UPLOAD,
                gone=request.is_disconnected,
                target=target,
                staged=staged,
                settings=settings,
            )
    return filename, received_at, report


@router.post("/groups/{group_id}/milestones/{key}/upload")
async def upload_version(
    request: Request,
    staged: StagedUploadDep,
    session: SessionDep,
    clock: ClockDep,
    group_id: int,
    key: str,
    csrf_token: str = "",
) -> Response:
    """Store a new version with its format report; a refusal is shown next to the file field."""
    user = await run_in_threadpool(
        run_transaction, session, _poster, write=False, request=request, clock=clock, csrf_token=csrf_token
    )
    try:
        filename, received_at, report = await _checked(
            request,
            staged,
            session,
            target_of=submission_target,
            user=user,
            group_id=group_id,
            key=key,
            clock=clock,
            dry_run=False,
        )
        await run_in_threadpool(
            run_transaction,
            session,
            submission_create,
            write=True,
            user=user,
            group_id=group_id,
            key=key,
            staged=staged,
            filename=filename,
            report=report,
            now=received_at,
        )
    except NotFound:
        raise
    except AppError as exc:
        return await _refused(request, session, user=user, group_id=group_id, key=key, exc=exc, clock=clock)
    return RedirectResponse(status_url(group_id, "upload", f"m-{key}"), status_code=303)


@router.post("/groups/{group_id}/milestones/{key}/check")
async def check_file(
    request: Request,
    staged: StagedUploadDep,
    session: SessionDep,
    clock: ClockDep,
    group_id: int,
    key: str,
    csrf_token: str = "",
) -> Response:
    """Check a file against the milestone's rules and show the report with its pictures; nothing is stored."""
    user = await run_in_threadpool(
        run_transaction, session, _poster, write=False, request=request, clock=clock, csrf_token=csrf_token
    )
    settings = get_settings()
    try:
        filename, _, report = await _checked(
            request,
            staged,
            session,
            target_of=check_target,
            user=user,
            group_id=group_id,
            key=key,
            clock=clock,
            dry_run=True,
        )
        data = report.to_dict()
        pictures = await run_in_threadpool(inline_pictures, staged.path, report=data, settings=settings)
    except NotFound:
        raise
    except AppError as exc:
        return await _refused(request, session, user=user, group_id=group_id, key=key, exc=exc, clock=clock)
    state = PageState(check={"key": key, "filename": filename, "report": data, "pictures": pictures})
    return await _show(request, session, user=user, group_id=group_id, clock=clock, state=state)


@router.get("/submissions/{submission_id}/pages/{page}.png")
def page_picture_png(
    session: SessionDep, store: StoreDep, user: CurrentWebUser, submission_id: int, page: int
) -> Response:
    """A page of a version with its findings outlined (its group's members and the course staff; 404 otherwise)."""
    submission = submission_get(session, user=user, submission_id=submission_id)
    session.commit()  # not held across the render: on SQLite an open transaction holds the write lock
    png = stored_page_picture(
        store, report=submission.format_report, page=page, sha256=submission.sha256, settings=get_settings()
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
