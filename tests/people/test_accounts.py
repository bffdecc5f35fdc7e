"""Account operations: change one's password, disable an account, members list, re-issued activation codes."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, Notice
from app.people.service import ERR_ADMIN_ONLY, ERR_BAD_CODE, ERR_SAME_PASSWORD, ERR_WRONG_PASSWORD
from app.roster.service import ERR_NOT_A_MEMBER, ERR_RESET_ELSEWHERE, ERR_RESET_STAFF
from app.tokens import ERR_BAD_TOKEN
from tests.factories import auth, enrol, make_course, make_staff, make_student, make_user
from tests.web.helpers import web_login

OLD, NEW = "old password 1", "new password 2"


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_changing_the_password_ends_every_other_login_but_this_one(client: TestClient, session: Session) -> None:
    ada = make_user(session, username="ada", password=OLD, email="ada@example.edu")
    session.commit()
    this, other = _login(client, "ada", OLD), _login(client, "ada", OLD)
    web_login(client, session, ada)
    assert client.get("/ui").status_code == 200

    response = client.post("/api/v1/me/password", headers=this, json={"current_password": OLD, "new_password": NEW})
    assert (response.status_code, response.json()) == (200, {"revoked_tokens": 2})
    assert client.get("/api/v1/me", headers=this).status_code == 200
    assert client.get("/api/v1/me", headers=other).json() == {"error": "not_authenticated", "detail": ERR_BAD_TOKEN}
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/login?next=/ui"
    assert client.post("/api/v1/auth/token", data={"username": "ada", "password": OLD}).status_code == 401
    _login(client, "ada", NEW)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.password_change")).one()
    assert (event.actor_id, event.after) == (ada.id, {"revoked_tokens": 2})
    # The owner is told by email, in the same transaction as the change.
    notices = session.exec(select(Notice.kind, Notice.to_address, Notice.status)).all()
    assert [tuple(n) for n in notices] == [("password_changed", "ada@example.edu", "pending")]


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password=OLD)
    session.commit()
    headers = _login(client, "ada", OLD)
    cases = [
        (
            {"current_password": "not it at all", "new_password": NEW},
            "wrong_password",
            ERR_WRONG_PASSWORD,
            "current_password",
        ),
        ({"current_password": OLD, "new_password": OLD}, "invalid", ERR_SAME_PASSWORD, "new_password"),
        (
            {"current_password": OLD, "new_password": "short"},
            "invalid",
            "The password needs at least 8 characters.",
            "new_password",
        ),
    ]
    for body, code, detail, field in cases:
        response = client.post("/api/v1/me/password", headers=headers, json=body)
        assert (response.status_code, response.json()) == (422, {"error": code, "detail": detail, "field": field})
    _login(client, "ada", OLD)


def test_an_admin_disables_an_account_and_every_token_stops_at_once(client: TestClient, session: Session) -> None:
    admin = make_user(session, admin=True)
    course = make_course(session, lecturer=admin)
    bob = make_student(session, course, username="bob", password=OLD, email="bob@example.edu")
    lecturer = make_staff(session, course, role="lecturer")
    session.commit()
    bob_api = _login(client, "bob", OLD)
    web_login(client, session, bob)
    admin_h, lecturer_h = auth(session, admin), auth(session, lecturer)

    refused = client.post(f"/api/v1/users/{bob.id}/disable", headers=lecturer_h)
    assert (refused.status_code, refused.json()) == (403, {"error": "admin_only", "detail": ERR_ADMIN_ONLY})
    response = client.post(f"/api/v1/users/{bob.id}/disable", headers=admin_h)
    assert response.json() == {"id": bob.id, "username": "bob", "is_active": False}
    assert client.get("/api/v1/me", headers=bob_api).status_code == 401
    assert client.get("/ui", follow_redirects=False).status_code == 303
    assert client.post("/api/v1/auth/token", data={"username": "bob", "password": OLD}).status_code == 401
    assert client.post("/api/v1/users/999999/disable", headers=admin_h).status_code == 404
    # Disabling twice tells the owner once.
    assert client.post(f"/api/v1/users/{bob.id}/disable", headers=admin_h).status_code == 200
    notices = session.exec(select(Notice.kind, Notice.to_address)).all()
    assert [tuple(n) for n in notices] == [("account_disabled", "bob@example.edu")]
    session.commit()  # end the read: on SQLite the test's session holds the write lock while it is open

    assert client.post(f"/api/v1/users/{bob.id}/enable", headers=admin_h).json()["is_active"] is True
    _login(client, "bob", OLD)


def test_staff_list_members_with_ids_and_students_do_not(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, username="lena", name="Lena", admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course, username="tess", name="Tess")
    zoe = make_student(session, course, username="zoe", name="Zoe", student_no="S9", email="zoe@example.org")
    amy = make_student(session, course, username="amy", name="Amy", student_no="S1")
    session.commit()
    response = client.get(f"/api/v1/courses/{course.id}/members", headers=auth(session, ta))
    assert response.status_code == 200
    assert [(m["username"], m["role"], m["user_id"]) for m in response.json()] == [
        ("lena", "lecturer", lecturer.id),
        ("tess", "ta", ta.id),
        ("amy", "student", amy.id),
        ("zoe", "student", zoe.id),
    ]
    assert response.json()[3] == {
        "user_id": zoe.id,
        "username": "zoe",
        "name": "Zoe",
        "email": "zoe@example.org",
        "student_no": "S9",
        "role": "student",
        "is_active": True,
    }
    assert client.get(f"/api/v1/courses/{course.id}/members", headers=auth(session, amy)).status_code == 403


def test_a_reissued_code_activates_once_and_the_old_code_is_dead(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course)
    session.commit()
    roster = client.post(  # the admin's direct import: a TA's would invite, with the code emailed only
        f"/api/v1/courses/{course.id}/roster",
        headers={**auth(session, lecturer), "Content-Type": "text/csv"},
        content=b"student_no,name,email\nS100,Sam,sam@example.org\n",
    )
    old_code = roster.json()["activation_codes"][0]["code"]
    members = client.get(f"/api/v1/courses/{course.id}/members", headers=auth(session, ta)).json()
    sam_id = next(m["user_id"] for m in members if m["username"] == "s100")

    response = client.post(f"/api/v1/courses/{course.id}/members/{sam_id}/activation", headers=auth(session, ta))
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("student_no", "username", "email")} == {
        "student_no": "S100",
        "username": "s100",
        "email": "sam@example.org",
    }
    assert body["code"] != old_code
    dead = client.post("/api/v1/auth/activate", json={"code": old_code, "password": NEW})
    assert dead.json() == {"error": "bad_activation_code", "detail": ERR_BAD_CODE}
    assert client.post("/api/v1/auth/activate", json={"code": body["code"], "password": NEW}).status_code == 200
    assert client.post("/api/v1/auth/activate", json={"code": body["code"], "password": NEW}).status_code == 400
    _login(client, "s100", NEW)
    actions = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    assert actions[-1] == "activation.reissue"


def test_who_may_reissue_a_code_for_whom(client: TestClient, session: Session) -> None:
    lecturer = make_staff(session, make_course(session), role="lecturer")
    course = make_course(session, lecturer=make_user(session, admin=True))
    enrol(session, course, lecturer, "lecturer")
    ta, other_ta = make_staff(session, course), make_staff(session, course)
    elsewhere = make_student(session, course)
    enrol(session, make_course(session), elsewhere, "ta")
    outsider = make_user(session)
    session.commit()
    url = f"/api/v1/courses/{course.id}/members/{{}}/activation"
    refused = client.post(url.format(other_ta.id), headers=auth(session, ta))
    assert (refused.status_code, refused.json()) == (403, {"error": "reset_not_allowed", "detail": ERR_RESET_STAFF})
    assert client.post(url.format(other_ta.id), headers=auth(session, lecturer)).status_code == 201
    refused = client.post(url.format(elsewhere.id), headers=auth(session, lecturer))
    assert refused.json() == {"error": "reset_not_allowed", "detail": ERR_RESET_ELSEWHERE}
    missing = client.post(url.format(outsider.id), headers=auth(session, lecturer))
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found", "detail": ERR_NOT_A_MEMBER})
