"""Uploading versions: refusal rules in order, body checks, storage by hash, nothing left by failures."""

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.groups.service import ERR_GROUP_TOO_SMALL
from app.models import AuditEvent, Course, GroupMembership, Milestone, ProjectGroup, Submission, User
from app.storage import ERR_EMPTY, ERR_NOT_PDF, err_too_large, get_store
from app.submissions.service import (
    ERR_FORMAT_BLOCKS,
    ERR_MEMBERS_ONLY,
    ERR_SELECTION_NOT_PUBLISHED,
    ERR_TOPIC_NOT_APPROVED,
)
from app.submissions.upload import ERR_BAD_MULTIPART, ERR_INTERRUPTED, ERR_NO_FILE
from tests.conftest import FakeClock
from tests.factories import T0, auth, make_course, make_group, make_staff, make_student, make_topic, make_user
from tests.stores import names
from tests.submissions.pdfs import A0_PORTRAIT_MM, tiny_pdf

RECEIVED = datetime(2026, 10, 30, 4, 0, tzinfo=UTC)  # two days before the proposal deadline


# Every test here runs on both store backends (a local folder, the S3 server).
pytestmark = pytest.mark.usefixtures("store")


def _stored_files() -> list[str]:
    """Everything in the store: stored files and any staged leftover."""
    return names(get_store())


def _download(client: TestClient, submission_id: int, headers: dict[str, str]) -> tuple[int, bytes, str, str]:
    """Status, bytes, type and disposition of a download, following a redirect to the object store."""
    response = client.get(f"/api/v1/submissions/{submission_id}/file", headers=headers, follow_redirects=False)
    if response.status_code == 307:
        assert response.headers["cache-control"] == "private, no-store"
        response = httpx.get(response.headers["location"])
    return (
        response.status_code,
        response.content,
        response.headers.get("content-type", ""),
        response.headers.get("content-disposition", ""),
    )


def _url(group: ProjectGroup, key: str = "proposal") -> str:
    return f"/api/v1/groups/{group.id}/milestones/{key}/submissions"


def _setup(
    session: Session, *, topic: str | None = "approved", size: int = 3, **course_settings: Any
) -> tuple[Course, ProjectGroup, User, dict[str, str]]:
    course = make_course(session, **course_settings)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=size - 1)
    if topic:
        make_topic(session, group, status=topic)
    return course, group, student, auth(session, student)


def _upload(client: TestClient, url: str, headers: dict[str, str], data: bytes, name: str = "proposal.pdf") -> Any:
    return client.post(url, headers=headers, files={"file": (name, data, "application/pdf")})


def _rows(session: Session) -> list[tuple[int, int]]:
    rows = session.exec(select(Submission.group_id, Submission.version).order_by(Submission.id)).all()  # type: ignore[arg-type]
    session.commit()  # end the read: on SQLite it holds the write lock
    return [(g, v) for g, v in rows]


def test_upload_stores_the_version_by_hash_with_report_and_lateness(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    _, group, student, headers = _setup(session)
    clock.set(RECEIVED)
    pdf = tiny_pdf()
    digest = hashlib.sha256(pdf).hexdigest()
    response = _upload(client, _url(group), headers, pdf)
    assert response.status_code == 201
    body = response.json()
    report = body.pop("format_report")
    sub = session.exec(select(Submission)).one()
    session.commit()
    assert body == {
        "id": sub.id,
        "group_id": group.id,
        "milestone": "proposal",
        "version": 1,
        "filename": "proposal.pdf",
        "uploader_id": student.id,
        "received_at": "2026-10-30T12:00:00+08:00",
        "size_bytes": len(pdf),
        "sha256": digest,
        "ruleset": "proposal",
        "verdict": "accept",
        "deadline": "2026-11-01T23:59:00+08:00",
        "late_by_seconds": 0.0,
        "multiplier": 1.0,
        "graded": True,
        "pinned": False,
        "notice": None,
        "recheck_report": None,
        "rechecked_at": None,
    }
    assert (report["ruleset"], report["verdict"], report["pages"], report["errors"]) == ("proposal", "accept", 1, [])
    assert sub.format_report == report
    assert _stored_files() == [digest]
    with get_store().open(digest) as stored:
        assert stored.read() == pdf
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "submission.create")).one()
    assert audit.after == {
        "group_id": group.id,
        "milestone": "proposal",
        "version": 1,
        "sha256": digest,
        "size_bytes": len(pdf),
        "verdict": "accept",
    }
    session.commit()


def test_versions_number_up_and_the_latest_is_graded(client: TestClient, session: Session, clock: FakeClock) -> None:
    _, group, _, headers = _setup(session)
    clock.set(RECEIVED)
    for n in range(3):
        assert _upload(client, _url(group), headers, tiny_pdf(text=f"draft {n}")).json()["version"] == n + 1
        clock.advance(hours=1)
    listed = client.get(_url(group), headers=headers).json()
    assert [(v["version"], v["received_at"], v["graded"]) for v in listed] == [
        (1, "2026-10-30T12:00:00+08:00", False),
        (2, "2026-10-30T13:00:00+08:00", False),
        (3, "2026-10-30T14:00:00+08:00", True),
    ]
    assert len(set(_stored_files())) == 3


def test_same_bytes_twice_share_one_file(client: TestClient, session: Session, clock: FakeClock) -> None:
    _, group, _, headers = _setup(session)
    pdf = tiny_pdf()
    assert [_upload(client, _url(group), headers, pdf).json()["version"] for _ in range(2)] == [1, 2]
    assert _stored_files() == [hashlib.sha256(pdf).hexdigest()]


def test_refusals_come_in_order_visibility_size_topic(client: TestClient, session: Session) -> None:
    course, group, _, headers = _setup(session, topic="proposed", size=2)
    outsider = make_student(session, course)
    ta = make_staff(session, course)
    not_a_pdf = b"hello"
    hidden = _upload(client, _url(group), auth(session, outsider), not_a_pdf)
    assert (hidden.status_code, hidden.json()) == (404, {"error": "not_found", "detail": "No such group."})
    by_staff = _upload(client, _url(group), auth(session, ta), not_a_pdf)
    assert (by_staff.status_code, by_staff.json()) == (403, {"error": "forbidden", "detail": ERR_MEMBERS_ONLY})
    small = _upload(client, _url(group), headers, not_a_pdf)
    assert (small.status_code, small.json()) == (409, {"error": "group_too_small", "detail": ERR_GROUP_TOO_SMALL})
    session.add(
        GroupMembership(
            group_id=group.id,
            course_id=course.id,  # type: ignore[arg-type]
            user_id=make_student(session, course).id,
            joined_at=T0,
        )
    )
    session.commit()
    topic = _upload(client, _url(group), headers, not_a_pdf)
    assert (topic.status_code, topic.json()) == (409, {"error": "topic_not_approved", "detail": ERR_TOPIC_NOT_APPROVED})
    report = _upload(client, _url(group, "report"), headers, not_a_pdf)  # no approved topic needed
    assert (report.status_code, report.json()) == (415, {"error": "unsupported_media_type", "detail": ERR_NOT_PDF})
    unknown = _upload(client, _url(group, "thesis"), headers, not_a_pdf)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "not_found", "detail": "No such milestone."})
    assert _rows(session) == []
    assert _stored_files() == []


def test_final_waits_for_the_selection_then_checks_slides_or_poster(client: TestClient, session: Session) -> None:
    _, group, _, headers = _setup(session)
    closed = _upload(client, _url(group, "final"), headers, tiny_pdf(size=A0_PORTRAIT_MM))
    assert (closed.status_code, closed.json()) == (
        409,
        {"error": "selection_not_published", "detail": ERR_SELECTION_NOT_PUBLISHED},
    )
    group.deliverable = "poster"
    session.add(group)
    session.commit()
    poster = _upload(client, _url(group, "final"), headers, tiny_pdf(size=A0_PORTRAIT_MM), name="poster.pdf")
    assert poster.status_code == 201
    assert (poster.json()["ruleset"], poster.json()["verdict"]) == ("poster", "accept")
    assert poster.json()["deadline"] == "2026-12-27T23:59:00+08:00"
    letter = _upload(client, _url(group, "final"), headers, tiny_pdf(), name="poster.pdf").json()
    assert (letter["version"], letter["verdict"], [e["code"] for e in letter["format_report"]["errors"]]) == (
        2,
        "reject",
        ["poster-size"],
    )
    group.deliverable = "slides"
    session.add(group)
    session.commit()
    slides = _upload(client, _url(group, "final"), headers, tiny_pdf(pages=12), name="slides.pdf").json()
    assert (slides["version"], slides["ruleset"], slides["verdict"]) == (3, "slides", "accept")


def test_blocking_format_errors_refuse_the_upload(client: TestClient, session: Session) -> None:
    course, group, _, headers = _setup(session)
    milestone = session.exec(
        select(Milestone).where(Milestone.course_id == course.id, Milestone.key == "proposal")
    ).one()
    milestone.errors_block = True
    session.add(milestone)
    session.commit()
    refused = _upload(client, _url(group), headers, tiny_pdf(pages=5))
    assert refused.status_code == 422
    assert refused.json() == {"error": "format_errors", "detail": f"{ERR_FORMAT_BLOCKS}: page-limit.", "field": "file"}
    assert (_rows(session), _stored_files()) == ([], [])
    assert _upload(client, _url(group), headers, tiny_pdf(pages=3)).status_code == 201


def test_wrong_type_and_empty_leave_nothing(client: TestClient, session: Session) -> None:
    _, group, _, headers = _setup(session)
    wrong = _upload(client, _url(group), headers, b"\x89PNG\r\n\x1a\n" + b"\0" * 5000, name="photo.png")
    assert (wrong.status_code, wrong.json()) == (415, {"error": "unsupported_media_type", "detail": ERR_NOT_PDF})
    short = _upload(client, _url(group), headers, b"%PD")
    assert short.status_code == 415
    empty = _upload(client, _url(group), headers, b"")
    assert (empty.status_code, empty.json()) == (400, {"error": "empty_upload", "detail": ERR_EMPTY})
    missing = client.post(
        _url(group),
        headers=headers,
        data={"note": "no file"},
        files={"other": ("x.pdf", tiny_pdf(), "application/pdf")},
    )
    assert (missing.status_code, missing.json()) == (422, {"error": "invalid", "detail": ERR_NO_FILE, "field": "file"})
    assert (_rows(session), _stored_files()) == ([], [])


def test_too_large_is_413_early_and_while_streaming(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, group, _, headers = _setup(session)
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    limit = 1024 * 1024
    padded = tiny_pdf() + b"%" * (limit + 10 - len(tiny_pdf()))  # just over: caught while streaming
    over = _upload(client, _url(group), headers, padded)
    assert (over.status_code, over.json()) == (413, {"error": "payload_too_large", "detail": err_too_large(limit)})
    huge = _upload(client, _url(group), headers, padded + b"%" * limit)  # refused on Content-Length alone
    assert (huge.status_code, huge.json()) == (413, {"error": "payload_too_large", "detail": err_too_large(limit)})
    at_limit = tiny_pdf() + b"%" * (limit - len(tiny_pdf()))
    assert _upload(client, _url(group), headers, at_limit).json()["size_bytes"] == limit
    assert _rows(session) == [(group.id or 0, 1)]
    assert _stored_files() == [hashlib.sha256(at_limit).hexdigest()]


def test_client_gone_mid_stream_leaves_nothing(client: TestClient, session: Session, clock: FakeClock) -> None:
    _, group, _, headers = _setup(session)
    from app.main import app

    boundary = "tracker-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    pdf = tiny_pdf()
    messages = [{"type": "http.request", "body": head + pdf[:400], "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": _url(group),
        "raw_path": _url(group).encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", headers["Authorization"].encode()),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"content-length", str(len(head) + len(pdf) + 100).encode()),
        ],
    }
    session.commit()  # called without the client: commit what the app must see
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert ERR_INTERRUPTED.encode() in sent[1]["body"]
    assert (_rows(session), _stored_files()) == ([], [])


def test_download_for_members_and_staff_only(client: TestClient, session: Session) -> None:
    course, group, _, headers = _setup(session)
    pdf = tiny_pdf()
    sub_id = _upload(client, _url(group), headers, pdf, name="Our proposal.pdf").json()["id"]
    expected = (200, pdf, "application/pdf", "attachment; filename*=utf-8''Our%20proposal.pdf")
    assert _download(client, sub_id, headers) == expected
    ta = make_staff(session, course)
    assert _download(client, sub_id, auth(session, ta)) == expected
    other = make_student(session, course)
    hidden = client.get(f"/api/v1/submissions/{sub_id}/file", headers=auth(session, other))
    assert (hidden.status_code, hidden.json()) == (404, {"error": "not_found", "detail": "No such submission."})
    stranger = client.get(f"/api/v1/submissions/{sub_id}/file", headers=auth(session, make_user(session)))
    assert stranger.status_code == 404


def test_dry_run_check_stores_nothing(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    response = client.post(
        "/api/v1/check?ruleset=proposal",
        headers=headers,
        files={"file": ("p.pdf", tiny_pdf(pages=4), "application/pdf")},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["ruleset"], body["verdict"], body["pages"], [e["code"] for e in body["errors"]]) == (
        "proposal",
        "reject",
        4,
        ["page-limit"],
    )
    bad = client.post(
        "/api/v1/check?ruleset=final", headers=headers, files={"file": ("p.pdf", tiny_pdf(), "application/pdf")}
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "ruleset")
    not_pdf = client.post(
        "/api/v1/check?ruleset=poster", headers=headers, files={"file": ("p.txt", b"plain text", "text/plain")}
    )
    assert not_pdf.status_code == 415
    assert (_rows(session), _stored_files()) == ([], [])


def test_upload_and_check_need_a_login(client: TestClient, session: Session) -> None:
    _, group, _, _ = _setup(session)
    for url in (_url(group), "/api/v1/check?ruleset=report"):
        response = _upload(client, url, {}, tiny_pdf())
        assert (response.status_code, response.json()["error"]) == (401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert (_rows(session), _stored_files()) == ([], [])


def test_ids_beyond_the_id_column_are_404_or_422_not_a_crash(client: TestClient, session: Session) -> None:
    course, group, _, _ = _setup(session)
    headers = auth(session, make_staff(session, course))
    huge = 2**70  # SQLite cannot even bind it
    download = client.get(f"/api/v1/submissions/{huge}/file", headers=headers)
    assert (download.status_code, download.json()) == (404, {"error": "not_found", "detail": "No such submission."})
    listed = client.get(f"/api/v1/groups/{huge}/milestones/proposal/submissions", headers=headers)
    assert listed.status_code == 404
    pin = client.post(
        f"/api/v1/groups/{group.id}/milestones/proposal/graded", json={"submission_id": huge}, headers=headers
    )
    assert (pin.status_code, pin.json()["field"]) == (422, "submission_id")


def test_a_body_cut_before_the_closing_boundary_is_400_and_leaves_nothing(client: TestClient, session: Session) -> None:
    _, group, _, headers = _setup(session)
    boundary = "tracker-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    pdf = tiny_pdf()
    content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    for body in (head + pdf[:400], head + pdf + f"\r\n--{boundary}\r\n".encode()):
        cut = client.post(_url(group), headers={**headers, **content_type}, content=body)
        assert (cut.status_code, cut.json()) == (400, {"error": "bad_multipart", "detail": ERR_BAD_MULTIPART})
    assert (_rows(session), _stored_files()) == ([], [])
    whole = client.post(
        _url(group), headers={**headers, **content_type}, content=head + pdf + f"\r\n--{boundary}--\r\n".encode()
    )
    assert whole.status_code == 201


def test_a_boundary_the_parser_refuses_is_400(client: TestClient, session: Session) -> None:
    _, group, _, headers = _setup(session)
    boundary = "b" * 300  # RFC 2046 allows 70; python-multipart refuses more than 256 when built
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n\r\n'.encode()
        + tiny_pdf()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        _url(group), content=body, headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert (response.status_code, response.json()) == (400, {"error": "bad_multipart", "detail": ERR_BAD_MULTIPART})
    assert (_rows(session), _stored_files()) == ([], [])
