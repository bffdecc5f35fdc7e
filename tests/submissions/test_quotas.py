"""Per-group quotas: versions per milestone (409) and stored bytes (413); a refused upload leaves nothing."""

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.models import Submission
from app.submissions.service import ERR_STORAGE_QUOTA, ERR_VERSION_QUOTA
from tests.conftest import FakeClock
from tests.factories import auth, make_course, make_group, make_student, make_topic
from tests.submissions.pdfs import tiny_pdf

RECEIVED = datetime(2026, 10, 30, 4, 0, tzinfo=UTC)


def _files() -> list[str]:
    root = Path(get_settings().storage_dir)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _setup(session: Session, **settings: int) -> tuple[str, dict[str, str]]:
    course = make_course(session, **settings)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    make_topic(session, group, status="approved")
    headers = auth(session, student)
    session.commit()
    return f"/api/v1/groups/{group.id}/milestones/proposal/submissions", headers


def _upload(client: TestClient, url: str, headers: dict[str, str], data: bytes) -> object:
    return client.post(url, headers=headers, files={"file": ("p.pdf", data, "application/pdf")})


def test_versions_beyond_the_quota_are_409(client: TestClient, session: Session, clock: FakeClock) -> None:
    clock.set(RECEIVED)
    url, headers = _setup(session, max_versions_per_milestone=2)
    assert [_upload(client, url, headers, tiny_pdf(text=f"v{n}")).status_code for n in range(2)] == [201, 201]
    files = _files()
    third = _upload(client, url, headers, tiny_pdf(text="v3"))
    assert (third.status_code, third.json()) == (
        409,
        {"error": "version_quota", "detail": ERR_VERSION_QUOTA.format(limit=2)},
    )
    assert len(session.exec(select(Submission)).all()) == 2
    session.commit()
    assert _files() == files


def test_bytes_beyond_the_groups_storage_quota_are_413_and_leave_no_file(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    clock.set(RECEIVED)
    url, headers = _setup(session, max_group_storage_mb=1)
    padded = tiny_pdf() + b"%" * 600_000
    assert _upload(client, url, headers, padded).status_code == 201
    files = _files()
    second = _upload(client, url, headers, tiny_pdf(text="other") + b"%" * 600_000)
    assert (second.status_code, second.json()) == (
        413,
        {"error": "storage_quota", "detail": ERR_STORAGE_QUOTA.format(limit=1)},
    )
    assert [s.version for s in session.exec(select(Submission)).all()] == [1]
    session.commit()  # end the read: on SQLite it holds the write lock
    assert _files() == files
    assert _upload(client, url, headers, tiny_pdf(text="small")).status_code == 201  # room left for a small one
