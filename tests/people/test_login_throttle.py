"""Login under attack: the throttle per account and per address, the dummy hash, and no transaction while hashing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

import app.people.login as login_module
from app.db import get_engine
from app.models import AuditEvent, LoginThrottle
from app.people.service import ERR_BAD_LOGIN
from app.security import dummy_password_hash, verify_password
from tests.conftest import FakeClock
from tests.factories import make_user

TOKEN = "/api/v1/auth/token"


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post(TOKEN, data={"username": username, "password": password})


def _locked(seconds: int) -> dict[str, str]:
    return {"error": "too_many_logins", "detail": f"Too many failed logins; try again in {seconds} s."}


def test_five_failures_lock_the_account_even_for_the_right_password(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    assert [_login(client, "ada", f"guess {n}").status_code for n in range(5)] == [401] * 5
    right = _login(client, "ada", "correct horse")
    assert (right.status_code, right.headers["retry-after"], right.json()) == (429, "30", _locked(30))
    clock.advance(seconds=29)
    assert _login(client, "ada", "correct horse").headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert _login(client, "ada", "correct horse").status_code == 200
    # A success starts the account afresh.
    assert session.exec(select(LoginThrottle).where(LoginThrottle.key == "account:ada")).first() is None


def test_each_failure_after_a_lockout_doubles_it_and_every_lockout_is_audited(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    for n in range(5):
        _login(client, "ada", f"guess {n}")
    clock.advance(seconds=30)
    assert _login(client, "ada", "guess 6").status_code == 401
    assert _login(client, "ada", "guess 7").json() == _locked(60)
    clock.advance(seconds=60)
    assert _login(client, "ada", "guess 8").status_code == 401
    assert _login(client, "ada", "guess 9").headers["retry-after"] == "120"
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "login.lockout").order_by(col(AuditEvent.id))
    ).all()
    assert [(e.after or {}).get("failures") for e in events] == [5, 6, 7]
    assert {(e.after or {}).get("key") for e in events} == {"account:ada"}


def test_unknown_accounts_are_throttled_like_real_ones(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    real = [_login(client, "ada", f"guess {n}").status_code for n in range(6)]
    unknown = [_login(client, "nobody", f"guess {n}").status_code for n in range(6)]
    assert real == unknown == [401, 401, 401, 401, 401, 429]


def test_many_accounts_from_one_address_lock_that_address(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("TRACKER_LOGIN_MAX_FAILURES_PER_ADDRESS", "3")
    get_settings.cache_clear()
    make_user(session, username="ada", password="correct horse")
    session.commit()
    assert [_login(client, f"user{n}", "guess").status_code for n in range(3)] == [401] * 3
    refused = _login(client, "ada", "correct horse")
    assert (refused.status_code, refused.json()) == (429, _locked(30))
    address = session.exec(select(LoginThrottle).where(LoginThrottle.key == "address:testclient")).one()
    assert address.failures == 3


def test_unknown_and_inactive_accounts_are_compared_against_the_dummy_hash_outside_a_transaction(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(session, username="ada", password="correct horse")
    make_user(session, username="fresh")  # imported from a roster, not yet activated: no password
    session.commit()
    seen: list[tuple[bool, int]] = []

    def spy(password_hash: str | None, password: str) -> bool:
        # While the hash is compared no connection is checked out: no transaction holds a lock.
        seen.append((password_hash == dummy_password_hash(), get_engine().pool.checkedout()))  # type: ignore[attr-defined]
        return verify_password(password_hash, password)

    monkeypatch.setattr(login_module, "verify_password", spy)
    answers = [_login(client, name, "correct horse") for name in ("ada", "nobody", "fresh")]
    assert [a.status_code for a in answers] == [200, 401, 401]
    assert answers[1].json() == answers[2].json() == {"error": "not_authenticated", "detail": ERR_BAD_LOGIN}
    assert seen == [(False, 0), (True, 0), (True, 0)]


def test_a_repeated_login_field_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    response = client.post(
        TOKEN,
        content=b"username=ada&username=bob&password=correct+horse",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.json()) == (
        422,
        {"error": "invalid", "detail": "The form field 'username' is given more than once.", "field": "username"},
    )


def test_the_web_login_is_throttled_too(client: TestClient, session: Session) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    for n in range(5):
        _login(client, "ada", f"guess {n}")
    page = client.get("/ui/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/ui/login", data={"username": "ada", "password": "correct horse", "csrf_token": csrf}, follow_redirects=False
    )
    assert (response.status_code, response.headers["retry-after"]) == (429, "30")
    assert "Too many failed logins; try again in 30 s." in response.text
