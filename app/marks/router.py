"""Marks endpoints: release, the student's own marks, marks.csv, assignment marks import."""

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute
from app.errors import InvalidInput, body_of
from app.marks import service
from app.marks.schemas import ImportPublic, MilestoneMarkPublic, MyMarksPublic, ReleasePublic

router = APIRouter(tags=["marks"], route_class=TransactionRoute)
ERR_NOT_UTF8 = "The file is not UTF-8 text."


def _out(value: float | None) -> float | None:
    # Marks are kept unrounded; they are rounded to 2 decimals only when shown.
    return None if value is None else round(value, 2)


@router.post("/courses/{course_id}/milestones/{key}/release")
def release_marks(session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, key: str) -> ReleasePublic:
    """Release a milestone's marks and reviews to students (staff); idempotent."""
    milestone = service.marks_release(session, user=user, course_id=course_id, key=key, now=clock())
    assert milestone.marks_released_at is not None
    return ReleasePublic(milestone=milestone.key, marks_released_at=milestone.marks_released_at)


@router.get("/courses/{course_id}/my-marks")
def get_my_marks(session: SessionDep, user: CurrentUser, course_id: int) -> MyMarksPublic:
    """The caller's marks for released milestones (students)."""
    mine = service.student_marks_get(session, user=user, course_id=course_id)
    row = mine.marks
    milestones = [
        MilestoneMarkPublic(
            key=m.key, title=m.title, score=_out(r.score), multiplier=_out(r.multiplier), mark=_out(r.mark)
        )
        for m in mine.released
        if row is not None
        for r in [row.milestones[m.key]]
    ]
    return MyMarksPublic(
        course_id=course_id,
        milestones=milestones,
        project_mark=_out(row.project) if row and mine.all_released else None,
        assignment_mark=_out(row.assignment) if row else None,
        course_mark=_out(row.course) if row and mine.all_released else None,
    )


@router.get("/courses/{course_id}/marks.csv", response_class=Response, responses=body_of("text/csv"))
def export_marks(session: SessionDep, user: CurrentUser, course_id: int, normalise: bool = False) -> Response:
    """Per student: each milestone's score, multiplier and mark, the project mark (and course mark) as CSV (staff)."""
    course, text = service.marks_export(session, user=user, course_id=course_id, normalise=normalise)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{course.code}-marks.csv"'},
    )


@router.post("/courses/{course_id}/assignment-marks")
def import_assignment_marks(
    session: SessionDep, clock: ClockDep, user: CurrentUser, course_id: int, file: Annotated[UploadFile, File()]
) -> ImportPublic:
    """Import assignment marks from a `student_no,assignment_mark` CSV (lecturer); all or nothing."""
    try:
        text = file.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ERR_NOT_UTF8, field="file") from None
    return ImportPublic(
        imported=service.assignment_marks_import(session, user=user, course_id=course_id, text=text, now=clock())
    )
