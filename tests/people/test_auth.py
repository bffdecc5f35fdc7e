"""Login, tokens, logout, activation and /me."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ApiToken
from app.people.service import ERR_BAD_CODE, ERR_BAD_LOGIN, activation_issue
from app.security import digest
from app.tokens import ERR_BAD_TOKEN
from tests.conftest import FakeClock
from tests.factories import T0, auth, make_course, make_group, make_student, make_user


def test_login_returns_a_token_stored_only_hashed(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    response = client.post("/api/v1/auth/token", data={"username": "ada", "password": "correct horse"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 3600
    stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash == digest(body["access_token"])
    assert body["access_token"] not in stored.token_hash


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    wrong = client.post("/api/v1/auth/token", data={"username": "ada", "password": "nope nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "bob", "password": "correct horse"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "not_authenticated", "detail": ERR_BAD_LOGIN}


def test_token_expires(client: TestClient, session: Session, clock: FakeClock) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    clock.set(T0)
    token = client.post("/api/v1/auth/token", data={"username": "ada", "password": "correct horse"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    clock.advance(hours=12, seconds=-1)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(seconds=1)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated", "detail": ERR_BAD_TOKEN}


def test_logout_revokes_the_token(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_me_without_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_me_lists_roles_and_groups(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course, username="stu", name="Stu Dent", student_no="2026001")
    group = make_group(session, course, members=[student], name="Owls")
    headers = auth(session, student)
    assert client.get("/api/v1/me", headers=headers).json() == {
        "id": student.id,
        "username": "stu",
        "name": "Stu Dent",
        "email": None,
        "student_no": "2026001",
        "is_admin": False,
        "courses": [{"course_id": course.id, "role": "student"}],
        "groups": [{"group_id": group.id, "course_id": course.id, "name": "Owls"}],
    }


def test_activation_sets_the_password_once(client: TestClient, session: Session, clock: FakeClock) -> None:
    user = make_user(session, username="new")
    code = activation_issue(session, user=user, now=T0)
    session.commit()
    clock.set(T0 + timedelta(days=1))
    response = client.post("/api/v1/auth/activate", json={"code": code, "password": "s3cret-pass"})
    assert response.status_code == 200
    assert response.json()["username"] == "new"
    login = client.post("/api/v1/auth/token", data={"username": "new", "password": "s3cret-pass"})
    assert login.status_code == 200
    again = client.post("/api/v1/auth/activate", json={"code": code, "password": "other-pass"})
    assert again.status_code == 400
    assert again.json() == {"error": "bad_activation_code", "detail": ERR_BAD_CODE}


def test_activation_code_expires(client: TestClient, session: Session, clock: FakeClock) -> None:
    code = activation_issue(session, user=make_user(session), now=T0)
    session.commit()
    clock.set(T0 + timedelta(days=14))
    response = client.post("/api/v1/auth/activate", json={"code": code, "password": "s3cret-pass"})
    assert response.status_code == 400


def test_activation_refuses_a_short_password(client: TestClient, session: Session) -> None:
    code = activation_issue(session, user=make_user(session), now=T0)
    session.commit()
    response = client.post("/api/v1/auth/activate", json={"code": code, "password": "short"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "detail": "password: String should have at least 8 characters",
        "field": "password",
        "errors": [{"field": "password", "message": "String should have at least 8 characters"}],
    }
