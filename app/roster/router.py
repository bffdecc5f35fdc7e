"""The roster import endpoint: a CSV file (multipart `file`) or a raw text/csv body."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status

from app.config import get_settings
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.roster import service
from app.roster.invitations import roster_import_for
from app.roster.schemas import ActivationCodePublic, MemberRolePublic, RosterResultPublic

router = APIRouter(tags=["roster"], route_class=TransactionRoute)

RAW_CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")
ERR_NO_FILE = "Send the roster as a multipart file field 'file', or as a text/csv body."
ERR_MEDIA_TYPE = "Send the roster as multipart/form-data (field 'file') or as a text/csv body."


async def roster_upload(
    request: Request,
    file: Annotated[UploadFile | None, File(description="the roster CSV: student_no,name,email[,role]")] = None,
) -> bytes:
    """The uploaded roster's bytes, from a multipart `file` or a raw CSV body; 413 above the upload limit."""
    limit = get_settings().max_upload_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if file is not None:
        data = await file.read(limit + 1)
    elif content_type == "multipart/form-data":
        raise InvalidInput(ERR_NO_FILE, field="file")
    elif content_type in RAW_CSV_TYPES:
        data = await request.body()
    else:
        raise UnsupportedMediaType(ERR_MEDIA_TYPE)
    if len(data) > limit:
        raise PayloadTooLarge(f"The roster is larger than {get_settings().max_upload_mb} MiB.")
    return data


@router.post("/courses/{course_id}/roster")
def import_roster(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    course_id: int,
    data: Annotated[bytes, Depends(roster_upload)],
    email_codes: Annotated[
        bool, Query(description="email new users their codes (admins; invitations are always emailed)")
    ] = False,
) -> RosterResultPublic:
    """Import a roster CSV (staff); idempotent. Admins enrol directly and get one activation code per new user;
    other staff get every line for a non-member as `invited` (emailed; joins on activation or acceptance)."""
    result = roster_import_for(session, user=user, course_id=course_id, data=data, now=clock(), email_codes=email_codes)
    return RosterResultPublic(
        created=len(result.codes),
        enrolled_existing=len(result.enrolled_existing),
        already_enrolled=len(result.already_enrolled),
        codes_emailed=result.emailed,
        invited=result.invited,
        activation_codes=[
            ActivationCodePublic(student_no=u.student_no or "", username=u.username, email=u.email or "", code=code)
            for u, code in result.codes
        ],
    )


@router.get("/courses/{course_id}/members")
def list_members(session: SessionDep, user: CurrentUser, course_id: int) -> list[MemberRolePublic]:
    """The course's members with user ids and roles, lecturers first (staff)."""
    _, rows = service.course_members(session, user=user, course_id=course_id)
    return [
        MemberRolePublic(
            user_id=u.id or 0,
            username=u.username,
            name=u.name,
            email=u.email,
            student_no=u.student_no,
            role=m.role,
            is_active=u.is_active,
        )
        for m, u in rows
    ]


@router.post("/courses/{course_id}/members/{user_id}/activation", status_code=status.HTTP_201_CREATED)
def reissue_activation(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, user_id: int
) -> ActivationCodePublic:
    """A new one-time activation code for a member who lost theirs (staff); earlier unused codes stop working."""
    target, code = service.activation_reissue(session, user=user, course_id=course_id, user_id=user_id, now=clock())
    return ActivationCodePublic(
        student_no=target.student_no or "", username=target.username, email=target.email or "", code=code
    )
