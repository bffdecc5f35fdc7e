"""Reviews and marks for staff: rubric, reviewer assignment, releasing marks, marks.csv; and the audit log."""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from app.audit.service import audit_actions, audit_search
from app.dashboard.service import MISSING, dashboard_rows
from app.deps import ClockDep, SessionDep
from app.errors import AppError, InvalidInput
from app.marks.service import marks_export, marks_release
from app.milestones.service import course_milestones
from app.models import User
from app.reviews.schemas import Criterion
from app.reviews.service import assignment_add, assignments_create, course_staff, rubric_set
from app.roster.service import course_members
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute, staff_course
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SAVED = {
    "rubric": "Rubric saved.",
    "released": "Marks released: students now see their marks and reviews.",
    "assigned": "Reviewers assigned.",
    "assigned-one": "Reviewer assigned.",
}
AUDIT_PAGE_SIZE = 100


def rubric_text(rubric: list[dict[str, object]]) -> str:
    """A rubric as the form shows it: 'key | label | max points' per line."""
    return "\n".join(f"{c['key']} | {c['label']} | {float(str(c['max_points'])):g}" for c in rubric)


def parse_rubric(text: str) -> list[Criterion]:
    """The rubric typed in the form; InvalidInput naming the first bad line."""
    criteria = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        try:
            criteria.append(Criterion(key=parts[0], label=parts[1], max_points=float(parts[2])))
        except (IndexError, ValueError, ValidationError):
            raise InvalidInput(
                f"Line {n}: write 'key | label | max points', e.g. 'method | Method | 40' "
                "(key in lower case letters, digits, '-' or '_').",
                field="rubric",
            ) from None
    if not criteria:
        raise InvalidInput("Give at least one criterion.", field="rubric")
    return criteria


def marking_page(
    request: Request,
    session: Session,
    *,
    user: User,
    course_id: int,
    saved: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Each milestone's rubric, review coverage, assignment and release."""
    access = staff_course(session, user=user, course_id=course_id)
    course = access.course
    needed = max(1, course.required_reviews)
    overview = []
    for m in course_milestones(session, course_id=course_id):
        rows = dashboard_rows(session, course=course, milestone=m)
        submitted = [r for r in rows if r.status != MISSING]
        overview.append(
            {
                "milestone": m,
                "groups": len(rows),
                "submitted": len(submitted),
                "missing": [r.group.name for r in rows if r.status == MISSING],
                "unreviewed": [r.group.name for r in submitted if r.review_count < needed],
                "submitted_groups": sorted((r.group.name, r.group.id) for r in submitted),
                "rubric": (values or {}).get(f"{m.key}.rubric", rubric_text(m.rubric)),
            }
        )
    return render(
        request,
        "marking.html",
        {
            "course": course,
            "overview": overview,
            "needed": needed,
            "is_lecturer": access.is_lecturer,
            "staff": course_staff(session, course_id=course_id),
            "saved": SAVED.get(saved or ""),
            "errors": errors or {},
            "tab": "marking",
            "title": f"{course.code} · reviews and marks",
        },
        status_code=status_code,
    )


@router.get("/courses/{course_id}/marking")
def marking(
    request: Request, session: SessionDep, user: CurrentWebUser, course_id: int, saved: str | None = None
) -> Response:
    """Rubrics, reviewer assignment, releasing marks and the marks.csv download (staff)."""
    return marking_page(request, session, user=user, course_id=course_id, saved=saved)


def _back(course_id: int, saved: str, key: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/courses/{course_id}/marking?saved={saved}#ms-{key}", status_code=303)


@router.post("/courses/{course_id}/milestones/{key}/rubric")
def save_rubric(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    key: str,
    rubric: Annotated[str, Form()] = "",
) -> Response:
    """Replace a milestone's rubric (lecturer; refused once it has reviews)."""
    try:
        rubric_set(session, user=user, course_id=course_id, key=key, criteria=parse_rubric(rubric), now=clock())
    except AppError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        return marking_page(
            request,
            session,
            user=user,
            course_id=course_id,
            errors={f"{key}.rubric": exc.detail},
            values={f"{key}.rubric": rubric},
            status_code=exc.status_code,
        )
    return _back(course_id, "rubric", key)


@router.post("/courses/{course_id}/milestones/{key}/assign")
def assign_reviewers(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    key: str,
    reviewers: Annotated[str, Form()] = "1",
) -> Response:
    """Assign each graded version to distinct staff, balancing their loads (lecturer)."""
    try:
        count = int(reviewers)
        if not 1 <= count <= 20:
            raise ValueError
    except ValueError:
        return marking_page(
            request,
            session,
            user=user,
            course_id=course_id,
            status_code=422,
            errors={f"{key}.reviewers": "Give a number of reviewers from 1 to 20."},
        )
    try:
        assignments_create(
            session, user=user, course_id=course_id, key=key, reviewers_per_submission=count, now=clock()
        )
    except AppError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        return marking_page(
            request,
            session,
            user=user,
            course_id=course_id,
            status_code=exc.status_code,
            errors={f"{key}.reviewers": exc.detail},
        )
    return _back(course_id, "assigned", key)


@router.post("/courses/{course_id}/milestones/{key}/assign-one")
def assign_one_reviewer(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    key: str,
    group_id: Annotated[str, Form()] = "",
    reviewer_id: Annotated[str, Form()] = "",
) -> Response:
    """Assign a reviewer to one group's work by hand (lecturer), on top of the balanced assignment."""
    try:
        if not (group_id.isdigit() and reviewer_id.isdigit()):
            raise InvalidInput("Choose a group and a reviewer.", field="reviewer_id")
        assignment_add(
            session,
            user=user,
            course_id=course_id,
            key=key,
            group_id=int(group_id),
            reviewer_id=int(reviewer_id),
            now=clock(),
        )
    except AppError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        return marking_page(
            request,
            session,
            user=user,
            course_id=course_id,
            status_code=exc.status_code,
            errors={f"{key}.by_hand": exc.detail},
        )
    return _back(course_id, "assigned-one", key)


@router.post("/courses/{course_id}/milestones/{key}/release")
def release(session: SessionDep, clock: ClockDep, user: CsrfUser, course_id: int, key: str) -> Response:
    """Release a milestone's marks and reviews to students (staff)."""
    marks_release(session, user=user, course_id=course_id, key=key, now=clock())
    return _back(course_id, "released", key)


@router.get("/courses/{course_id}/marks.csv")
def marks_csv_download(session: SessionDep, user: CurrentWebUser, course_id: int) -> Response:
    """marks.csv as the API gives it, with a byte-order mark so spreadsheets read it as UTF-8 (staff)."""
    course, text = marks_export(session, user=user, course_id=course_id)
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{course.code}-marks.csv"'},
    )


@router.get("/courses/{course_id}/audit")
def audit_log(
    request: Request,
    session: SessionDep,
    user: CurrentWebUser,
    course_id: int,
    action: str = "",
    actor: str = "",
    page: int = 1,
) -> Response:
    """The course's audit log, newest first, filtered by action and by who did it (staff)."""
    access = staff_course(session, user=user, course_id=course_id)
    _, members = course_members(session, user=user, course_id=course_id)
    staff = [(m, u) for m, u in members if m.role != "student"]
    actor_id = int(actor) if actor.isdigit() and int(actor) <= 2**31 - 1 else None
    page = max(1, min(page, 10_000))
    rows = audit_search(
        session,
        course_id=course_id,
        action=action[:60],
        actor_id=actor_id,
        limit=AUDIT_PAGE_SIZE + 1,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    return render(
        request,
        "audit.html",
        {
            "course": access.course,
            "rows": rows[:AUDIT_PAGE_SIZE],
            "more": len(rows) > AUDIT_PAGE_SIZE,
            "page": page,
            "actions": audit_actions(session, course_id=course_id),
            "staff": staff,
            "action": action,
            "actor": actor,
            "as_json": lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True) if v else "",
            "tab": "audit",
            "title": f"{access.course.code} · audit log",
        },
    )
