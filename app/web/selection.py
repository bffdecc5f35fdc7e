"""The selection page: run the presentation selection, read its ranking, override, publish."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.deps import ClockDep, SessionDep
from app.errors import InvalidInput, NotFound
from app.programme.flows import selection_publish_flow
from app.reviews.aggregate import HistogramBin
from app.selection.schemas import OverrideIn, PublishIn, SelectionIn
from app.selection.service import (
    ERR_NO_SELECTION,
    selection_histogram,
    selection_list,
    selection_override,
    selection_run,
)
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute, form_model, staff_course
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# How each place was decided against its neighbours, in the words of SPEC.md.
TIE_BREAK_LABELS = {
    "score": "mean score",
    "median": "tie on mean: higher median",
    "received_at": "tie on mean and median: earlier report",
    "group_id": "full tie: lower group id",
    "unreviewed": "no reviews (forced run)",
    "no_report": "no report",
}
SAVED = {
    "run": "The selection ran; this is its ranking.",
    "override": "Override saved.",
    "publish": "Published: this run is now in force and fixes the week-16 deliverable of every group.",
}


@dataclass(frozen=True)
class Bar:
    """One histogram bar in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Histogram:
    """The geometry of the score histogram, drawn as inline SVG by the template."""

    width: int
    height: int
    base: float
    bars: list[Bar]
    top: int


def histogram_geometry(bins: list[HistogramBin], *, width: int = 600, height: int = 220) -> Histogram:
    """Bars for the bins, scaled to the tallest; room below for the labels."""
    top = max((b.count for b in bins), default=0) or 1
    left, base, plot = 30.0, height - 30.0, height - 50.0
    step = (width - left - 10) / max(len(bins), 1)
    bars = [
        Bar(
            x=left + i * step + 2,
            y=base - plot * b.count / top,
            width=step - 4,
            height=plot * b.count / top,
            count=b.count,
            label=f"{b.low}–{b.high}",
        )
        for i, b in enumerate(bins)
    ]
    return Histogram(width=width, height=height, base=base, bars=bars, top=top)


def selection_url(course_id: int, run_id: int | None = None, saved: str | None = None) -> str:
    """The selection page, on one run, optionally saying what was just done."""
    query = "&".join(part for part in (f"run={run_id}" if run_id else "", f"saved={saved}" if saved else "") if part)
    return f"/ui/courses/{course_id}/selection" + (f"?{query}" if query else "")


@router.get("/courses/{course_id}/selection")
def selection_page(
    request: Request,
    session: SessionDep,
    user: CurrentWebUser,
    course_id: int,
    run: int | None = None,
    saved: str | None = None,
) -> Response:
    """The course's selection runs; the chosen one (latest by default) in full."""
    access = staff_course(session, user=user, course_id=course_id)
    runs = selection_list(session, user=user, course_id=course_id)
    view = next((v for v in runs if v.run.id == run), None) if run else (runs[0] if runs else None)
    if run and view is None:
        raise NotFound(ERR_NO_SELECTION)  # no such run in this course (another course's runs included)
    names = {r.group_id: r.group_name for r in view.rows} if view else {}
    in_force_view = next((v for v in runs if v.run.status == "published"), None)
    in_force = in_force_view.run if in_force_view else None
    return render(
        request,
        "selection.html",
        {
            "course": access.course,
            "is_lecturer": access.is_lecturer,
            "runs": runs,
            "view": view,
            "names": names,
            "in_force": in_force,
            "in_force_presenting": set(in_force_view.presenting) if in_force_view else set(),
            "histogram": histogram_geometry(selection_histogram(view)) if view else None,
            "tie_break_labels": TIE_BREAK_LABELS,
            "saved": SAVED.get(saved or ""),
            "title": "Presentation selection",
        },
    )


@router.post("/courses/{course_id}/selection")
def run_selection(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    slots: Annotated[str, Form()] = "",
    normalise: Annotated[bool, Form()] = False,
    force: Annotated[bool, Form()] = False,
) -> Response:
    """Run the selection with the given options (lecturer)."""
    try:
        slot_count = int(slots) if slots.strip() else None
    except ValueError:
        raise InvalidInput("Slots must be a whole number.", field="slots") from None
    options = form_model(SelectionIn, slots=slot_count, normalise=normalise, force=force)
    created = selection_run(
        session,
        user=user,
        course_id=course_id,
        slots=options.slots,
        normalise=options.normalise,
        force=options.force,
        now=clock(),
    )
    return RedirectResponse(selection_url(course_id, created.id, "run"), status_code=303)


@router.post("/selections/{selection_id}/overrides")
def override_selection(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    selection_id: int,
    add_group_id: Annotated[int, Form()],
    remove_group_id: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Swap one group in and one out, with a reason (lecturer, draft runs)."""
    data = form_model(OverrideIn, add_group_id=add_group_id, remove_group_id=remove_group_id, reason=reason.strip())
    view = selection_override(
        session,
        user=user,
        selection_id=selection_id,
        add_group_id=data.add_group_id,
        remove_group_id=data.remove_group_id,
        reason=data.reason,
        now=clock(),
    )
    return RedirectResponse(selection_url(view.run.course_id, selection_id, "override"), status_code=303)


@router.post("/selections/{selection_id}/publish")
def publish_selection(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    selection_id: int,
    supersedes: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    force: Annotated[bool, Form()] = False,
) -> Response:
    """Put the run in force (lecturer); replacing the run in force names it and gives a reason."""
    options = form_model(
        PublishIn,
        supersedes=int(supersedes) if supersedes.strip().isdigit() else None,
        reason=reason.strip(),
        force=force,
    )
    outcome = selection_publish_flow(
        session,
        user=user,
        selection_id=selection_id,
        now=clock(),
        supersedes=options.supersedes,
        reason=options.reason,
        force=options.force,
    )
    return RedirectResponse(selection_url(outcome.view.run.course_id, selection_id, "publish"), status_code=303)
