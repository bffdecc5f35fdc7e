"""Small factories: each test builds exactly the rows it needs and sees no other test's rows."""

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.courses.schemas import CourseCreate
from app.courses.service import course_create
from app.models import (
    Course,
    CourseMember,
    Extension,
    GroupMembership,
    Milestone,
    ProjectGroup,
    Review,
    Submission,
    Topic,
    User,
)
from app.people.service import user_create
from app.tokens import token_issue

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
COURSE_START = date(2026, 9, 7)  # a Monday
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
# The default deadlines of a course starting on COURSE_START: 23:59 Asia/Shanghai on the Sunday of week 8, 15 and 16.
PROPOSAL_DUE = datetime(2026, 11, 1, 15, 59, tzinfo=UTC)
REPORT_DUE = datetime(2026, 12, 20, 15, 59, tzinfo=UTC)
FINAL_DUE = datetime(2026, 12, 27, 15, 59, tzinfo=UTC)
_seq = itertools.count(1)


def make_user(
    session: Session,
    *,
    username: str | None = None,
    name: str | None = None,
    student_no: str | None = None,
    email: str | None = None,
    password: str | None = None,
    admin: bool = False,
) -> User:
    """A user; no password unless given (hashing is slow and most tests log in by token)."""
    n = next(_seq)
    username = username or f"user{n}"
    return user_create(
        session,
        username=username,
        name=name or f"User {n}",
        student_no=student_no,
        email=email,
        password=password,
        is_admin=admin,
        now=T0,
    )


def make_course(session: Session, *, lecturer: User | None = None, code: str | None = None, **settings: Any) -> Course:
    """A course with SPEC.md's defaults (start Monday 2026-09-07); `lecturer` (or a new admin) is its lecturer."""
    creator = lecturer or make_user(session, admin=True)
    data = CourseCreate(code=code or f"DL{next(_seq)}", title="Deep Learning", start_date=COURSE_START, **settings)
    return course_create(session, user=creator, data=data, now=T0)


def enrol(session: Session, course: Course, user: User, role: str) -> CourseMember:
    """Give `user` a role in `course`."""
    member = CourseMember(course_id=course.id, user_id=user.id, role=role)  # type: ignore[arg-type]
    session.add(member)
    session.flush()
    return member


def make_student(session: Session, course: Course, **kwargs: Any) -> User:
    """A new user enrolled as a student of `course`."""
    n = next(_seq)
    kwargs.setdefault("student_no", f"S{n:05d}")
    user = make_user(session, **kwargs)
    enrol(session, course, user, "student")
    return user


def make_staff(session: Session, course: Course, role: str = "ta", **kwargs: Any) -> User:
    """A new user enrolled as TA (or lecturer) of `course`."""
    user = make_user(session, **kwargs)
    enrol(session, course, user, role)
    return user


def make_group(
    session: Session,
    course: Course,
    *,
    members: list[User] | None = None,
    size: int = 0,
    name: str | None = None,
    joined_at: datetime = T0,
) -> ProjectGroup:
    """A group of `members` (or `size` new students) in `course`."""
    n = next(_seq)
    group = ProjectGroup(
        course_id=course.id,
        name=name or f"Group {n}",
        join_code=f"J{n:07d}",  # type: ignore[arg-type]
        created_at=joined_at,
    )
    session.add(group)
    session.flush()
    people = list(members or []) + [make_student(session, course) for _ in range(size)]
    for user in people:
        session.add(
            GroupMembership(
                group_id=group.id,
                course_id=course.id,
                user_id=user.id,  # type: ignore[arg-type]
                joined_at=joined_at,
            )
        )
    session.flush()
    return group


def make_topic(
    session: Session,
    group: ProjectGroup,
    *,
    status: str = "approved",
    title: str = "Seeing in the dark",
    area: str = "computer vision",
) -> Topic:
    """A topic of `group` in the given state."""
    topic = Topic(
        group_id=group.id,
        title=title,
        area=area,
        summary="Low-light image enhancement.",  # type: ignore[arg-type]
        status=status,
        updated_at=T0,
    )
    session.add(topic)
    session.flush()
    return topic


def auth(session: Session, user: User) -> dict[str, str]:
    """Bearer headers for `user` with a token that outlives any clock a test sets.

    Commits the session: the API answers from its own connection, which sees only committed rows,
    so every row built before this call is visible to the requests made with these headers.
    """
    secret, token = token_issue(session, user=user, now=T0)
    token.expires_at = FAR_FUTURE
    session.add(token)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def member_ids(group: ProjectGroup, session: Session) -> list[int]:
    """The ids of the group's current members, sorted."""
    rows = session.exec(
        select(GroupMembership.user_id).where(
            GroupMembership.group_id == group.id, col(GroupMembership.left_at).is_(None)
        )
    )
    return sorted(rows)


def make_extension(
    session: Session,
    group: ProjectGroup,
    milestone_key: str,
    *,
    due_at: datetime,
    reason: str = "Illness",
    granted_by: User | None = None,
) -> Extension:
    """An extension of `group`'s deadline for a milestone to `due_at`."""
    milestone = session.exec(
        select(Milestone).where(Milestone.course_id == group.course_id, Milestone.key == milestone_key)
    ).one()
    extension = Extension(
        group_id=group.id,
        milestone_id=milestone.id,
        due_at=due_at,
        reason=reason,  # type: ignore[arg-type]
        granted_by=granted_by.id if granted_by else None,
        created_at=T0,
    )
    session.add(extension)
    session.flush()
    return extension


def make_submission(
    session: Session,
    group: ProjectGroup,
    milestone_key: str,
    *,
    received_at: datetime,
    uploader: User | None = None,
    version: int | None = None,
    verdict: str = "accept",
    errors: list[str] | None = None,
    sha256: str | None = None,
) -> Submission:
    """A stored version row (no file) of `group`'s work for a milestone, received at `received_at`."""
    milestone = session.exec(
        select(Milestone).where(Milestone.course_id == group.course_id, Milestone.key == milestone_key)
    ).one()
    if version is None:
        previous = session.exec(
            select(Submission.version).where(Submission.group_id == group.id, Submission.milestone_id == milestone.id)
        ).all()
        version = max(previous, default=0) + 1
    n = next(_seq)
    report = {
        "ruleset": milestone.ruleset,
        "verdict": verdict,
        "pages": 2,
        "errors": [{"code": c, "message": c, "pages": []} for c in errors or []],
        "warnings": [],
        "facts": {},
    }
    sub = Submission(
        group_id=group.id,
        milestone_id=milestone.id,
        version=version,  # type: ignore[arg-type]
        uploader_id=uploader.id if uploader else None,
        received_at=received_at,
        filename=f"{milestone_key}.pdf",
        size_bytes=1000 + n,
        sha256=sha256 or f"{n:064x}",
        ruleset=milestone.ruleset,
        verdict=verdict,
        format_report=report,
    )
    session.add(sub)
    session.flush()
    return sub


def make_review(
    session: Session, submission: Submission, reviewer: User, score: float, *, comment: str = "", at: datetime = T0
) -> Review:
    """A review row of `submission` by `reviewer` with a 0-100 score on the default "overall" criterion."""
    review = Review(
        submission_id=submission.id,
        reviewer_id=reviewer.id,
        points={"overall": score},  # type: ignore[arg-type]
        score=score,
        comment=comment,
        created_at=at,
        updated_at=at,
    )
    session.add(review)
    session.flush()
    return review
