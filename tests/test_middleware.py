"""The request guard: body limits before reading, anonymous bodies, stalled uploads, headers, proxies."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.middleware import forwarded_scope
from tests.factories import auth, make_course, make_group, make_student, make_topic, make_user
from tests.submissions.pdfs import tiny_pdf

MIB = 1024 * 1024


class Body:
    """A request body fed chunk by chunk that records how much the app pulled; None stalls forever."""

    def __init__(self, chunks: list[bytes | None], *, endless: bytes | None = None) -> None:
        self.chunks, self.endless, self.pulled = list(chunks), endless, 0

    async def receive(self) -> dict[str, Any]:
        if not self.chunks and self.endless is None:
            await asyncio.Event().wait()  # after the body: the client waits for its answer
        chunk = self.chunks.pop(0) if self.chunks else self.endless
        if chunk is None:
            await asyncio.Event().wait()  # a stalled client: nothing more ever arrives
        self.pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or self.endless is not None}


def _call(path: str, body: Body, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, str], Any]:
    from app.main import app

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    asyncio.run(app(scope, body.receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, json.loads(payload) if payload else None


def test_a_huge_body_without_a_token_is_413_before_a_byte_is_read(client: TestClient, session: Session) -> None:
    body = Body([b"{" * 1024])
    status, headers, payload = _call(
        "/api/v1/courses/1/groups", body, {"content-type": "application/json", "content-length": str(400 * MIB)}
    )
    assert (status, payload, body.pulled) == (
        413,
        {"error": "payload_too_large", "detail": "The request body is larger than this endpoint accepts (256 KiB)."},
        0,
    )
    assert headers["connection"] == "close"


def test_a_body_over_the_anonymous_limit_needs_a_valid_token_before_it_is_read(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    headers = auth(session, make_student(session, course))
    session.commit()  # called without the client: commit what the app must see
    session.commit()
    declared = {"content-type": "application/json", "content-length": str(100 * 1024)}
    anonymous = Body([b" " * 100 * 1024])
    status, response_headers, payload = _call(f"/api/v1/courses/{course.id}/groups", anonymous, declared)
    assert (status, payload, anonymous.pulled) == (
        401,
        {
            "error": "not_authenticated",
            "detail": "Log in first: a request without a valid token may carry at most 16 KiB.",
        },
        0,
    )
    assert response_headers["www-authenticate"] == "Bearer"
    bad_token = Body([b" " * 100 * 1024])
    assert (
        _call(f"/api/v1/courses/{course.id}/groups", bad_token, {**declared, "authorization": "Bearer forged"})[0]
        == 401
    )
    assert bad_token.pulled == 0
    logged_in = Body([b" " * 100 * 1024])
    status, _, payload = _call(f"/api/v1/courses/{course.id}/groups", logged_in, {**declared, **headers})
    assert (status, payload["error"], logged_in.pulled) == (422, "invalid", 1)  # read, then refused as bad JSON


def test_a_streamed_body_is_cut_off_at_the_limit(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_student(session, course))
    session.commit()  # called without the client: commit what the app must see
    session.commit()
    anonymous = Body([], endless=b" " * 1024)
    status, _, payload = _call(f"/api/v1/courses/{course.id}/groups", anonymous, {"content-type": "application/json"})
    assert (status, payload["error"], anonymous.pulled) == (401, "not_authenticated", 17)
    logged_in = Body([], endless=b" " * 1024)
    status, _, payload = _call(
        f"/api/v1/courses/{course.id}/groups", logged_in, {"content-type": "application/json", **headers}
    )
    assert (status, payload["error"], logged_in.pulled) == (413, "payload_too_large", 257)


def _staged_files() -> list[Path]:
    root = Path(get_settings().storage_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_stalled_upload_is_cut_off_and_leaves_no_file(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_UPLOAD_STALL_TIMEOUT_S", "0.2")
    get_settings.cache_clear()
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    make_topic(session, group, status="approved")
    headers = auth(session, student)
    session.commit()  # called without the client: commit what the app must see
    session.commit()
    pdf = tiny_pdf()
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + pdf[: len(pdf) // 2]
    )
    body = Body([head, None])
    status, _, payload = _call(
        f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
        body,
        {**headers, "content-type": "multipart/form-data; boundary=XyZ", "content-length": str(len(head) + 5000)},
    )
    assert (status, payload) == (
        408,
        {"error": "request_timeout", "detail": "The request body stopped arriving for 0.2 s; the request was cut off."},
    )
    assert _staged_files() == []


def test_answers_are_not_cached_or_sniffed(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    session.commit()
    for response in (
        client.get("/api/v1/me", headers=headers),
        client.get("/api/v1/me"),
        client.get("/api/v1/nowhere"),
        client.get("/ui/login"),
    ):
        assert (response.headers["cache-control"], response.headers["x-content-type-options"]) == (
            "no-store",
            "nosniff",
        )


def test_a_repeated_query_parameter_is_refused(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    session.commit()
    response = client.get("/api/v1/me?x=1&x=2", headers=headers)
    assert (response.status_code, response.json()) == (
        422,
        {
            "error": "invalid",
            "detail": "The query parameter 'x' is given more than once.",
            "field": "x",
            "errors": [{"field": "x", "message": "The query parameter 'x' is given more than once."}],
        },
    )


def _scope(client: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "client": (client, 1234),
        "scheme": "http",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    forwarded = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2", "x-forwarded-proto": "https"}
    trusted = frozenset({"10.0.0.1", "10.0.0.2"})
    behind = forwarded_scope(_scope("10.0.0.1", forwarded), trusted)
    assert (behind["client"], behind["scheme"]) == (("203.0.113.7", 0), "https")
    direct = forwarded_scope(_scope("198.51.100.9", forwarded), trusted)
    assert (direct["client"], direct["scheme"]) == (("198.51.100.9", 1234), "http")
    assert forwarded_scope(_scope("10.0.0.1", forwarded), frozenset())["client"] == ("10.0.0.1", 1234)


def test_session_cookies_are_secure_unless_turned_off(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(session, username="ada", password="correct horse")
    session.commit()
    monkeypatch.setenv("TRACKER_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    page = client.get("/ui/login")
    assert "; secure" in page.headers["set-cookie"].lower()
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.cookies.set("tracker_prelogin", page.cookies["tracker_prelogin"])
    response = client.post(
        "/ui/login", data={"username": "ada", "password": "correct horse", "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()


def test_feed_secrets_never_reach_the_access_log() -> None:
    import logging

    from app.logs import RedactFeedSecrets
    from app.main import app  # noqa: F401 (installs the filter)

    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactFeedSecrets) for f in access.filters)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/calendar/s3cr3t-T0ken_x.ics?x=1", "1.1", 200),
        None,
    )
    assert access.filters[0].filter(record) is True
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/calendar/[redacted].ics?x=1 HTTP/1.1" 200'
