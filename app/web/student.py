"""The students' pages: form or join a group, propose the topic, upload and check PDFs, read the outcome."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.access import STUDENT, course_for, current_group_id, group_for
from app.config import get_settings
from app.deps import ClockDep, SessionDep
from app.errors import AppError
from app.groups.service import ERR_BAD_JOIN_CODE, group_create, group_get, group_join, group_member_remove
from app.marks.service import student_marks_get
from app.milestones.rules import milestone_deadline
from app.milestones.service import extension_list, milestone_list
from app.models import Extension, Milestone, User
from app.programme.service import programme_view
from app.reviews.service import ReviewRow, review_list
from app.submissions.service import VersionView, submission_list
from app.topics.service import AREAS, topic_of, topic_propose
from app.web.deps import CsrfUser, CurrentWebUser, WebRoute
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SAVED = {
    "group": "Your group is created. Share its join code with your team mates.",
    "joined": "You joined the group.",
    "left": "You left the group.",
    "topic": "Topic saved. The course staff will approve or reject it.",
    "upload": "Upload stored. Its format report is below.",
}


@dataclass(frozen=True)
class MilestoneStatus:
    """One milestone as the group sees it."""

    milestone: Milestone
    deadline: datetime
    extension: Extension | None
    versions: list[VersionView]
    reviews: list[ReviewRow] = field(default_factory=list)

    @property
    def graded(self) -> VersionView | None:
        """The version that counts."""
        return next((v for v in self.versions if v.graded), None)

    @property
    def due(self) -> datetime:
        """The group's effective deadline."""
        return self.extension.due_at if self.extension else self.deadline


@dataclass
class PageState:
    """What a form post adds to the status page it shows again: errors by field, a dry-run result."""

    errors: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    check: dict[str, Any] | None = None


def status_url(group_id: int, saved: str, anchor: str) -> str:
    """The status page saying what was just saved, scrolled to the part it concerns."""
    return f"/ui/groups/{group_id}/status?{urlencode({'saved': saved})}#{anchor}"


def _released_reviews(session: Session, *, user: User, status: MilestoneStatus) -> list[ReviewRow]:
    graded = status.graded
    if status.milestone.marks_released_at is None or graded is None:
        return []
    view = review_list(session, user=user, submission_id=graded.submission.id or 0)
    return [r for r in view.rows if r.review.submission_id == graded.submission.id]


def status_page(
    request: Request,
    session: Session,
    *,
    user: User,
    group_id: int,
    now: datetime,
    saved: str | None = None,
    state: PageState | None = None,
    status_code: int = 200,
) -> Response:
    """The group's page: members and join code, topic, each milestone's deadline, uploads, reports and reviews."""
    access = group_for(session, group_id=group_id, user=user, members=True, staff=False)
    course = access.course
    view = group_get(session, user=user, group_id=group_id)
    _, milestones = milestone_list(session, user=user, course_id=course.id or 0)
    extensions = {m.id: e for e, m in extension_list(session, user=user, group_id=group_id)[1]}
    statuses = []
    for m in milestones:
        status = MilestoneStatus(
            milestone=m,
            deadline=milestone_deadline(course, m),
            extension=extensions.get(m.id),
            versions=submission_list(session, user=user, group_id=group_id, key=m.key)[1],
        )
        statuses.append(
            MilestoneStatus(**{**status.__dict__, "reviews": _released_reviews(session, user=user, status=status)})
        )
    programme = programme_view(session, user=user, course_id=course.id or 0, now=now)
    return render(
        request,
        "student.html",
        {
            "course": course,
            "group": access.group,
            "members": view.members,
            "statuses": statuses,
            "talk": programme.talk_of(group_id),
            "board": programme.board_of(group_id),
            "programme": programme.programme,
            "programme_published": programme.programme.published_at is not None,
            "topic": topic_of(session, group_id=group_id),
            "marks": student_marks_get(session, user=user, course_id=course.id or 0),
            "areas": AREAS,
            "saved": SAVED.get(saved or ""),
            "state": state or PageState(),
            "max_upload_mb": get_settings().max_upload_mb,
            "now": now,
            "title": f"{access.group.name} · status",
        },
        status_code=status_code,
    )


@router.get("/groups/{group_id}/status")
def group_status(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentWebUser,
    group_id: int,
    saved: str | None = None,
) -> Response:
    """The group's page for its members."""
    return status_page(request, session, user=user, group_id=group_id, now=clock(), saved=saved)


@router.get("/courses/{course_id}/my-group")
def my_group(
    request: Request, session: SessionDep, user: CurrentWebUser, course_id: int, saved: str | None = None
) -> Response:
    """A student's way in: their group's page, or the forms to create or join one."""
    access = course_for(session, course_id=course_id, user=user, roles=frozenset({STUDENT}))
    own = current_group_id(session, course_id=course_id, user_id=user.id or 0)
    if own is not None:
        return RedirectResponse(f"/ui/groups/{own}/status", status_code=303)
    return _start_page(request, course=access.course, saved=saved)


def _start_page(
    request: Request,
    *,
    course: Any,
    saved: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "student_start.html",
        {
            "course": course,
            "saved": SAVED.get(saved or ""),
            "errors": errors or {},
            "form": form or {},
            "title": f"{course.code} · your group",
        },
        status_code=status_code,
    )


def _form_error(
    request: Request,
    session: Session,
    *,
    user: User,
    course_id: int,
    exc: AppError,
    field_name: str,
    form: dict[str, str],
) -> Response:
    session.rollback()
    access = course_for(session, course_id=course_id, user=user, roles=frozenset({STUDENT}))
    return _start_page(
        request, course=access.course, errors={field_name: exc.detail}, form=form, status_code=exc.status_code
    )


@router.post("/courses/{course_id}/my-group/create")
def create_group(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a group and join it."""
    try:
        view = group_create(session, user=user, course_id=course_id, name=name[:120], now=clock())
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return _form_error(
            request, session, user=user, course_id=course_id, exc=exc, field_name="name", form={"name": name}
        )
    return RedirectResponse(status_url(view.group.id or 0, "group", "group"), status_code=303)


@router.post("/courses/{course_id}/my-group/join")
def join_group(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    course_id: int,
    code: Annotated[str, Form()] = "",
) -> Response:
    """Join a group by the code a member shared."""
    try:
        view = group_join(session, user=user, course_id=course_id, code=code[:16], now=clock())
    except AppError as exc:
        if exc.status_code == 404 and exc.detail != ERR_BAD_JOIN_CODE:
            raise  # not a student of this course: the not-found page, as everywhere
        return _form_error(
            request, session, user=user, course_id=course_id, exc=exc, field_name="code", form={"code": code}
        )
    return RedirectResponse(status_url(view.group.id or 0, "joined", "group"), status_code=303)


@router.post("/groups/{group_id}/leave")
def leave_group(session: SessionDep, clock: ClockDep, user: CsrfUser, group_id: int) -> Response:
    """Leave the group (its history is kept)."""
    access = group_for(session, group_id=group_id, user=user, members=True, staff=False)
    group_member_remove(session, user=user, group_id=group_id, user_id=user.id or 0, now=clock())
    return RedirectResponse(f"/ui/courses/{access.course.id}/my-group?saved=left", status_code=303)


@router.post("/groups/{group_id}/my-topic")
def propose_topic(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    group_id: int,
    title: Annotated[str, Form()] = "",
    area: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    """Propose or edit the group's topic (clears an earlier decision)."""
    group_for(session, group_id=group_id, user=user, members=True, staff=False)
    form = {"title": title, "area": area, "summary": summary}
    problems = {
        name: "This field is too long."
        for name, limit in (("title", 200), ("summary", 5000))
        if len(form[name]) > limit
    }
    if not problems:
        try:
            topic_propose(session, user=user, group_id=group_id, title=title, area=area, summary=summary, now=clock())
        except AppError as exc:
            session.rollback()
            problems = {getattr(exc, "field", None) or "title": exc.detail}
    if problems:
        return status_page(
            request,
            session,
            user=user,
            group_id=group_id,
            now=clock(),
            status_code=422,
            state=PageState(errors=problems, form=form),
        )
    return RedirectResponse(status_url(group_id, "topic", "topic"), status_code=303)
