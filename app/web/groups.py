"""The staff page of one group: members, topic, versions, extension, reviews; and its forms."""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.deps import ClockDep, SessionDep, StoreDep
from app.downloads import stored_file_response
from app.errors import InvalidInput
from app.groups.service import group_get
from app.milestones.rules import milestone_deadline
from app.milestones.schemas import ExtensionIn
from app.milestones.service import extension_grant, extension_list, milestone_for, milestone_list
from app.reviews.schemas import ReviewIn
from app.reviews.service import review_list, review_upsert, submission_for
from app.submissions.grading import graded_versions
from app.submissions.pins import graded_pin, graded_unpin
from app.submissions.service import submission_get, submission_list
from app.topics.schemas import TopicDecision
from app.topics.service import topic_decide, topic_of
from app.web.dashboard import FILTERS, SORTS
from app.web.deps import CsrfUser, CurrentWebUser, PostedForm, WebRoute, form_model, staff_group
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# What a successful form post says on the page it returns to (fixed texts: nothing echoed from the URL).
SAVED = {
    "extension": "Extension saved.",
    "review": "Review saved.",
    "topic": "Topic decision saved.",
    "pin": "The graded version is changed.",
}


def parse_local(value: str, timezone: str, field: str) -> datetime:
    """A `datetime-local` form value read in the course's time zone, as an aware instant."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: give a date and time such as 2026-12-20T23:59.", field=field) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(timezone))


def dashboard_view(filter_name: str, sort: str, order: str) -> str:
    """The dashboard's filter and sort as a query string, when they are ones the dashboard knows."""
    if filter_name not in FILTERS or sort not in SORTS or order not in ("asc", "desc"):
        return ""
    return "?" + urlencode({"filter": filter_name, "sort": sort, "order": order})


def group_url(group_id: int, milestone: str, saved: str | None = None) -> str:
    """The group page for a milestone, optionally saying what was just saved."""
    query = {"milestone": milestone} | ({"saved": saved} if saved else {})
    return f"/ui/groups/{group_id}?{urlencode(query)}#{saved or 'top'}"


@router.get("/groups/{group_id}")
def group_page(
    request: Request,
    session: SessionDep,
    user: CurrentWebUser,
    group_id: int,
    milestone: str | None = None,
    saved: str | None = None,
    filter: str = "all",  # noqa: A002
    sort: str = "group",
    order: str = "asc",
) -> Response:
    """Everything staff need about one group for one milestone (the link back keeps the dashboard's view)."""
    access = staff_group(session, user=user, group_id=group_id)
    course = access.course
    view = group_get(session, user=user, group_id=group_id)
    _, milestones = milestone_list(session, user=user, course_id=course.id or 0)
    current = milestone_for(session, course_id=course.id or 0, key=milestone) if milestone else milestones[0]
    extension = next(
        (e for e, m in extension_list(session, user=user, group_id=group_id)[1] if m.id == current.id), None
    )
    graded = graded_versions(session, course=course, milestone=current, group_ids=[group_id]).get(group_id)
    _, versions = submission_list(session, user=user, group_id=group_id, key=current.key)
    reviews = review_list(session, user=user, submission_id=graded.submission.id or 0) if graded else None
    mine = None
    if reviews and graded:
        mine = next(
            (
                r.review
                for r in reviews.rows
                if r.review.reviewer_id == user.id and r.review.submission_id == graded.submission.id
            ),
            None,
        )
    return render(
        request,
        "group.html",
        {
            "course": course,
            "group": access.group,
            "members": view.members,
            "topic": topic_of(session, group_id=group_id),
            "milestones": milestones,
            "milestone": current,
            "deadline": milestone_deadline(course, current),
            "extension": extension,
            "graded": graded,
            "versions": versions,
            "reviews": reviews,
            "mine": mine,
            "saved": SAVED.get(saved or ""),
            "title": f"{access.group.name} · {current.title}",
            "dashboard_view": dashboard_view(filter, sort, order),
        },
    )


@router.post("/groups/{group_id}/extension")
def grant_extension(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    group_id: int,
    milestone: Annotated[str, Form()],
    due_at: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Grant or change the group's extension for a milestone."""
    access = staff_group(session, user=user, group_id=group_id)
    data = form_model(
        ExtensionIn,
        milestone=milestone,
        reason=reason.strip(),
        due_at=parse_local(due_at, access.course.timezone, "due_at"),
    )
    extension_grant(session, user=user, group_id=group_id, data=data, now=clock())
    return RedirectResponse(group_url(group_id, milestone, "extension"), status_code=303)


@router.post("/groups/{group_id}/topic")
def decide_topic(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    group_id: int,
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    milestone: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject the group's topic, with a comment (required to reject)."""
    staff_group(session, user=user, group_id=group_id)
    data = form_model(TopicDecision, decision=decision, comment=comment)
    topic_decide(session, user=user, group_id=group_id, decision=data.decision, comment=data.comment, now=clock())
    return RedirectResponse(group_url(group_id, milestone or "proposal", "topic"), status_code=303)


@router.post("/groups/{group_id}/graded")
def choose_graded_version(
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    group_id: int,
    milestone: Annotated[str, Form()],
    submission_id: Annotated[str, Form()] = "",
) -> Response:
    """Pin the version to grade, or (no version given) grade the latest again."""
    staff_group(session, user=user, group_id=group_id)
    if submission_id:
        try:
            chosen = int(submission_id)
        except ValueError:
            raise InvalidInput("Choose a version.", field="submission_id") from None
        graded_pin(session, user=user, group_id=group_id, key=milestone, submission_id=chosen, now=clock())
    else:
        graded_unpin(session, user=user, group_id=group_id, key=milestone, now=clock())
    return RedirectResponse(group_url(group_id, milestone, "pin").replace("#pin", "#versions-h"), status_code=303)


@router.post("/submissions/{submission_id}/review")
def write_review(
    session: SessionDep, clock: ClockDep, user: CsrfUser, form: PostedForm, submission_id: int
) -> Response:
    """Create or update the signed-in reviewer's review: points per rubric criterion and a comment."""
    points: dict[str, float] = {}
    for name, value in form.multi_items():
        if name.startswith("points.") and isinstance(value, str):
            criterion = name.removeprefix("points.")
            try:
                points[criterion] = float(value)
            except ValueError:
                raise InvalidInput(
                    f"Criterion {criterion!r} needs a number of points.", field=f"points.{criterion}"
                ) from None
    comment = form.get("comment")
    data = form_model(ReviewIn, points=points, comment=comment if isinstance(comment, str) else "")
    ctx = submission_for(session, user=user, submission_id=submission_id, members=False)
    review_upsert(session, user=user, submission_id=submission_id, data=data, now=clock())
    return RedirectResponse(group_url(ctx.group.id or 0, ctx.milestone.key, "review"), status_code=303)


@router.get("/submissions/{submission_id}/file")
def submission_file(session: SessionDep, user: CurrentWebUser, store: StoreDep, submission_id: int) -> Response:
    """The version's PDF, shown in the browser (its group's members and the course staff)."""
    submission = submission_get(session, user=user, submission_id=submission_id)
    return stored_file_response(store, sha256=submission.sha256, filename=submission.filename, inline=True)
