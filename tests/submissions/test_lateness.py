"""Lateness is derived on every read: tier edges, grace period, extensions, moved deadlines, pins."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, GradedPin
from app.submissions.pins import ERR_NOT_PINNED, ERR_OTHER_MILESTONE, ERR_STAFF_ONLY
from tests.factories import REPORT_DUE as DEADLINE
from tests.factories import (
    auth,
    make_course,
    make_extension,
    make_group,
    make_staff,
    make_student,
    make_submission,
    make_user,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _list(client: TestClient, group_id: int, headers: dict[str, str]) -> list[tuple[int, float, float, bool]]:
    body = client.get(f"/api/v1/groups/{group_id}/milestones/report/submissions", headers=headers).json()
    return [(v["version"], v["late_by_seconds"], v["multiplier"], v["graded"]) for v in body]


@pytest.mark.parametrize(
    ("late", "multiplier"),
    [
        (timedelta(0), 1.0),
        (timedelta(seconds=1), 0.9),
        (timedelta(hours=24), 0.9),
        (timedelta(hours=24, seconds=1), 0.7),
        (timedelta(hours=72), 0.7),
        (timedelta(hours=72, seconds=1), 0.5),
    ],
    ids=["0s", "1s", "24h", "24h+1s", "72h", "72h+1s"],
)
def test_tier_edges(client: TestClient, session: Session, late: timedelta, multiplier: float) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=DEADLINE + late)
    body = client.get(f"/api/v1/groups/{group.id}/milestones/report/submissions", headers=auth(session, ta)).json()
    assert [(v["deadline"], v["received_at"], v["late_by_seconds"], v["multiplier"]) for v in body] == [
        (
            "2026-12-20T23:59:00+08:00",
            (DEADLINE + late).astimezone(SHANGHAI).isoformat(),
            late.total_seconds(),
            multiplier,
        )
    ]


def test_grace_period_forgives_then_counts_from_its_end(client: TestClient, session: Session) -> None:
    course = make_course(session, grace_seconds=300)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(seconds=300))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(seconds=301))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=24, seconds=300))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=24, seconds=301))
    assert _list(client, group.id or 0, auth(session, ta)) == [
        (1, 0.0, 1.0, False),
        (2, 1.0, 0.9, False),
        (3, 86400.0, 0.9, False),
        (4, 86401.0, 0.7, True),
    ]


def test_extension_turns_a_late_version_on_time_and_back(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    other = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=30))
    make_submission(session, other, "report", received_at=DEADLINE + timedelta(hours=30))
    headers = auth(session, ta)
    assert _list(client, group.id or 0, headers) == [(1, 30 * 3600.0, 0.7, True)]
    granted = client.post(
        f"/api/v1/groups/{group.id}/extensions",
        headers=headers,
        json={"milestone": "report", "due_at": "2026-12-22T23:59:00+08:00", "reason": "illness"},
    )
    assert granted.status_code == 200
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, True)]
    assert _list(client, other.id or 0, headers) == [(1, 30 * 3600.0, 0.7, True)]
    shorter = client.post(
        f"/api/v1/groups/{group.id}/extensions",
        headers=headers,
        json={"milestone": "report", "due_at": "2026-12-21T23:00:00+08:00", "reason": "less"},
    )
    assert shorter.status_code == 200
    assert _list(client, group.id or 0, headers) == [(1, 6 * 3600 + 59 * 60.0, 0.9, True)]
    assert client.delete(f"/api/v1/groups/{group.id}/extensions/report", headers=headers).status_code == 204
    assert _list(client, group.id or 0, headers) == [(1, 30 * 3600.0, 0.7, True)]


def test_a_deadline_moved_after_submission_changes_every_figure(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    group = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=DEADLINE - timedelta(hours=1))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=2))
    headers = auth(session, lecturer)
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, False), (2, 7200.0, 0.9, True)]
    moved = client.patch(
        f"/api/v1/courses/{course.id}/milestones/report", headers=headers, json={"due_at": "2026-12-20T20:00:00+08:00"}
    )
    assert moved.status_code == 200
    assert _list(client, group.id or 0, headers) == [
        (1, 2 * 3600 + 59 * 60.0, 0.9, False),
        (2, 5 * 3600 + 59 * 60.0, 0.9, True),
    ]
    later = client.patch(
        f"/api/v1/courses/{course.id}/milestones/report", headers=headers, json={"due_at": "2026-12-24T00:00:00+08:00"}
    )
    assert later.status_code == 200
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, False), (2, 0.0, 1.0, True)]


def test_staff_pin_an_older_version_and_unpin_audited(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    first = make_submission(session, group, "report", received_at=DEADLINE - timedelta(hours=1))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=50))
    proposal = make_submission(session, group, "proposal", received_at=DEADLINE)
    headers = auth(session, ta)
    url = f"/api/v1/groups/{group.id}/milestones/report/graded"
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, False), (2, 50 * 3600.0, 0.7, True)]
    pinned = client.post(url, headers=headers, json={"submission_id": first.id})
    assert pinned.status_code == 200
    assert (pinned.json()["version"], pinned.json()["graded"], pinned.json()["pinned"]) == (1, True, True)
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, True), (2, 50 * 3600.0, 0.7, False)]
    wrong = client.post(url, headers=headers, json={"submission_id": proposal.id})
    assert (wrong.status_code, wrong.json()) == (
        422,
        {"error": "invalid", "detail": ERR_OTHER_MILESTONE, "field": "submission_id"},
    )
    by_student = client.post(url, headers=auth(session, student), json={"submission_id": first.id})
    assert (by_student.status_code, by_student.json()) == (403, {"error": "forbidden", "detail": ERR_STAFF_ONLY})
    assert client.delete(url, headers=headers).status_code == 204
    assert _list(client, group.id or 0, headers) == [(1, 0.0, 1.0, False), (2, 50 * 3600.0, 0.7, True)]
    again = client.delete(url, headers=headers)
    assert (again.status_code, again.json()) == (404, {"error": "not_found", "detail": ERR_NOT_PINNED})
    assert session.exec(select(GradedPin)).all() == []
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "graded_pin")).all()
    assert actions == ["submission.pin", "submission.unpin"]
    session.commit()


def test_a_member_lists_versions_with_pin_and_extension_in_three_queries(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=1)
    first = make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=3))
    make_submission(session, group, "report", received_at=DEADLINE + timedelta(hours=30))
    make_extension(session, group, "report", due_at=DEADLINE + timedelta(hours=2))
    session.add(
        GradedPin(
            group_id=group.id or 0, milestone_id=first.milestone_id, submission_id=first.id or 0, pinned_at=DEADLINE
        )
    )
    session.commit()
    headers = auth(session, student)
    with count_queries() as counter:
        response = client.get(f"/api/v1/groups/{group.id}/milestones/report/submissions", headers=headers)
    # the token with its user; the group with its course, the caller's role and group, and the milestone;
    # the versions with the pin and the extension
    assert counter.count == 3
    assert [
        (v["version"], v["late_by_seconds"], v["multiplier"], v["graded"], v["pinned"], v["deadline"])
        for v in response.json()
    ] == [
        (1, 3600.0, 0.9, True, True, "2026-12-21T01:59:00+08:00"),
        (2, 28 * 3600.0, 0.7, False, False, "2026-12-21T01:59:00+08:00"),
    ]
    assert client.get(f"/api/v1/groups/{group.id}/milestones/report/submissions", headers=auth(session, ta)).json() == (
        response.json()
    )
