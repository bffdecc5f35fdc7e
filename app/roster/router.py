"""The roster import endpoint: a CSV file (multipart `file`) or a raw text/csv body."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from app.config import get_settings
from app.deps import ClockDep, CurrentUser, SessionDep
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.roster import service
from app.roster.schemas import ActivationCodePublic, RosterResultPublic

router = APIRouter(tags=["roster"])

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
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int,
    data: Annotated[bytes, Depends(roster_upload)],
    email_codes: Annotated[bool, Query(description="also email each new user their activation code")] = False,
) -> RosterResultPublic:
    """Import a roster CSV (staff); returns one activation code per user it created. Idempotent."""
    result = service.roster_import_for(session, user=user, course_id=course_id, data=data, now=clock(),
                                       email_codes=email_codes)
    return RosterResultPublic(
        created=len(result.codes),
        enrolled_existing=len(result.enrolled_existing),
        already_enrolled=len(result.already_enrolled),
        codes_emailed=result.emailed,
        activation_codes=[
            ActivationCodePublic(student_no=u.student_no or "", username=u.username, email=u.email or "", code=code)
            for u, code in result.codes
        ],
    )
