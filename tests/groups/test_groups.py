"""Group formation: create, join, leave, staff add/remove, locking, the size rules, the audit trail."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.groups.service import (
    ERR_ALREADY_IN_GROUP,
    ERR_BAD_JOIN_CODE,
    ERR_FORMATION_LOCKED,
    ERR_GROUP_FULL,
    ERR_GROUP_TOO_SMALL,
    ERR_NAME_TAKEN,
    ERR_NOT_A_STUDENT_OF_COURSE,
    ERR_ONLY_SELF,
    ERR_TARGET_IN_GROUP,
    group_can_submit,
)
from app.models import AuditEvent, GroupMembership, ProjectGroup
from tests.conftest import FakeClock
from tests.factories import T0, auth, make_course, make_group, make_staff, make_student, make_user, member_ids


def test_create_group_makes_the_creator_a_member_and_returns_a_join_code(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    course = make_course(session)
    student = make_student(session, course, username="ada", name="Ada")
    headers = auth(session, student)
    clock.set(T0 + timedelta(hours=1))
    response = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "  Owls "}, headers=headers)
    assert response.status_code == 201
    body = response.json()
    group = session.exec(select(ProjectGroup)).one()
    assert body == {
        "id": group.id,
        "course_id": course.id,
        "name": "Owls",
        "join_code": group.join_code,
        "deliverable": None,
        "created_at": "2026-09-01T09:00:00Z",
        "members": [{"user_id": student.id, "username": "ada", "name": "Ada", "joined_at": "2026-09-01T09:00:00Z"}],
    }
    assert len(group.join_code) == 8
    assert group.join_code.isalnum()
    assert group.join_code.isupper()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "group.create")).one()
    assert (event.actor_id, event.entity_id, event.after) == (
        student.id,
        group.id,
        {"name": "Owls", "members": [student.id]},
    )


def test_join_by_code_case_insensitive(client: TestClient, session: Session) -> None:
    course = make_course(session)
    group = make_group(session, course, size=2)
    joiner = make_student(session, course)
    headers = auth(session, joiner)
    response = client.post(
        f"/api/v1/courses/{course.id}/groups/join", json={"code": group.join_code.lower()}, headers=headers
    )
    assert response.status_code == 200
    assert [m["user_id"] for m in response.json()["members"]][-1] == joiner.id
    assert len(member_ids(group, session)) == 3
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "group.join")).one()
    assert (event.actor_id, event.entity_id, event.after) == (joiner.id, group.id, {"user_id": joiner.id})


def test_unknown_join_code_is_404(client: TestClient, session: Session) -> None:
    course = make_course(session)
    other_course = make_course(session)
    foreign = make_group(session, other_course, size=1)
    headers = auth(session, make_student(session, course))
    for code in ("NOSUCH", foreign.join_code):  # a code of another course does not work either
        response = client.post(f"/api/v1/courses/{course.id}/groups/join", json={"code": code}, headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": ERR_BAD_JOIN_CODE}


def test_sixth_join_is_refused_with_409(client: TestClient, session: Session) -> None:
    course = make_course(session)
    group = make_group(session, course, size=5)
    sixth = make_student(session, course)
    headers = auth(session, sixth)
    response = client.post(f"/api/v1/courses/{course.id}/groups/join", json={"code": group.join_code}, headers=headers)
    assert response.status_code == 409
    assert response.json() == {"error": "group_full", "detail": ERR_GROUP_FULL}
    assert len(member_ids(group, session)) == 5
    assert sixth.id not in member_ids(group, session)


def test_max_group_size_is_the_course_setting(client: TestClient, session: Session) -> None:
    course = make_course(session, min_group_size=2, max_group_size=3)
    group = make_group(session, course, size=2)
    first, second = make_student(session, course), make_student(session, course)
    h1, h2 = auth(session, first), auth(session, second)
    url = f"/api/v1/courses/{course.id}/groups/join"
    assert client.post(url, json={"code": group.join_code}, headers=h1).status_code == 200
    assert client.post(url, json={"code": group.join_code}, headers=h2).status_code == 409


def test_a_second_group_for_one_student_is_refused(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    other = make_group(session, course, size=1)
    headers = auth(session, student)
    assert client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "A"}, headers=headers).status_code == 201
    create = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "B"}, headers=headers)
    join = client.post(f"/api/v1/courses/{course.id}/groups/join", json={"code": other.join_code}, headers=headers)
    for response in (create, join):
        assert response.status_code == 409
        assert response.json() == {"error": "already_in_group", "detail": ERR_ALREADY_IN_GROUP}
    assert session.exec(select(ProjectGroup.name).order_by(col(ProjectGroup.id))).all() == [other.name, "A"]


def test_the_database_refuses_a_second_current_membership(session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    make_group(session, course, members=[student])
    with pytest.raises(IntegrityError):
        make_group(session, course, members=[student])


def test_group_names_are_unique_per_course(client: TestClient, session: Session) -> None:
    course = make_course(session)
    make_group(session, course, name="Owls", size=1)
    headers = auth(session, make_student(session, course))
    response = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "Owls"}, headers=headers)
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": ERR_NAME_TAKEN}


def test_leaving_keeps_the_history_and_allows_a_new_group(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    headers = auth(session, student)
    clock.set(T0 + timedelta(days=2))
    response = client.delete(f"/api/v1/groups/{group.id}/members/{student.id}", headers=headers)
    assert response.status_code == 204
    rows = session.exec(select(GroupMembership).where(GroupMembership.user_id == student.id)).all()
    assert [(r.group_id, r.left_at) for r in rows] == [(group.id, T0 + timedelta(days=2))]
    assert student.id not in member_ids(group, session)
    session.commit()  # end the read: SQLite transactions hold the write lock
    # The former member no longer sees the group.
    assert client.get(f"/api/v1/groups/{group.id}", headers=headers).status_code == 404
    created = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "New"}, headers=headers)
    assert created.status_code == 201
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "group.leave")).one()
    assert (event.actor_id, event.entity_id, event.before) == (student.id, group.id, {"user_id": student.id})


def test_a_member_cannot_remove_another_member(client: TestClient, session: Session) -> None:
    course = make_course(session)
    a, b = make_student(session, course), make_student(session, course)
    group = make_group(session, course, members=[a, b])
    response = client.delete(f"/api/v1/groups/{group.id}/members/{b.id}", headers=auth(session, a))
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "detail": ERR_ONLY_SELF}
    assert member_ids(group, session) == sorted([a.id, b.id])


def test_staff_remove_a_member(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    response = client.delete(f"/api/v1/groups/{group.id}/members/{student.id}", headers=auth(session, ta))
    assert response.status_code == 204
    assert len(member_ids(group, session)) == 2
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "group.member_remove")).one()
    assert (event.actor_id, event.before) == (ta.id, {"user_id": student.id})
    session.commit()
    again = client.delete(f"/api/v1/groups/{group.id}/members/{student.id}", headers=auth(session, ta))
    assert again.status_code == 404


def test_locked_formation_lets_only_staff_change_membership(client: TestClient, session: Session) -> None:
    course = make_course(session)
    lecturer = make_staff(session, course, role="lecturer")
    staff = auth(session, lecturer)
    member = make_student(session, course)
    group = make_group(session, course, members=[member], size=2)
    loner = make_student(session, course)
    loner_headers = auth(session, loner)
    lock = client.post(f"/api/v1/courses/{course.id}/groups/lock", headers=staff)
    assert lock.json() == {"course_id": course.id, "formation_locked": True}
    refused = [
        client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "X"}, headers=loner_headers),
        client.post(f"/api/v1/courses/{course.id}/groups/join", json={"code": group.join_code}, headers=loner_headers),
        client.delete(f"/api/v1/groups/{group.id}/members/{member.id}", headers=auth(session, member)),
    ]
    for response in refused:
        assert response.status_code == 403
        assert response.json() == {"error": "formation_locked", "detail": ERR_FORMATION_LOCKED}
    added = client.post(f"/api/v1/groups/{group.id}/members", json={"user_id": loner.id}, headers=staff)
    assert added.status_code == 201
    assert loner.id in member_ids(group, session)
    session.commit()
    assert client.delete(f"/api/v1/groups/{group.id}/members/{member.id}", headers=staff).status_code == 204
    unlock = client.post(f"/api/v1/courses/{course.id}/groups/unlock", headers=staff)
    assert unlock.json() == {"course_id": course.id, "formation_locked": False}
    actions = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    assert actions[-4:] == ["course.formation_lock", "group.member_add", "group.member_remove", "course.formation_lock"]


def test_staff_add_respects_the_size_and_one_group_rules(client: TestClient, session: Session) -> None:
    course = make_course(session)
    staff = auth(session, make_staff(session, course))
    full = make_group(session, course, size=5)
    grouped = make_student(session, course)
    open_group = make_group(session, course, members=[grouped])
    loner = make_student(session, course)
    ta_elsewhere = make_staff(session, course)
    outsider = make_user(session)
    session.commit()
    cases = [
        (full.id, loner.id, 409, {"error": "group_full", "detail": ERR_GROUP_FULL}),
        (open_group.id, grouped.id, 409, {"error": "already_in_group", "detail": ERR_TARGET_IN_GROUP}),
        (
            open_group.id,
            ta_elsewhere.id,
            422,
            {"error": "invalid", "detail": ERR_NOT_A_STUDENT_OF_COURSE, "field": "user_id"},
        ),
        (
            open_group.id,
            outsider.id,
            422,
            {"error": "invalid", "detail": ERR_NOT_A_STUDENT_OF_COURSE, "field": "user_id"},
        ),
    ]
    for group_id, user_id, status, body in cases:
        response = client.post(f"/api/v1/groups/{group_id}/members", json={"user_id": user_id}, headers=staff)
        assert (response.status_code, response.json()) == (status, body)


def test_list_groups_staff_see_all_students_their_own(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    student = make_student(session, course)
    own = make_group(session, course, members=[student], name="Own")
    make_group(session, course, size=1, name="Other")
    loner = make_student(session, course)
    url = f"/api/v1/courses/{course.id}/groups"
    assert [g["name"] for g in client.get(url, headers=auth(session, ta)).json()] == ["Own", "Other"]
    assert [g["id"] for g in client.get(url, headers=auth(session, student)).json()] == [own.id]
    assert client.get(url, headers=auth(session, loner)).json() == []


def test_group_can_submit_needs_the_minimum_size(session: Session) -> None:
    course = make_course(session)
    small = make_group(session, course, size=2)
    enough = make_group(session, course, size=3)
    with pytest.raises(Conflict) as excinfo:
        group_can_submit(session, group=small, course=course)
    assert (excinfo.value.detail, excinfo.value.code) == (ERR_GROUP_TOO_SMALL, "group_too_small")
    assert group_can_submit(session, group=enough, course=course) is None


def test_staff_read_group_changes_in_the_audit_log(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    lecturer = make_staff(session, course, role="lecturer")
    student = make_student(session, course)
    clock.set(T0 + timedelta(hours=3))
    created = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "Owls"}, headers=auth(session, student))
    group_id = created.json()["id"]
    events = client.get(f"/api/v1/courses/{course.id}/audit", headers=auth(session, lecturer)).json()
    assert events[0] == {
        "id": events[0]["id"],
        "at": "2026-09-01T11:00:00Z",
        "actor_id": student.id,
        "action": "group.create",
        "entity": "group",
        "entity_id": group_id,
        "before": None,
        "after": {"name": "Owls", "members": [student.id]},
    }


def test_ids_beyond_the_id_column_are_404_not_a_crash(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    headers = auth(session, ta)
    huge = 2**70  # SQLite cannot even bind it
    for path in (f"/courses/{huge}", f"/courses/{huge}/groups", f"/groups/{huge}", f"/groups/{huge}/topic"):
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 404, path
    gone = client.delete(f"/api/v1/groups/{group.id}/members/{huge}", headers=headers)
    assert (gone.status_code, gone.json()["detail"]) == (404, "This user is not a current member of the group.")
    added = client.post(f"/api/v1/groups/{group.id}/members", json={"user_id": huge}, headers=headers)
    assert (added.status_code, added.json()["field"]) == (422, "user_id")
    paged = client.get(f"/api/v1/courses/{course.id}/audit?offset={huge}", headers=headers)
    assert (paged.status_code, paged.json()["field"]) == (422, "offset")


def test_a_nul_character_is_a_422_naming_the_field(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_student(session, course))
    response = client.post(f"/api/v1/courses/{course.id}/groups", json={"name": "Owls\u0000"}, headers=headers)
    message = "Value error, must not contain control characters"
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid",
            "detail": f"name: {message}",
            "field": "name",
            "errors": [{"field": "name", "message": message}],
        },
    )
    assert session.exec(select(ProjectGroup)).all() == []
