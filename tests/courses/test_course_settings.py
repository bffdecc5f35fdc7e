"""PATCH /courses/{id}: an inconsistent setting is refused with 422 naming the field, and nothing changes."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Course
from tests.factories import auth, make_course, make_staff, make_user

BAD_SETTINGS = [
    ({"min_group_size": 6}, "min_group_size", "The minimum group size exceeds the maximum."),
    ({"min_group_size": 4, "max_group_size": 3}, "min_group_size", "The minimum group size exceeds the maximum."),
    (
        {"milestones": [{"key": "report", "weight": 50}]},
        "milestones",
        "Milestone weights must sum to 100 %; they sum to 90 %.",
    ),
    (
        {"late_tiers": [{"max_hours": 72, "multiplier": 0.7}, {"max_hours": 24, "multiplier": 0.9}]},
        "late_tiers",
        "Late tiers must be ordered by strictly increasing max_hours.",
    ),
    (
        {"late_tiers": [{"max_hours": None, "multiplier": 0.5}, {"max_hours": 24, "multiplier": 0.9}]},
        "late_tiers",
        "Only the last late tier may be unbounded (max_hours null).",
    ),
    (
        {"late_tiers": [{"max_hours": 24, "multiplier": 0.5}, {"max_hours": None, "multiplier": 0.9}]},
        "late_tiers",
        "A later late tier may not have a larger multiplier.",
    ),
    ({"start_date": "2026-09-08"}, "start_date", "The start date must be a Monday; 2026-09-08 is not."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone: 'Mars/Olympus_Mons'."),
    ({"milestones": [{"key": "poster", "weight": 20}]}, "milestones", "Unknown milestone 'poster'."),
]


@pytest.mark.parametrize(("change", "field", "detail"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_naming_the_field(
    client: TestClient, session: Session, change: dict[str, object], field: str, detail: str
) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course, role="lecturer"))
    response = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=headers)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "detail": detail, "field": field}
    session.expire_all()
    stored = session.get(Course, course.id)
    assert stored is not None
    assert (stored.min_group_size, stored.max_group_size, stored.timezone, str(stored.start_date)) == (
        3,
        5,
        "Asia/Shanghai",
        "2026-09-07",
    )
    assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "course.update")).all() == []


def test_a_schema_violation_is_a_422_naming_the_field(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course, role="lecturer"))
    response = client.patch(f"/api/v1/courses/{course.id}", json={"max_group_size": 0}, headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "max_group_size"
    unknown = client.patch(f"/api/v1/courses/{course.id}", json={"colour": "red"}, headers=headers)
    assert (unknown.status_code, unknown.json()["field"]) == (422, "colour")


def test_a_consistent_change_is_kept_and_audited(client: TestClient, session: Session) -> None:
    course = make_course(session)
    lecturer = make_staff(session, course, role="lecturer")
    headers = auth(session, lecturer)
    change = {
        "min_group_size": 2,
        "max_group_size": 4,
        "timezone": "Europe/Berlin",
        "milestones": [{"key": "proposal", "weight": 10}, {"key": "report", "weight": 70}],
    }
    response = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["min_group_size"], body["max_group_size"], body["timezone"]) == (2, 4, "Europe/Berlin")
    assert [(m["key"], m["weight"]) for m in body["milestones"]] == [
        ("proposal", 10.0),
        ("report", 70.0),
        ("final", 20.0),
    ]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "course.update")).one()
    assert event.actor_id == lecturer.id
    assert event.before == {
        "min_group_size": 3,
        "max_group_size": 5,
        "timezone": "Asia/Shanghai",
        "milestones": [
            {"key": "proposal", "week": 8, "weight": 20.0},
            {"key": "report", "week": 15, "weight": 60.0},
            {"key": "final", "week": 16, "weight": 20.0},
        ],
    }
    assert event.after == {
        "min_group_size": 2,
        "max_group_size": 4,
        "timezone": "Europe/Berlin",
        "milestones": [
            {"key": "proposal", "week": 8, "weight": 10.0},
            {"key": "report", "week": 15, "weight": 70.0},
            {"key": "final", "week": 16, "weight": 20.0},
        ],
    }


@pytest.mark.parametrize("field", ["weeks", "timezone", "min_group_size", "required_sections", "grace_seconds"])
def test_an_explicit_null_at_creation_is_a_422_naming_the_field(
    client: TestClient, session: Session, field: str
) -> None:
    admin = make_user(session, admin=True)
    headers = auth(session, admin)
    body = {"code": "NULLS", "title": "Deep Learning", "start_date": "2026-09-07", field: None}
    response = client.post("/api/v1/courses", json=body, headers=headers)
    expected = {
        "weeks": "Input should be a valid integer",
        "timezone": "Input should be a valid string",
        "min_group_size": "Input should be a valid integer",
        "required_sections": "Input should be a valid dictionary",
        "grace_seconds": "Input should be a valid integer",
    }[field]
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid",
            "detail": f"{field}: {expected}",
            "field": field,
            "errors": [{"field": field, "message": expected}],
        },
    )
    assert session.exec(select(Course)).all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grace_seconds": 10**15}, "grace_seconds"),  # would overflow timedelta on every later read
        ({"grace_seconds": 2**70}, "grace_seconds"),  # would overflow the column
        ({"late_tiers": [{"max_hours": 1e300, "multiplier": 0.5}]}, "late_tiers.0.max_hours"),
        ({"presentation_slots": 2**40}, "presentation_slots"),
        ({"required_reviews": 2**40}, "required_reviews"),
    ],
)
def test_an_absurdly_large_number_is_a_422(
    client: TestClient, session: Session, change: dict[str, object], field: str
) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course, role="lecturer"))
    response = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=headers)
    assert (response.status_code, response.json()["field"]) == (422, field)
    session.expire_all()
    stored = session.get(Course, course.id)
    assert stored is not None
    assert (stored.grace_seconds, stored.late_tiers[0]["max_hours"]) == (0, 24)


@pytest.mark.parametrize("start_date", ["9999-12-27", "0001-01-01"])
def test_a_start_date_in_a_far_off_year_is_a_422(client: TestClient, session: Session, start_date: str) -> None:
    admin = make_user(session, admin=True)
    headers = auth(session, admin)
    body = {"code": "FAR", "title": "Deep Learning", "start_date": start_date}
    response = client.post("/api/v1/courses", json=body, headers=headers)
    message = "Value error, the start date must lie between 2000-01-01 and 2999-12-31"
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid",
            "detail": f"start_date: {message}",
            "field": "start_date",
            "errors": [{"field": "start_date", "message": message}],
        },
    )


@pytest.mark.parametrize(
    "change",
    [
        {"start_date": "2026-09-14"},
        {"timezone": "Europe/Berlin"},
        {"milestones": [{"key": "report", "week": 14}]},
    ],
)
def test_a_ta_may_not_move_deadlines_through_the_course_settings(
    client: TestClient, session: Session, change: dict[str, object]
) -> None:
    course = make_course(session)
    ta_headers = auth(session, make_staff(session, course, role="ta"))
    response = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=ta_headers)
    assert response.status_code == 403
    assert response.json()["error"] == "lecturer_only"
    session.expire_all()
    stored = session.get(Course, course.id)
    assert stored is not None
    assert (str(stored.start_date), stored.timezone) == ("2026-09-07", "Asia/Shanghai")
    assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "course.update")).all() == []
    session.commit()
    assert (
        client.patch(
            f"/api/v1/courses/{course.id}", json={"title": "Renamed", "formation_locked": True}, headers=ta_headers
        ).status_code
        == 200
    )
    lecturer_headers = auth(session, make_staff(session, course, role="lecturer"))
    assert client.patch(f"/api/v1/courses/{course.id}", json=change, headers=lecturer_headers).status_code == 200


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (
            {"late_tiers": [{"max_hours": 48, "multiplier": 0.9}, {"max_hours": None, "multiplier": 0.5}]},
            "the late tiers",
        ),
        ({"grace_seconds": 600}, "the grace period"),
        ({"assignment_share": 50}, "the assignment share"),
        ({"milestones": [{"key": "proposal", "weight": 30}, {"key": "report", "weight": 50}]}, "the milestone weights"),
    ],
)
def test_a_ta_may_not_change_how_work_is_marked(
    client: TestClient, session: Session, change: dict[str, object], names: str
) -> None:
    course = make_course(session)
    ta_headers = auth(session, make_staff(session, course, role="ta"))
    response = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=ta_headers)
    assert (response.status_code, response.json()) == (
        403,
        {
            "error": "lecturer_only",
            "detail": f"Only the course's lecturer changes how work is marked; this change touches {names}.",
        },
    )
    assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "course.update")).all() == []
    session.commit()
    lecturer_headers = auth(session, make_staff(session, course, role="lecturer"))
    assert client.patch(f"/api/v1/courses/{course.id}", json=change, headers=lecturer_headers).status_code == 200


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"min_group_size": 4}, "the minimum group size"),
        ({"presentation_slots": 3}, "the presenting places"),
        ({"required_reviews": 2}, "the required reviews"),
        ({"max_versions_per_milestone": 5, "max_group_storage_mb": 50}, "the version quota, the storage quota"),
    ],
)
def test_a_ta_may_not_change_who_submits_or_presents(
    client: TestClient, session: Session, change: dict[str, object], names: str
) -> None:
    course = make_course(session)
    ta_headers = auth(session, make_staff(session, course))
    lecturer_headers = auth(session, make_staff(session, course, role="lecturer"))
    refused = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=ta_headers)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "lecturer_only", "detail": f"Only the course's lecturer changes {names}."},
    )
    accepted = client.patch(f"/api/v1/courses/{course.id}", json=change, headers=lecturer_headers)
    assert (accepted.status_code, {k: accepted.json()[k] for k in change}) == (200, change)
