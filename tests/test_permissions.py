"""The permission matrix of issue 2's endpoints: who gets which status, exactly.

Actors: anonymous, a student of the group, a student of another group of the course, a TA,
the lecturer, and the lecturer of another course. A caller who may not see a resource gets
404; one who sees it but may not do this gets 403; a student already in a group who tries
to create or join one gets 409.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from tests.factories import auth, make_course, make_group, make_staff, make_student, make_topic

ACTORS = ("anonymous", "member", "other_student", "ta", "lecturer", "foreign_staff")


@dataclass
class World:
    """One course with two groups, a loner, staff, and a second course with its own lecturer."""

    course_id: int
    group_id: int
    join_code: str
    other_member_id: int
    loner_id: int
    users: dict[str, User]


def _world(session: Session) -> World:
    lecturer = make_staff(session, course := make_course(session), role="lecturer")
    ta = make_staff(session, course)
    member, mate = make_student(session, course), make_student(session, course)
    group = make_group(session, course, members=[member, mate], size=1)
    make_topic(session, group, status="proposed")
    other_student = make_student(session, course)
    make_group(session, course, members=[other_student], size=2)
    loner = make_student(session, course)
    foreign_staff = make_staff(session, make_course(session), role="lecturer")
    session.commit()
    return World(course_id=course.id or 0, group_id=group.id or 0, join_code=group.join_code,
                 other_member_id=mate.id or 0, loner_id=loner.id or 0,
                 users={"member": member, "other_student": other_student, "ta": ta, "lecturer": lecturer,
                        "foreign_staff": foreign_staff})


def _request(w: World, endpoint: str, caller_id: int) -> tuple[str, str, dict[str, Any]]:
    c, g = w.course_id, w.group_id
    roster = {"files": {"file": ("r.csv", b"student_no,name,email\nN1,New,new@uni.example\n", "text/csv")}}
    return {
        "course get": ("GET", f"/courses/{c}", {}),
        "course patch": ("PATCH", f"/courses/{c}", {"json": {"title": "Renamed"}}),
        "roster import": ("POST", f"/courses/{c}/roster", roster),
        "groups list": ("GET", f"/courses/{c}/groups", {}),
        "group create": ("POST", f"/courses/{c}/groups", {"json": {"name": "Brand new"}}),
        "group join": ("POST", f"/courses/{c}/groups/join", {"json": {"code": w.join_code}}),
        "group get": ("GET", f"/groups/{g}", {}),
        "group leave": ("DELETE", f"/groups/{g}/members/{caller_id}", {}),
        "member remove": ("DELETE", f"/groups/{g}/members/{w.other_member_id}", {}),
        "member add": ("POST", f"/groups/{g}/members", {"json": {"user_id": w.loner_id}}),
        "formation lock": ("POST", f"/courses/{c}/groups/lock", {}),
        "topic get": ("GET", f"/groups/{g}/topic", {}),
        "topic put": ("PUT", f"/groups/{g}/topic", {"json": {"title": "T", "area": "nlp", "summary": ""}}),
        "topic decision": ("POST", f"/groups/{g}/topic/decision", {"json": {"decision": "approve", "comment": "ok"}}),
        "audit": ("GET", f"/courses/{c}/audit", {}),
        "me": ("GET", "/me", {}),
    }[endpoint]


#                     anonymous member other_student ta  lecturer foreign_staff
MATRIX = {
    "course get":      (401, 200, 200, 200, 200, 404),
    "course patch":    (401, 404, 404, 200, 200, 404),
    "roster import":   (401, 404, 404, 200, 200, 404),
    "groups list":     (401, 200, 200, 200, 200, 404),
    "group create":    (401, 409, 409, 403, 403, 404),
    "group join":      (401, 409, 409, 403, 403, 404),
    "group get":       (401, 200, 404, 200, 200, 404),
    "group leave":     (401, 204, 404, 404, 404, 404),
    "member remove":   (401, 403, 404, 204, 204, 404),
    "member add":      (401, 403, 404, 201, 201, 404),
    "formation lock":  (401, 404, 404, 200, 200, 404),
    "topic get":       (401, 200, 404, 200, 200, 404),
    "topic put":       (401, 200, 404, 403, 403, 404),
    "topic decision":  (401, 403, 404, 200, 200, 404),
    "audit":           (401, 404, 404, 200, 200, 404),
    "me":              (401, 200, 200, 200, 200, 200),
}
CASES = [(endpoint, actor, statuses[i]) for endpoint, statuses in MATRIX.items() for i, actor in enumerate(ACTORS)]


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES, ids=[f"{e}-{a}" for e, a, _ in CASES])
def test_permission_matrix(client: TestClient, session: Session, endpoint: str, actor: str, expected: int) -> None:
    world = _world(session)
    caller = world.users.get(actor)
    headers = auth(session, caller) if caller else {}
    method, path, kwargs = _request(world, endpoint, caller.id or 0 if caller else world.users["member"].id or 0)
    response = client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()) >= {"error", "detail"}
