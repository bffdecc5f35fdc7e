"""A course whose selection is published: presenting groups in ranking order, the rest make posters."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from app.models import Course, ProjectGroup, User
from app.programme.flows import selection_publish_flow
from app.selection.service import selection_run
from tests.factories import (
    REPORT_DUE,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_submission,
    make_topic,
    make_user,
)

PUBLISHED_AT = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)


@dataclass
class Week16:
    """The course, its lecturer and TA, presenting groups by rank and poster groups by name."""

    course: Course
    lecturer: User
    ta: User
    presenting: list[ProjectGroup]
    posters: list[ProjectGroup]


def week16_course(
    session: Session,
    *,
    presenting: int = 10,
    posters: int = 3,
    timezone: str = "Asia/Shanghai",
    names: list[str] | None = None,
) -> Week16:
    """Groups P01.. score 99, 98, ... so the first `presenting` present; published at PUBLISHED_AT."""
    lecturer = make_user(session, admin=True, name="Lena Lecturer")
    course = make_course(session, lecturer=lecturer, timezone=timezone)
    ta = make_staff(session, course, name="Tess Assistant")
    total = presenting + posters
    labels = names or [f"P{i:02d}" for i in range(1, total + 1)]
    groups = []
    for i, label in enumerate(labels):
        group = make_group(session, course, size=3, name=label)
        make_topic(session, group, title=f"Topic of {label}")
        make_review(session, make_submission(session, group, "report", received_at=REPORT_DUE), ta, 99.0 - i)
        groups.append(group)
    run = selection_run(session, user=lecturer, course_id=course.id or 0, slots=presenting, now=PUBLISHED_AT)
    selection_publish_flow(session, user=lecturer, selection_id=run.id or 0, now=PUBLISHED_AT)
    session.commit()
    return Week16(
        course=course,
        lecturer=lecturer,
        ta=ta,
        presenting=groups[:presenting],
        posters=sorted(groups[presenting:], key=lambda g: g.name),
    )
