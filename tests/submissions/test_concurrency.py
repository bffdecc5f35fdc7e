"""Members uploading at the same moment: every version is kept, with distinct numbers."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.models import Submission
from app.storage import FileStore, get_store
from app.submissions.checkqueue import get_check_queue
from tests.factories import auth, make_course, make_group, make_student, make_topic
from tests.stores import names
from tests.submissions.pdfs import tiny_pdf


@pytest.fixture
def three_checks_each(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each member sends three uploads at once: allow three checks per user (the default is two)."""
    monkeypatch.setenv("TRACKER_CHECK_PER_USER", "3")
    get_settings.cache_clear()
    get_check_queue.cache_clear()
    yield
    get_settings.cache_clear()
    get_check_queue.cache_clear()


@pytest.mark.postgres_only
@pytest.mark.usefixtures("three_checks_each")
def test_concurrent_uploads_keep_every_version(
    client: TestClient, session: Session, backend: str, store: FileStore
) -> None:
    course = make_course(session)
    members = [make_student(session, course) for _ in range(4)]
    group = make_group(session, course, members=members)
    make_topic(session, group)
    headers = [auth(session, m) for m in members]
    url = f"/api/v1/groups/{group.id}/milestones/proposal/submissions"
    uploads = 12
    barrier = threading.Barrier(uploads)

    def upload(n: int) -> int:
        pdf = tiny_pdf(text=f"draft {n}")
        barrier.wait()
        response = client.post(url, headers=headers[n % 4], files={"file": ("p.pdf", pdf, "application/pdf")})
        assert response.status_code == 201, response.text
        return response.json()["version"]

    with ThreadPoolExecutor(max_workers=uploads) as pool:
        versions = list(pool.map(upload, range(uploads)))
    assert sorted(versions) == list(range(1, uploads + 1))
    rows = session.exec(select(Submission.version, Submission.uploader_id, Submission.sha256)).all()
    assert sorted(v for v, _, _ in rows) == list(range(1, uploads + 1))
    assert {u for _, u, _ in rows} == {m.id for m in members}
    stored = names(get_store())
    assert stored == sorted({sha for _, _, sha in rows})
    assert len(stored) == uploads
