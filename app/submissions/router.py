"""Upload, list and download versions, pin the graded one, and check a PDF without storing it."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import Clock
from app.db import run_transaction
from app.deps import (
    BearerToken,
    ClockDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    StagedUploadDep,
    StoreDep,
    TransactionRoute,
    get_current_user,
    oauth2_scheme,
    read_as_user,
    user_for_token,
)
from app.downloads import stored_file_response
from app.errors import body_of
from app.submissions import pins, service
from app.submissions.checkqueue import DRY_RUN, UPLOAD, get_check_queue
from app.submissions.pictures import stored_page_picture
from app.submissions.presenters import submission_public
from app.submissions.schemas import PinIn, SubmissionPublic
from app.submissions.upload import receive_pdf

router = APIRouter(tags=["submissions"], route_class=TransactionRoute)
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]

# The body is parsed from the raw stream, so FastAPI cannot infer it: describe it for /docs.
PDF_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _open_upload(session: Session, *, clock: Clock, token: str | None, group_id: int, key: str) -> service.UploadTarget:
    user = user_for_token(session, token=token, now=clock())
    return service.submission_target(session, user=user, group_id=group_id, key=key)


# Declared before SessionDep, the staged upload is torn down after the session, so a failure
# at any point (even the commit) removes the files this request wrote.
@router.post(
    "/groups/{group_id}/milestones/{key}/submissions", status_code=status.HTTP_201_CREATED, openapi_extra=PDF_FORM
)
async def upload_submission(
    request: Request,
    staged: StagedUploadDep,
    session: SessionDep,
    clock: ClockDep,
    token: TokenDep,
    settings: SettingsDep,
    group_id: int,
    key: str,
) -> SubmissionPublic:
    """Upload a new version (members; multipart field `file`): stored with its format report and lateness."""
    target = await run_in_threadpool(
        run_transaction, session, _open_upload, write=False, clock=clock, token=token, group_id=group_id, key=key
    )
    async with get_check_queue().admitted(target.user.id or 0):
        filename = await receive_pdf(request, staged, max_bytes=settings.max_upload_bytes)
        received_at = clock()
        report = await get_check_queue().run(
            service.submission_check,
            priority=UPLOAD,
            gone=request.is_disconnected,
            target=target,
            staged=staged,
            settings=settings,
        )
    view = await run_in_threadpool(
        run_transaction,
        session,
        service.submission_create,
        write=True,
        user=target.user,
        group_id=group_id,
        key=key,
        staged=staged,
        filename=filename,
        report=report,
        now=received_at,
    )
    return submission_public(target.course, view)


@router.get("/groups/{group_id}/milestones/{key}/submissions")
async def list_submissions(
    session: SessionDep, clock: ClockDep, token: BearerToken, group_id: int, key: str
) -> list[SubmissionPublic]:
    """Every version of the group's work for the milestone, oldest first (members and staff)."""
    course, views = await read_as_user(session, clock, token, service.submission_list, group_id=group_id, key=key)
    return [submission_public(course, v) for v in views]


@router.get(
    "/submissions/{submission_id}/file",
    response_class=Response,
    responses={
        **body_of("application/pdf", binary=True),
        307: {"description": "Redirect to a short-lived URL of the PDF in the object store."},
    },
)
def download_submission(session: SessionDep, store: StoreDep, user: CurrentUser, submission_id: int) -> Response:
    """The PDF of a version under its uploaded file name (the group's members and the course staff)."""
    sub = service.submission_get(session, user=user, submission_id=submission_id)
    return stored_file_response(store, sha256=sub.sha256, filename=sub.filename)


@router.get(
    "/submissions/{submission_id}/pages/{page}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the page with its findings outlined"}},
)
def page_picture_png(
    session: SessionDep, store: StoreDep, settings: SettingsDep, user: CurrentUser, submission_id: int, page: int
) -> Response:
    """A page of a version as a PNG with its format findings outlined (the group's members and the course staff)."""
    sub = service.submission_get(session, user=user, submission_id=submission_id)
    session.commit()  # not held across the render: on SQLite the open transaction holds the write lock
    png = stored_page_picture(store, report=sub.format_report, page=page, sha256=sub.sha256, settings=settings)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.post("/groups/{group_id}/milestones/{key}/graded")
def pin_graded(
    session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, key: str, body: PinIn
) -> SubmissionPublic:
    """Grade this version instead of the latest (staff)."""
    return submission_public(
        *pins.graded_pin(session, user=user, group_id=group_id, key=key, submission_id=body.submission_id, now=clock())
    )


@router.delete("/groups/{group_id}/milestones/{key}/graded", status_code=status.HTTP_204_NO_CONTENT)
def unpin_graded(session: SessionDep, clock: ClockDep, user: CurrentUser, group_id: int, key: str) -> None:
    """Grade the latest version again (staff)."""
    pins.graded_unpin(session, user=user, group_id=group_id, key=key, now=clock())


@router.post("/check", openapi_extra=PDF_FORM)
async def check_pdf_dry_run(
    request: Request,
    staged: StagedUploadDep,
    session: SessionDep,
    clock: ClockDep,
    token: TokenDep,
    settings: SettingsDep,
    ruleset: Annotated[str, Query(description="proposal, report, poster or slides")] = "proposal",
) -> dict[str, Any]:
    """Check a PDF against a rule set with the default course rules; nothing is stored (any user)."""
    user = await run_in_threadpool(get_current_user, session, clock, token)
    service.ruleset_check(ruleset)
    async with get_check_queue().admitted(user.id or 0):
        await receive_pdf(request, staged, max_bytes=settings.max_upload_bytes)
        report = await get_check_queue().run(
            service.format_check,
            priority=DRY_RUN,
            gone=request.is_disconnected,
            staged=staged,
            ruleset=ruleset,
            course=None,
            milestone=None,
            settings=settings,
            dry_run=True,
        )
    return report.to_dict()
