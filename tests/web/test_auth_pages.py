"""Login, logout, session cookies and CSRF on the pages."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ApiToken, AuditEvent
from app.selection.service import selection_run
from app.web.deps import ERR_CSRF, SESSION_COOKIE
from tests.factories import make_course, make_group, make_submission, make_topic, make_user
from tests.web.helpers import hidden_csrf, staff_forms, text_of, web_login


def test_anonymous_is_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/ui/courses/7?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/courses/7%3Fx%3D1"


def test_login_sets_an_httponly_lax_session_cookie_and_goes_on(client: TestClient, session: Session) -> None:
    make_user(session, username="ta", name="Tess Assistant", password="ta-pass-123")
    session.commit()
    form = client.get("/ui/login?next=/ui")
    response = client.post(
        "/ui/login",
        data={"username": "ta", "password": "ta-pass-123", "next": "/ui", "csrf_token": hidden_csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes
    assert session.exec(select(ApiToken.kind)).all() == ["web"]
    session.commit()  # end the read (objects stay loaded): SQLite takes its write lock at BEGIN
    assert "Welcome, Tess Assistant" in text_of(client.get("/ui").text)


def test_session_cookie_is_secure_over_https(db_url: str, session: Session) -> None:
    from app.main import app

    make_user(session, username="ta", password="ta-pass-123")
    session.commit()
    with TestClient(app, base_url="https://tracker.example") as https_client:
        form = https_client.get("/ui/login")
        response = https_client.post(
            "/ui/login",
            data={"username": "ta", "password": "ta-pass-123", "csrf_token": hidden_csrf(form.text)},
            follow_redirects=False,
        )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "secure" in cookie.lower().split("; ")


def test_wrong_password_shows_the_form_again(client: TestClient, session: Session) -> None:
    make_user(session, username="ta", password="ta-pass-123")
    session.commit()
    form = client.get("/ui/login")
    response = client.post(
        "/ui/login", data={"username": "ta", "password": "nope-nope", "csrf_token": hidden_csrf(form.text)}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert SESSION_COOKIE not in response.cookies


def test_login_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, username="ta", password="ta-pass-123")
    session.commit()
    client.get("/ui/login")
    response = client.post("/ui/login", data={"username": "ta", "password": "ta-pass-123"})
    assert response.status_code == 403
    assert ERR_CSRF in response.text
    assert session.exec(select(ApiToken)).all() == []


def test_an_outside_redirect_target_is_ignored(client: TestClient, session: Session) -> None:
    make_user(session, username="ta", password="ta-pass-123")
    session.commit()
    form = client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={
            "username": "ta",
            "password": "ta-pass-123",
            "next": "https://evil.example/",
            "csrf_token": hidden_csrf(form.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/ui"


def test_logout_needs_the_csrf_token_and_revokes_the_session(client: TestClient, session: Session) -> None:
    user = make_user(session)
    csrf = web_login(client, session, user)
    refused = client.post("/ui/logout", data={})
    assert refused.status_code == 403
    assert ERR_CSRF in text_of(refused.text)
    assert client.post("/ui/logout", data={"csrf_token": "0" * 64}).status_code == 403
    assert client.get("/ui").status_code == 200
    response = client.post("/ui/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"
    session.expire_all()
    assert session.exec(select(ApiToken.revoked_at)).one() is not None
    session.commit()
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_the_start_page_lists_the_courses_a_user_teaches(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, name="Lena Lecturer", admin=True)
    course = make_course(session, lecturer=lecturer, code="DL2026")
    web_login(client, session, lecturer)
    page = client.get("/ui")
    assert page.status_code == 200
    assert f'href="/ui/courses/{course.id}"' in page.text
    assert "DL2026 — Deep Learning" in text_of(page.text)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_an_unknown_page_is_a_404_page(client: TestClient, session: Session) -> None:
    web_login(client, session, make_user(session))
    response = client.get("/ui/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such page." in response.text


def test_static_files_are_served(client: TestClient) -> None:
    response = client.get("/ui/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_a_form_posted_after_the_session_ended_goes_to_login_and_back(client: TestClient) -> None:
    response = client.post(
        "/ui/groups/5/extension",
        data={"milestone": "report"},
        follow_redirects=False,
        headers={"referer": "http://testserver/ui/groups/5?milestone=report"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/groups/5%3Fmilestone%3Dreport"


def test_every_staff_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    group = make_group(session, course, size=3)
    make_topic(session, group, status="proposed")
    received = datetime(2026, 12, 19, 15, 59, tzinfo=UTC)
    sub = make_submission(session, group, "report", received_at=received)
    run = selection_run(session, user=lecturer, course_id=course.id or 0, force=True, now=received)
    web_login(client, session, lecturer)
    forms = staff_forms(course_id=course.id or 0, group_id=group.id or 0, submission_id=sub.id or 0, run_id=run.id or 0)
    for token in (None, "0" * 64):
        extra = {} if token is None else {"csrf_token": token}
        statuses = {path: client.post(path, data={**data, **extra}).status_code for path, data in forms.items()}
        assert statuses == dict.fromkeys(forms, 403)
    assert session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all() == ["course.create", "selection.run"]
