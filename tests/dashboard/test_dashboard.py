"""The milestone dashboard: exact rows, staff only, and a query count independent of the number of groups."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.dashboard.service import ERR_STAFF_ONLY
from app.models import Course
from tests.factories import REPORT_DUE as DEADLINE
from tests.factories import (
    auth,
    make_course,
    make_extension,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_topic,
    member_ids,
)


def test_dashboard_rows(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    other_ta = make_staff(session, course)
    ada = make_student(session, course, name="Ada", student_no="S1")
    bob = make_student(session, course, name="Bob", student_no="S2")
    cy = make_student(session, course, name="Cy", student_no="S3")
    owls = make_group(session, course, members=[ada, bob, cy], name="Owls")
    make_topic(session, owls, status="approved", title="Seeing in the dark")
    make_submission(session, owls, "report", received_at=DEADLINE - timedelta(hours=3))
    late = make_submission(
        session,
        owls,
        "report",
        received_at=DEADLINE + timedelta(hours=25),
        verdict="reject",
        errors=["page-limit", "columns"],
    )
    make_review(session, late, ta, 80.0)
    make_review(session, late, other_ta, 70.0)
    bats = make_group(session, course, size=3, name="Bats")
    make_topic(session, bats, status="proposed", title="Bat sonar")
    make_extension(session, bats, "report", due_at=DEADLINE + timedelta(days=2))
    response = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone=report", headers=auth(session, ta))
    assert response.status_code == 200
    body = response.json()
    bats_members = body["rows"][0].pop("members")
    assert [m["user_id"] for m in bats_members] == member_ids(bats, session)
    assert body == {
        "course_id": course.id,
        "milestone": "report",
        "deadline": "2026-12-20T23:59:00+08:00",
        "rows": [
            {
                "group_id": bats.id,
                "group_name": "Bats",
                "topic_status": "proposed",
                "topic_title": "Bat sonar",
                "status": "missing",
                "deadline": "2026-12-22T23:59:00+08:00",
                "extended": True,
                "submission_id": None,
                "version": None,
                "pinned": False,
                "received_at": None,
                "late_by_seconds": None,
                "multiplier": None,
                "verdict": None,
                "error_codes": [],
                "warning_codes": [],
                "reviews": 0,
                "mean_score": None,
                "deliverable": None,
                "deliverable_changed_at": None,
                "recheck_verdict": None,
            },
            {
                "group_id": owls.id,
                "group_name": "Owls",
                "members": [
                    {"user_id": ada.id, "name": "Ada", "student_no": "S1"},
                    {"user_id": bob.id, "name": "Bob", "student_no": "S2"},
                    {"user_id": cy.id, "name": "Cy", "student_no": "S3"},
                ],
                "topic_status": "approved",
                "topic_title": "Seeing in the dark",
                "status": "late",
                "deadline": "2026-12-20T23:59:00+08:00",
                "extended": False,
                "submission_id": late.id,
                "version": 2,
                "pinned": False,
                "received_at": "2026-12-22T00:59:00+08:00",
                "late_by_seconds": 25 * 3600.0,
                "multiplier": 0.7,
                "verdict": "reject",
                "error_codes": ["page-limit", "columns"],
                "warning_codes": [],
                "reviews": 2,
                "mean_score": 75.0,
                "deliverable": None,
                "deliverable_changed_at": None,
                "recheck_verdict": None,
            },
        ],
    }


def test_dashboard_is_for_staff(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    response = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone=report", headers=auth(session, student))
    assert (response.status_code, response.json()) == (403, {"error": "forbidden", "detail": ERR_STAFF_ONLY})
    outsider = make_student(session, make_course(session))
    hidden = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone=report", headers=auth(session, outsider))
    assert hidden.status_code == 404


def _course_with_groups(session: Session, groups: int) -> tuple[int, dict[str, str]]:
    course = make_course(session)
    ta = make_staff(session, course)
    for n in range(groups):
        group = make_group(session, course, size=3)
        make_topic(session, group)
        if n % 2 == 0:
            first = make_submission(session, group, "report", received_at=DEADLINE - timedelta(hours=n))
            make_review(session, first, ta, 50.0 + n)
            make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=n))
        if n % 3 == 0:
            make_extension(session, group, "report", due_at=DEADLINE + timedelta(days=1))
    session.flush()
    return course.id or 0, auth(session, ta)


def test_dashboard_query_count_does_not_grow_with_groups(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    counts = []
    for groups in (5, 50):
        course_id, headers = _course_with_groups(session, groups)
        with count_queries() as counter:
            response = client.get(f"/api/v1/courses/{course_id}/dashboard?milestone=report", headers=headers)
        assert response.status_code == 200
        assert len(response.json()["rows"]) == groups
        assert sum(r["status"] != "missing" for r in response.json()["rows"]) == (groups + 1) // 2
        counts.append(counter.count)
    assert counts[0] == counts[1]
    # token with its user, course with the caller's role, milestone, groups, members, topics, versions,
    # pins, extensions, reviews
    assert counts == [10, 10]


def test_staff_polling_share_one_build_until_a_write_is_committed(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    course_id, headers = _course_with_groups(session, 4)
    other_ta = make_staff(session, session.get(Course, course_id))  # type: ignore[arg-type]
    other_headers = auth(session, other_ta)
    url = f"/api/v1/courses/{course_id}/dashboard?milestone=report"
    counts, bodies = [], []
    for who in (headers, other_headers):
        with count_queries() as counter:
            bodies.append(client.get(url, headers=who).json())
        counts.append(counter.count)
    group = make_group(session, session.get(Course, course_id), size=3)  # type: ignore[arg-type]
    session.commit()  # a write: the shared dashboard is stale now
    with count_queries() as counter:
        after = client.get(url, headers=other_headers).json()
    # token with its user, course with the role, milestone: the second TA's read shares the first one's rows
    assert counts == [10, 3]
    assert bodies[0] == bodies[1]
    assert counter.count == 10
    # Rows are ordered by group name, and factory names come from a counter shared by all tests, so
    # where the new group lands depends on which tests ran first: compare the groups, not their order.
    before_ids = [r["group_id"] for r in bodies[0]["rows"]]
    assert sorted(r["group_id"] for r in after["rows"]) == sorted([*before_ids, group.id])
    assert len(before_ids) == 4
