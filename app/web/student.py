"""The one page for students: their own group's status, read-only."""

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response


from app.access import group_for
from app.groups.service import group_get
from app.marks.service import my_marks
from app.milestones.service import extension_list, milestone_list
from app.models import Extension, Milestone
from app.programme.service import programme_view
from app.submissions.grading import milestone_deadline
from app.submissions.service import VersionView, submission_list
from app.topics.service import topic_of
from app.web.deps import ClockDep, CurrentWebUser, WebRoute, WebSessionDep
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True)
class MilestoneStatus:
    """One milestone as the group sees it."""

    milestone: Milestone
    deadline: datetime
    extension: Extension | None
    versions: list[VersionView]

    @property
    def graded(self) -> VersionView | None:
        """The version that counts."""
        return next((v for v in self.versions if v.graded), None)


@router.get("/groups/{group_id}/status")
def group_status(request: Request, session: WebSessionDep, clock: ClockDep, user: CurrentWebUser,
                 group_id: int) -> Response:
    """The group's members, topic and its decision, deadlines, versions with format reports, and released marks."""
    access = group_for(session, group_id=group_id, user=user, members=True, staff=False)
    course = access.course
    view = group_get(session, user=user, group_id=group_id)
    _, milestones = milestone_list(session, user=user, course_id=course.id or 0)
    extensions = {m.id: e for e, m in extension_list(session, user=user, group_id=group_id)[1]}
    statuses = [
        MilestoneStatus(milestone=m, deadline=milestone_deadline(course, m), extension=extensions.get(m.id),
                        versions=submission_list(session, user=user, group_id=group_id, key=m.key)[1])
        for m in milestones
    ]
    marks = my_marks(session, user=user, course_id=course.id or 0)
    programme = programme_view(session, user=user, course_id=course.id or 0, now=clock())
    return render(request, "student.html", {
        "course": course, "group": access.group, "members": view.members, "statuses": statuses,
        "topic": topic_of(session, group_id=group_id), "marks": marks,
        "talk": programme.talk_of(group_id), "board": programme.board_of(group_id),
        "programme": programme.programme, "programme_published": programme.programme.published_at is not None,
        "title": f"{access.group.name} · status",
    })
