"""Shared setup of the notice tests: a course with a group of three students who have email addresses."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.models import Course, ProjectGroup, User
from app.notify.sender import DeliveryStats, notices_deliver
from tests.factories import make_course, make_group, make_staff, make_student, make_user

PUBLIC = "https://tracker.example.edu"
FOOTER = ["", "-- ", "Course Project Tracker"]


@dataclass
class Cast:
    """The people of a notice test."""

    course: Course
    group: ProjectGroup
    students: list[User]
    ta: User
    lecturer: User


def cast(session: Session, *, code: str = "DL2026") -> Cast:
    """A course with a lecturer, a TA and one group of three students, everyone with an email address."""
    lecturer = make_user(
        session, username=f"lena-{code}", name="Lena Lecturer", email=f"lena@{code.lower()}.example.edu", admin=True
    )
    course = make_course(session, lecturer=lecturer, code=code)
    ta = make_staff(
        session, course, username=f"tess-{code}", name="Tess Assistant", email=f"tess@{code.lower()}.example.edu"
    )
    students = [
        make_student(session, course, name=name, email=f"{name.split()[0].lower()}@{code.lower()}.example.edu")
        for name in ("Ann Alpha", "Ben Beta", "Cai Gamma")
    ]
    group = make_group(session, course, members=students, name="Night Owls")
    session.commit()
    return Cast(course=course, group=group, students=students, ta=ta, lecturer=lecturer)


def deliver(now: datetime) -> DeliveryStats:
    """One delivery run of the sender at `now`."""
    return notices_deliver(get_engine(), settings=get_settings(), clock=lambda: now)
