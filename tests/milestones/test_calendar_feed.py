"""The per-user calendar feed: a secret URL that calendar apps fetch without headers."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.db import make_engine
from app.milestones.service import ERR_NO_FEED, calendar_feed_issue
from app.models import ApiToken, AuditEvent, User
from app.security import digest
from app.tokens import ERR_BAD_TOKEN
from tests.conftest import FakeClock
from tests.factories import T0, auth, enrol, make_course, make_group, make_staff, make_student, make_user

FEED = "/api/v1/me/calendar-feed"
FEED_URL_PREFIX = "http://testserver/api/v1/calendar/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NO_FEED = {"error": "not_found", "detail": ERR_NO_FEED}


def _issue(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(FEED, headers=headers)
    assert response.status_code == 201
    assert list(response.json()) == ["url"]
    url: str = response.json()["url"]
    assert url.startswith(FEED_URL_PREFIX) and url.endswith(".ics")
    return url


def _secret(url: str) -> str:
    return url.removeprefix(FEED_URL_PREFIX).removesuffix(".ics")


def _events(body: bytes) -> dict[str, tuple[str, datetime]]:
    calendar = Calendar.from_ical(body)
    return {str(e["summary"]): (str(e["uid"]), e.decoded("dtstart")) for e in calendar.walk("VEVENT")}


def _feed_audit(session: Session) -> list[tuple[str, int | None, int | None, dict | None, dict | None]]:
    rows = session.exec(
        select(AuditEvent).where(col(AuditEvent.action).startswith("calendar_feed.")).order_by(col(AuditEvent.id))
    ).all()
    session.commit()
    return [(e.action, e.actor_id, e.course_id, e.before, e.after) for e in rows]


def _feed_tokens(session: Session, user: User) -> list[ApiToken]:
    rows = list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "feed").order_by(col(ApiToken.id))
        )
    )
    session.commit()
    return rows


def test_feed_serves_every_course_of_the_user_without_headers(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    dl = make_course(session, code="DL2026")
    ml = make_course(session, code="ML", timezone="Europe/Berlin")
    user = make_student(session, dl)
    enrol(session, ml, user, "ta")
    ta = make_staff(session, dl)
    owls = make_group(session, dl, members=[user], size=2, name="Owls")
    larks = make_group(session, ml, size=3, name="Larks")
    headers = auth(session, user)
    assert (
        client.post(
            f"/api/v1/groups/{owls.id}/extensions",
            headers=auth(session, ta),
            json={"milestone": "report", "due_at": "2026-12-23T12:00:00+08:00", "reason": "illness"},
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/groups/{larks.id}/extensions",
            headers=headers,
            json={"milestone": "proposal", "due_at": "2026-11-04T12:00:00+01:00", "reason": "flood"},
        ).status_code
        == 200
    )

    url = _issue(client, headers)
    response = client.get(url)  # no Authorization header, no cookie: what a calendar app sends

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = _events(response.content)
    assert events == {
        "DL2026: Proposal due": (
            f"course-{dl.id}-milestone-proposal@tracker",
            datetime(2026, 11, 1, 23, 59, tzinfo=SHANGHAI),
        ),
        "DL2026: Report due (extended for Owls)": (
            f"course-{dl.id}-milestone-report-group-{owls.id}@tracker",
            datetime(2026, 12, 23, 12, 0, tzinfo=SHANGHAI),
        ),
        "DL2026: Presentation or poster due": (
            f"course-{dl.id}-milestone-final@tracker",
            datetime(2026, 12, 27, 23, 59, tzinfo=SHANGHAI),
        ),
        "ML: Proposal due": (
            f"course-{ml.id}-milestone-proposal@tracker",
            datetime(2026, 11, 1, 23, 59, tzinfo=BERLIN),
        ),
        "ML: Report due": (f"course-{ml.id}-milestone-report@tracker", datetime(2026, 12, 20, 23, 59, tzinfo=BERLIN)),
        "ML: Presentation or poster due": (
            f"course-{ml.id}-milestone-final@tracker",
            datetime(2026, 12, 27, 23, 59, tzinfo=BERLIN),
        ),
    }
    report = events["DL2026: Report due (extended for Owls)"][1]
    assert report.astimezone(ZoneInfo("UTC")) == datetime(2026, 12, 23, 4, 0, tzinfo=ZoneInfo("UTC"))
    assert b"DTSTART;TZID=Asia/Shanghai:20261223T120000" in response.content
    assert b"DTSTART;TZID=Europe/Berlin:20261101T235900" in response.content
    calendar = Calendar.from_ical(response.content)
    assert sorted(str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")) == ["Asia/Shanghai", "Europe/Berlin"]
    assert str(calendar["x-wr-calname"]) == "Course project deadlines"
    assert "x-wr-timezone" not in calendar

    # The same events, course by course, as the bearer-authenticated calendar.ics gives them.
    per_course = {}
    for course in (dl, ml):
        ics = client.get(f"/api/v1/courses/{course.id}/calendar.ics", headers=headers)
        assert ics.status_code == 200
        per_course.update(_events(ics.content))
    assert per_course == events

    token = _feed_tokens(session, user)[0]
    assert (token.token_hash, token.created_at, token.expires_at, token.revoked_at) == (
        digest(_secret(url)),
        clock.now,
        clock.now + timedelta(days=365),
        None,
    )


def test_feed_lives_a_year(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session, code="DL2026")
    user = make_student(session, course)
    url = _issue(client, auth(session, user))
    clock.set(T0 + timedelta(days=365) - timedelta(seconds=1))
    assert client.get(url).status_code == 200
    clock.set(T0 + timedelta(days=365))
    expired = client.get(url)
    assert (expired.status_code, expired.json()) == (404, NO_FEED)


def test_reissuing_revokes_the_old_url(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    user = make_student(session, course)
    headers = auth(session, user)
    old = _issue(client, headers)
    clock.advance(hours=1)
    new = _issue(client, headers)

    assert old != new
    gone = client.get(old)
    assert (gone.status_code, gone.json()) == (404, NO_FEED)
    assert client.get(new).status_code == 200
    first, second = _feed_tokens(session, user)
    assert (first.revoked_at, second.revoked_at) == (clock.now, None)
    assert _feed_audit(session) == [
        ("calendar_feed.issue", user.id, None, None, {"expires_at": "2027-09-01T08:00:00+00:00"}),
        ("calendar_feed.issue", user.id, None, {"revoked": [first.id]}, {"expires_at": "2027-09-01T09:00:00+00:00"}),
    ]


def test_delete_revokes_the_feed(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    user = make_student(session, course)
    headers = auth(session, user)
    url = _issue(client, headers)
    clock.advance(minutes=5)

    deleted = client.delete(FEED, headers=headers)

    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = client.get(url)
    assert (gone.status_code, gone.json()) == (404, NO_FEED)
    assert client.delete(FEED, headers=headers).status_code == 204  # nothing left to revoke: still 204, not audited
    [token] = _feed_tokens(session, user)
    assert token.revoked_at == clock.now
    assert _feed_audit(session) == [
        ("calendar_feed.issue", user.id, None, None, {"expires_at": "2027-09-01T08:00:00+00:00"}),
        ("calendar_feed.revoke", user.id, None, {"expires_at": "2027-09-01T08:00:00+00:00"}, None),
    ]


def test_feeds_of_different_users_are_independent(client: TestClient, session: Session) -> None:
    course = make_course(session)
    alice, bob = make_student(session, course), make_student(session, course)
    alice_url = _issue(client, auth(session, alice))
    bob_url = _issue(client, auth(session, bob))
    assert client.delete(FEED, headers=auth(session, bob)).status_code == 204
    assert client.get(alice_url).status_code == 200
    assert client.get(bob_url).status_code == 404


def test_feed_secret_is_not_a_bearer_token_and_back(client: TestClient, session: Session) -> None:
    course = make_course(session)
    user = make_student(session, course)
    headers = auth(session, user)
    secret = _secret(_issue(client, headers))

    as_bearer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert (as_bearer.status_code, as_bearer.json()) == (401, {"error": "not_authenticated", "detail": ERR_BAD_TOKEN})
    assert (
        client.get(
            f"/api/v1/courses/{course.id}/calendar.ics", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )

    bearer = headers["Authorization"].removeprefix("Bearer ")
    as_feed = client.get(f"/api/v1/calendar/{bearer}.ics")
    assert (as_feed.status_code, as_feed.json()) == (404, NO_FEED)
    unknown = client.get("/api/v1/calendar/not-a-secret.ics")
    assert (unknown.status_code, unknown.json()) == (404, NO_FEED)


def test_anonymous_callers_get_no_feed(client: TestClient, session: Session) -> None:
    for method in ("POST", "DELETE"):
        response = client.request(method, FEED)
        assert (response.status_code, response.json()["error"], response.headers["www-authenticate"]) == (
            401,
            "not_authenticated",
            "Bearer",
        )
    assert session.exec(select(ApiToken).where(ApiToken.kind == "feed")).all() == []
    session.commit()


def test_feed_of_a_user_without_courses_is_an_empty_calendar(client: TestClient, session: Session) -> None:
    loner = make_user(session)
    response = client.get(_issue(client, auth(session, loner)))
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    assert (calendar.walk("VEVENT"), str(calendar["x-wr-calname"])) == ([], "Course project deadlines")


def test_feed_of_a_deactivated_user_is_gone(client: TestClient, session: Session) -> None:
    course = make_course(session)
    user = make_student(session, course)
    url = _issue(client, auth(session, user))
    user.is_active = False
    session.add(user)
    session.commit()
    assert client.get(url).status_code == 404


@pytest.mark.postgres_only
def test_concurrent_issues_leave_one_live_feed(db_url: str, session: Session) -> None:
    user = make_user(session)
    session.commit()
    callers = 8
    # One connection per thread, so all the issues really are in flight at once.
    engine: Engine = make_engine(db_url, pool_size=callers, max_overflow=0)
    barrier = threading.Barrier(callers, timeout=30)
    outcomes: list[str] = []

    def issue() -> None:
        with Session(engine, expire_on_commit=False) as own:
            me = own.get(User, user.id)
            assert me is not None
            barrier.wait()
            try:
                calendar_feed_issue(own, user=me, now=T0)
                own.commit()
                outcomes.append("issued")
            except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=issue) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    assert outcomes == ["issued"] * callers
    tokens = _feed_tokens(session, user)
    assert (len(tokens), [t.id for t in tokens if t.revoked_at is None]) == (callers, [tokens[-1].id])


def test_the_feed_url_uses_the_public_url_not_the_host_header(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://tracker.uni.example/")
    get_settings.cache_clear()
    headers = auth(session, make_user(session))
    session.commit()
    response = client.post("/api/v1/me/calendar-feed", headers={**headers, "Host": "evil.example"})
    url = response.json()["url"]
    assert url.startswith("https://tracker.uni.example/api/v1/calendar/") and url.endswith(".ics")
