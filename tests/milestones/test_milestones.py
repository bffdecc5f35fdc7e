"""Milestone deadlines, their changes, extensions and the calendar."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, select

from app.milestones.service import ERR_EXTENSION_NOT_LATER, ERR_LECTURER_ONLY, ERR_NO_EXTENSION, ERR_STAFF_ONLY
from app.models import AuditEvent, Extension
from tests.conftest import FakeClock
from tests.factories import auth, make_course, make_group, make_staff, make_student, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _milestones(course_id: int) -> str:
    return f"/api/v1/courses/{course_id}/milestones"


def test_milestones_list_deadlines_in_the_course_time_zone(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    response = client.get(_milestones(course.id or 0), headers=auth(session, student))
    assert response.status_code == 200
    assert response.json() == [
        {
            "key": "proposal",
            "title": "Proposal",
            "week": 8,
            "weight": 20.0,
            "ruleset": "proposal",
            "page_limit": 3,
            "errors_block": False,
            "requires_approved_topic": True,
            "due_at": "2026-11-01T23:59:00+08:00",
            "due_at_is_default": True,
        },
        {
            "key": "report",
            "title": "Report",
            "week": 15,
            "weight": 60.0,
            "ruleset": "report",
            "page_limit": 6,
            "errors_block": False,
            "requires_approved_topic": False,
            "due_at": "2026-12-20T23:59:00+08:00",
            "due_at_is_default": True,
        },
        {
            "key": "final",
            "title": "Presentation or poster",
            "week": 16,
            "weight": 20.0,
            "ruleset": "final",
            "page_limit": None,
            "errors_block": False,
            "requires_approved_topic": False,
            "due_at": "2026-12-27T23:59:00+08:00",
            "due_at_is_default": True,
        },
    ]


def test_milestones_hidden_from_outsiders(client: TestClient, session: Session) -> None:
    course = make_course(session)
    response = client.get(_milestones(course.id or 0), headers=auth(session, make_user(session)))
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such course."}


def test_lecturer_moves_a_deadline_and_back_audited(client: TestClient, session: Session, clock: FakeClock) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    headers = auth(session, lecturer)
    url = f"{_milestones(course.id or 0)}/proposal"
    moved = client.patch(
        url, headers=headers, json={"due_at": "2026-11-03T12:00:00+00:00", "errors_block": True, "page_limit": 4}
    )
    assert moved.status_code == 200
    assert moved.json() == {
        "key": "proposal",
        "title": "Proposal",
        "week": 8,
        "weight": 20.0,
        "ruleset": "proposal",
        "page_limit": 4,
        "errors_block": True,
        "requires_approved_topic": True,
        "due_at": "2026-11-03T20:00:00+08:00",
        "due_at_is_default": False,
    }
    back = client.patch(url, headers=headers, json={"due_at": None})
    assert back.json()["due_at"] == "2026-11-01T23:59:00+08:00"
    assert back.json()["due_at_is_default"] is True
    assert back.json()["errors_block"] is True
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "milestone.update").order_by(AuditEvent.id)
    ).all()  # type: ignore[arg-type]
    assert [(e.actor_id, e.before, e.after) for e in events] == [
        (
            lecturer.id,
            {"due_at": "2026-11-01T15:59:00+00:00", "due_at_override": None, "errors_block": False, "page_limit": 3},
            {
                "due_at": "2026-11-03T12:00:00+00:00",
                "due_at_override": "2026-11-03T12:00:00+00:00",
                "errors_block": True,
                "page_limit": 4,
            },
        ),
        (
            lecturer.id,
            {"due_at": "2026-11-03T12:00:00+00:00", "due_at_override": "2026-11-03T12:00:00+00:00"},
            {"due_at": "2026-11-01T15:59:00+00:00", "due_at_override": None},
        ),
    ]


def test_only_the_lecturer_changes_milestones(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    response = client.patch(
        f"{_milestones(course.id or 0)}/report", headers=auth(session, ta), json={"errors_block": True}
    )
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "detail": ERR_LECTURER_ONLY}


def test_deadline_needs_an_offset(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    response = client.patch(
        f"{_milestones(course.id or 0)}/report", headers=auth(session, lecturer), json={"due_at": "2026-12-21T12:00:00"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "due_at"


def test_unknown_milestone_is_404(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    response = client.patch(
        f"{_milestones(course.id or 0)}/thesis", headers=auth(session, lecturer), json={"errors_block": True}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such milestone."}


def test_extension_upsert_list_and_revoke_audited(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    headers = auth(session, ta)
    url = f"/api/v1/groups/{group.id}/extensions"
    first = client.post(
        url, headers=headers, json={"milestone": "report", "due_at": "2026-12-22T23:59:00+08:00", "reason": "illness"}
    )
    assert first.status_code == 200
    assert first.json() == {
        "group_id": group.id,
        "milestone": "report",
        "due_at": "2026-12-22T23:59:00+08:00",
        "reason": "illness",
        "granted_by": ta.id,
        "created_at": "2026-09-01T16:00:00+08:00",
    }
    second = client.post(
        url, headers=headers, json={"milestone": "report", "due_at": "2026-12-24T03:00:00Z", "reason": "longer illness"}
    )
    assert second.json()["due_at"] == "2026-12-24T11:00:00+08:00"
    assert session.exec(select(Extension.reason)).all() == ["longer illness"]
    session.commit()  # end the read: on SQLite it holds the write lock the next request needs
    listed = client.get(url, headers=headers).json()
    assert [(e["milestone"], e["due_at"], e["reason"]) for e in listed] == [
        ("report", "2026-12-24T11:00:00+08:00", "longer illness")
    ]
    assert client.delete(f"{url}/report", headers=headers).status_code == 204
    assert session.exec(select(Extension)).all() == []
    session.commit()
    again = client.delete(f"{url}/report", headers=headers)
    assert again.status_code == 404
    assert again.json() == {"error": "not_found", "detail": ERR_NO_EXTENSION}
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.entity == "extension").order_by(AuditEvent.id)
    ).all()  # type: ignore[arg-type]
    assert actions == ["extension.grant", "extension.grant", "extension.revoke"]


def test_extension_must_be_later_and_granted_by_staff(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    url = f"/api/v1/groups/{group.id}/extensions"
    body = {"milestone": "proposal", "due_at": "2026-11-01T23:59:00+08:00", "reason": "same as deadline"}
    early = client.post(url, headers=auth(session, ta), json=body)
    assert early.status_code == 422
    assert early.json() == {"error": "invalid", "detail": ERR_EXTENSION_NOT_LATER, "field": "due_at"}
    body["due_at"] = "2026-11-05T23:59:00+08:00"
    by_member = client.post(url, headers=auth(session, student), json=body)
    assert by_member.status_code == 403
    assert by_member.json() == {"error": "forbidden", "detail": ERR_STAFF_ONLY}
    outsider = make_student(session, course)
    assert client.post(url, headers=auth(session, outsider), json=body).status_code == 404


def _events(body: bytes) -> dict[str, datetime]:
    calendar = Calendar.from_ical(body)
    return {str(e["summary"]): e.decoded("dtstart") for e in calendar.walk("VEVENT")}


def test_calendar_holds_the_deadlines_in_the_course_time_zone(client: TestClient, session: Session) -> None:
    course = make_course(session, code="DL2026")
    student = make_student(session, course)
    response = client.get(f"/api/v1/courses/{course.id}/calendar.ics", headers=auth(session, student))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = _events(response.content)
    assert events == {
        "DL2026: Proposal due": datetime(2026, 11, 1, 23, 59, tzinfo=SHANGHAI),
        "DL2026: Report due": datetime(2026, 12, 20, 23, 59, tzinfo=SHANGHAI),
        "DL2026: Presentation or poster due": datetime(2026, 12, 27, 23, 59, tzinfo=SHANGHAI),
    }
    assert events["DL2026: Proposal due"].astimezone(UTC) == datetime(2026, 11, 1, 15, 59, tzinfo=UTC)
    assert events["DL2026: Proposal due"].utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    calendar = Calendar.from_ical(response.content)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert b"DTSTART;TZID=Asia/Shanghai:20261101T235900" in response.content


def test_calendar_shows_a_members_extension_and_other_time_zones(client: TestClient, session: Session) -> None:
    course = make_course(session, code="ML", timezone="Europe/Berlin")
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2, name="Owls")
    client.post(
        f"/api/v1/groups/{group.id}/extensions",
        headers=auth(session, ta),
        json={"milestone": "report", "due_at": "2026-12-23T12:00:00+01:00", "reason": "illness"},
    )
    mine = _events(client.get(f"/api/v1/courses/{course.id}/calendar.ics", headers=auth(session, student)).content)
    berlin = ZoneInfo("Europe/Berlin")
    assert mine == {
        "ML: Proposal due": datetime(2026, 11, 1, 23, 59, tzinfo=berlin),
        "ML: Report due (extended for Owls)": datetime(2026, 12, 23, 12, 0, tzinfo=berlin),
        "ML: Presentation or poster due": datetime(2026, 12, 27, 23, 59, tzinfo=berlin),
    }
    staff_view = _events(client.get(f"/api/v1/courses/{course.id}/calendar.ics", headers=auth(session, ta)).content)
    assert staff_view["ML: Report due"] == datetime(2026, 12, 20, 23, 59, tzinfo=berlin)


def test_far_off_instants_are_a_422_not_a_crash(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    group = make_group(session, course, size=3)
    headers = auth(session, lecturer)
    message = "Value error, the instant must lie in the years 2000-2999"
    for due_at in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        moved = client.patch(f"{_milestones(course.id or 0)}/report", headers=headers, json={"due_at": due_at})
        assert (moved.status_code, moved.json()["field"], moved.json()["errors"][0]["message"]) == (
            422,
            "due_at",
            message,
        )
        extended = client.post(
            f"/api/v1/groups/{group.id}/extensions",
            headers=headers,
            json={"milestone": "report", "due_at": due_at, "reason": "far"},
        )
        assert (extended.status_code, extended.json()["field"], extended.json()["errors"][0]["message"]) == (
            422,
            "due_at",
            message,
        )
    assert session.exec(select(Extension)).all() == []
    assert session.exec(select(AuditEvent.action).where(AuditEvent.entity != "course")).all() == []
