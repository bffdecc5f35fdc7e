"""The lecturer's course pages: create a course, edit its settings and deadlines, lock group formation.

Every form shows its errors next to the field on the same page, with the values as typed.
TAs see the settings read-only: deadlines and marking rules are the lecturer's.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from app.courses.schemas import CourseCreate, CourseSettings, LateTier, MilestoneSettings
from app.courses.service import course_create, course_update
from app.deps import ClockDep, SessionDep
from app.errors import AppError, InvalidInput
from app.groups.service import group_formation_lock
from app.milestones.rules import milestone_deadline
from app.milestones.schemas import MilestoneUpdate
from app.milestones.service import course_milestones, milestone_update
from app.models import Course, Milestone, User
from app.web.deps import CsrfUser, CurrentWebUser, PostedForm, WebRoute, staff_course
from app.web.groups import parse_local
from app.web.templating import local_input, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SAVED = {
    "settings": "Settings saved.",
    "locked": "Group formation is locked.",
    "unlocked": "Group formation is open again.",
    "created": "The course is created. Import its roster next.",
}
COURSE_FIELDS = (
    "title",
    "start_date",
    "weeks",
    "timezone",
    "min_group_size",
    "max_group_size",
    "grace_seconds",
    "presentation_slots",
    "required_reviews",
    "assignment_share",
)
INT_FIELDS = {"weeks", "min_group_size", "max_group_size", "grace_seconds", "presentation_slots", "required_reviews"}


@dataclass
class FormState:
    """Posted values (as typed) and the error of each field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _number(state: FormState, name: str, *, integer: bool) -> float | int | None:
    raw = state.values.get(name, "").strip()
    if not raw:
        state.errors[name] = "Give a value."
        return None
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        state.errors[name] = "Give a whole number." if integer else "Give a number such as 20 or 12.5."
        return None


def tiers_text(tiers: list[dict[str, Any]]) -> str:
    """Late tiers as the form shows them: one line per tier, 'hours multiplier', 'any' for no bound."""
    lines = []
    for tier in tiers:
        bound = "any" if tier["max_hours"] is None else f"{tier['max_hours']:g}"
        lines.append(f"{bound} {tier['multiplier']:g}")
    return "\n".join(lines)


def _tiers(state: FormState) -> list[LateTier] | None:
    tiers = []
    for n, line in enumerate(state.values.get("late_tiers", "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace("×", " ").split()
        try:
            bound = None if parts[0].lower() in ("any", "*", "-") else float(parts[0])
            tiers.append(LateTier(max_hours=bound, multiplier=float(parts[1])))
        except (IndexError, ValueError, ValidationError):
            state.errors["late_tiers"] = (
                f"Line {n}: write the hours late (or 'any') and the multiplier, "
                "e.g. '24 0.9' (a multiplier between 0 and 1)."
            )
            return None
    if not tiers:
        state.errors["late_tiers"] = "Give at least one tier, e.g. 'any 1'."
        return None
    return tiers


def _course_settings(state: FormState) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": state.values.get("title", "").strip(),
        "timezone": state.values.get("timezone", "").strip(),
    }
    for name in COURSE_FIELDS:
        if name in INT_FIELDS or name == "assignment_share":
            values[name] = _number(state, name, integer=name in INT_FIELDS)
    try:
        values["start_date"] = date.fromisoformat(state.values.get("start_date", ""))
    except ValueError:
        state.errors["start_date"] = "Give a date such as 2026-09-07 (a Monday)."
    values["late_tiers"] = _tiers(state)
    return values


def _milestone_fields(
    state: FormState, course: Course, milestones: list[Milestone]
) -> tuple[list[MilestoneSettings], dict[str, MilestoneUpdate]]:
    settings, updates = [], {}
    for m in milestones:
        week = _number(state, f"{m.key}.week", integer=True)
        weight = _number(state, f"{m.key}.weight", integer=False)
        if week is not None and weight is not None:
            settings.append(MilestoneSettings(key=m.key, week=int(week), weight=float(weight)))
        due_raw = state.values.get(f"{m.key}.due_at", "").strip()
        due = None
        if due_raw:
            try:
                due = parse_local(due_raw, course.timezone, f"{m.key}.due_at")
            except InvalidInput as exc:
                state.errors[f"{m.key}.due_at"] = exc.detail
        limit_raw = state.values.get(f"{m.key}.page_limit", "").strip()
        limit = int(limit_raw) if limit_raw.isdigit() else None
        if limit_raw and limit is None:
            state.errors[f"{m.key}.page_limit"] = "Give a whole number of pages."
        change = {"due_at": due, "errors_block": state.values.get(f"{m.key}.errors_block") == "on", "page_limit": limit}
        current = {"due_at": m.due_at_override, "errors_block": m.errors_block, "page_limit": m.page_limit}
        diff = {k: v for k, v in change.items() if v != current[k]}
        if diff:
            try:
                updates[m.key] = MilestoneUpdate.model_validate(diff)
            except ValidationError as exc:
                state.errors[f"{m.key}.due_at"] = exc.errors()[0]["msg"]
    return settings, updates


def settings_page(
    request: Request,
    session: Session,
    *,
    user: User,
    course_id: int,
    state: FormState | None = None,
    saved: str | None = None,
    status_code: int = 200,
) -> Response:
    """The settings form, filled from the course or from the values just posted."""
    access = staff_course(session, user=user, course_id=course_id)
    course = access.course
    milestones = course_milestones(session, course_id=course_id)
    values = {name: str(getattr(course, name)) for name in COURSE_FIELDS}
    values["late_tiers"] = tiers_text(course.late_tiers)
    for m in milestones:
        values |= {
            f"{m.key}.week": str(m.week),
            f"{m.key}.weight": f"{m.weight:g}",
            f"{m.key}.due_at": local_input(m.due_at_override, course.timezone),
            f"{m.key}.page_limit": "" if m.page_limit is None else str(m.page_limit),
            f"{m.key}.errors_block": "on" if m.errors_block else "",
        }
    state = state or FormState()
    return render(
        request,
        "course_settings.html",
        {
            "course": course,
            "milestones": milestones,
            "deadlines": {m.key: milestone_deadline(course, m) for m in milestones},
            "values": values | state.values,
            "errors": state.errors,
            "is_lecturer": access.is_lecturer,
            "saved": SAVED.get(saved or ""),
            "title": f"{course.code} · settings",
            "tab": "settings",
        },
        status_code=status_code,
    )


@router.get("/courses/{course_id}/settings")
def course_settings(
    request: Request, session: SessionDep, user: CurrentWebUser, course_id: int, saved: str | None = None
) -> Response:
    """The course's settings and deadlines (lecturer edits, TAs read)."""
    return settings_page(request, session, user=user, course_id=course_id, saved=saved)


def _field_of(exc: AppError) -> str:
    return getattr(exc, "field", None) or "form"


@router.post("/courses/{course_id}/settings")
def save_course_settings(
    request: Request, session: SessionDep, clock: ClockDep, user: CsrfUser, form: PostedForm, course_id: int
) -> Response:
    """Save the settings and deadlines: all or nothing, each problem shown next to its field."""
    access = staff_course(session, user=user, course_id=course_id)
    milestones = course_milestones(session, course_id=course_id)
    state = FormState(values={k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"})
    values = _course_settings(state)
    ms_settings, updates = _milestone_fields(state, access.course, milestones)
    data = None
    if not state.errors:
        try:
            data = CourseSettings(**values, milestones=ms_settings)
        except ValidationError as exc:
            for error in exc.errors():
                state.errors[str(error["loc"][0])] = error["msg"]
    if data is not None:
        try:
            course_update(session, user=user, course_id=course_id, data=data, now=clock())
            for key, update in updates.items():
                milestone_update(session, user=user, course_id=course_id, key=key, data=update, now=clock())
        except AppError as exc:
            session.rollback()
            state.errors[_field_of(exc)] = exc.detail
    if state.errors:
        return settings_page(request, session, user=user, course_id=course_id, state=state, status_code=422)
    return RedirectResponse(f"/ui/courses/{course_id}/settings?saved=settings", status_code=303)


@router.post("/courses/{course_id}/formation")
def lock_formation(session: SessionDep, clock: ClockDep, user: CsrfUser, form: PostedForm, course_id: int) -> Response:
    """Lock group formation (afterwards only staff change groups), or open it again (staff)."""
    staff_course(session, user=user, course_id=course_id)
    locked = form.get("locked") == "true"
    group_formation_lock(session, user=user, course_id=course_id, locked=locked, now=clock())
    return RedirectResponse(
        f"/ui/courses/{course_id}/settings?saved={'locked' if locked else 'unlocked'}", status_code=303
    )


@router.get("/courses-new")
def new_course_form(request: Request, user: CurrentWebUser) -> Response:
    """The form to create a course."""
    return render(
        request, "course_new.html", {"values": {"timezone": "Asia/Shanghai"}, "errors": {}, "title": "New course"}
    )


@router.post("/courses-new")
def create_course(request: Request, session: SessionDep, clock: ClockDep, user: CsrfUser, form: PostedForm) -> Response:
    """Create a course with the SPEC's defaults; the creator becomes its lecturer."""
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    data = None
    try:
        data = CourseCreate.model_validate(
            {
                "code": values.get("code", ""),
                "title": values.get("title", ""),
                "start_date": values.get("start_date", ""),
                "timezone": values.get("timezone") or None,
            }
        )
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(str(error["loc"][0]), _plain(error))
    course = None
    if data is not None:
        try:
            course = course_create(session, user=user, data=data, now=clock())
        except AppError as exc:
            session.rollback()
            where = {422: _field_of(exc), 409: "code"}.get(exc.status_code, "form")  # 409: the code is taken
            errors[where] = exc.detail
    if course is None:
        return render(
            request, "course_new.html", {"values": values, "errors": errors, "title": "New course"}, status_code=422
        )
    return RedirectResponse(f"/ui/courses/{course.id}/people?saved=created", status_code=303)


def _plain(error: Any) -> str:
    if error["type"] == "string_pattern_mismatch":
        return "Use letters, digits, '.', '_' and '-' only."
    if error["type"] in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return "Give a date such as 2026-09-07 (a Monday)."
    if error["type"] == "string_too_short":
        return "Give a value."
    return str(error["msg"])
