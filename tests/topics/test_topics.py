"""Topics: propose, re-propose, approve, reject, and the approved-topic rule."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent
from app.topics.service import (
    ERR_NO_TOPIC,
    ERR_ONLY_MEMBERS_PROPOSE,
    ERR_ONLY_STAFF_DECIDE,
    ERR_REJECT_NEEDS_COMMENT,
    ERR_UNKNOWN_AREA,
    topic_is_approved,
)
from tests.conftest import FakeClock
from tests.factories import T0, auth, make_course, make_group, make_staff, make_student, make_topic

PROPOSAL = {"title": "Sarcasm detection", "area": "nlp", "summary": "Transformers on tweets."}


def test_a_member_proposes_a_topic(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    headers = auth(session, student)
    clock.set(T0 + timedelta(days=3))
    response = client.put(f"/api/v1/groups/{group.id}/topic", json=PROPOSAL, headers=headers)
    assert response.status_code == 200
    expected = {
        "group_id": group.id,
        "title": "Sarcasm detection",
        "area": "nlp",
        "summary": "Transformers on tweets.",
        "status": "proposed",
        "decision_comment": None,
        "decided_by": None,
        "decided_at": None,
        "updated_at": "2026-09-04T08:00:00Z",
    }
    assert response.json() == expected
    assert client.get(f"/api/v1/groups/{group.id}/topic", headers=headers).json() == expected
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "topic.propose")).one()
    assert (event.actor_id, event.before, event.after) == (
        student.id,
        None,
        {
            "title": "Sarcasm detection",
            "area": "nlp",
            "summary": "Transformers on tweets.",
            "status": "proposed",
            "decision_comment": None,
        },
    )


def test_areas_are_one_of_the_listed_values(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student])
    headers = auth(session, student)
    url = f"/api/v1/groups/{group.id}/topic"
    for area in ("computer vision", "reinforcement learning", "recommender systems", "other"):
        assert client.put(url, json={**PROPOSAL, "area": area}, headers=headers).json()["area"] == area
    for given in ("quantum", "NLP"):
        response = client.put(url, json={**PROPOSAL, "area": given}, headers=headers)
        assert (response.status_code, response.json()["field"]) == (422, "area")
    assert ERR_UNKNOWN_AREA == (
        "The area must be one of: computer vision, nlp, reinforcement learning, recommender systems, other."
    )


def test_staff_approve_and_reject_with_a_comment(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_topic(session, group, status="proposed")
    headers = auth(session, ta)
    url = f"/api/v1/groups/{group.id}/topic/decision"
    clock.set(T0 + timedelta(days=5))
    refused = client.post(url, json={"decision": "reject", "comment": "  "}, headers=headers)
    assert refused.status_code == 422
    assert refused.json() == {"error": "invalid", "detail": ERR_REJECT_NEEDS_COMMENT, "field": "comment"}
    rejected = client.post(url, json={"decision": "reject", "comment": "Too broad."}, headers=headers).json()
    assert (rejected["status"], rejected["decision_comment"], rejected["decided_by"], rejected["decided_at"]) == (
        "rejected",
        "Too broad.",
        ta.id,
        "2026-09-06T08:00:00Z",
    )
    assert topic_is_approved(session, group_id=group.id or 0) is False
    session.commit()
    approved = client.post(url, json={"decision": "approve", "comment": ""}, headers=headers).json()
    assert (approved["status"], approved["decision_comment"]) == ("approved", None)
    assert topic_is_approved(session, group_id=group.id or 0) is True
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.action).startswith("topic.")).order_by(col(AuditEvent.id))
    ).all()
    assert [(e.action, e.before["status"], e.after["status"]) for e in events] == [  # type: ignore[index]
        ("topic.reject", "proposed", "rejected"),
        ("topic.approve", "rejected", "approved"),
    ]


def test_reproposing_resets_the_status_to_proposed(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student])
    make_topic(session, group, status="approved")
    response = client.put(f"/api/v1/groups/{group.id}/topic", json=PROPOSAL, headers=auth(session, student))
    body = response.json()
    assert (body["status"], body["title"], body["decided_by"], body["decided_at"]) == (
        "proposed",
        "Sarcasm detection",
        None,
        None,
    )
    assert topic_is_approved(session, group_id=group.id or 0) is False


def test_no_topic_yet(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student])
    get = client.get(f"/api/v1/groups/{group.id}/topic", headers=auth(session, student))
    assert (get.status_code, get.json()) == (404, {"error": "not_found", "detail": ERR_NO_TOPIC})
    decide = client.post(
        f"/api/v1/groups/{group.id}/topic/decision", json={"decision": "approve"}, headers=auth(session, ta)
    )
    assert (decide.status_code, decide.json()) == (409, {"error": "no_topic", "detail": ERR_NO_TOPIC})
    assert topic_is_approved(session, group_id=group.id or 0) is False


def test_staff_do_not_propose_and_members_do_not_decide(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student])
    make_topic(session, group, status="proposed")
    put = client.put(f"/api/v1/groups/{group.id}/topic", json=PROPOSAL, headers=auth(session, ta))
    assert (put.status_code, put.json()) == (403, {"error": "forbidden", "detail": ERR_ONLY_MEMBERS_PROPOSE})
    decide = client.post(
        f"/api/v1/groups/{group.id}/topic/decision", json={"decision": "approve"}, headers=auth(session, student)
    )
    assert (decide.status_code, decide.json()) == (403, {"error": "forbidden", "detail": ERR_ONLY_STAFF_DECIDE})


def test_a_bad_decision_value_is_422(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_topic(session, group, status="proposed")
    response = client.post(
        f"/api/v1/groups/{group.id}/topic/decision", json={"decision": "maybe"}, headers=auth(session, ta)
    )
    assert response.status_code == 422
    assert response.json()["field"] == "decision"
