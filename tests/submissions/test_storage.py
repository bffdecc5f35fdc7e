"""The file store on both backends (local folder, S3 server): streaming, commit by hash, reading, cleanup."""

import hashlib
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.deps import staged_upload
from app.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from app.models import Submission
from app.storage import STAGED_PREFIX, FileStore, LocalFileStore, get_store, parse_storage_url, staged_debris_remove
from app.storage.s3 import ERR_STORE_UNAVAILABLE, S3FileStore
from tests.factories import auth, make_course, make_group, make_student, make_submission, make_topic
from tests.stores import free_port, names, put, use_s3
from tests.submissions.pdfs import tiny_pdf

PDF = b"%PDF-1.7\n" + b"x" * 1000 + b"\n%%EOF\n"
DIGEST = hashlib.sha256(PDF).hexdigest()


def test_chunks_are_hashed_staged_locally_and_committed_under_the_hash(store: FileStore) -> None:
    staged = store.stage(max_bytes=10_000)
    for start in range(0, len(PDF), 7):
        staged.write(PDF[start : start + 7])
    staged.finish()
    assert staged.path.read_bytes() == PDF  # the checker reads this local file
    assert [n.startswith(".upload-") for n in names(store)] == [True]
    assert store.exists(DIGEST) is False
    staged.commit()
    staged.discard()
    assert (staged.size, staged.sha256, staged.created, names(store)) == (len(PDF), DIGEST, True, [DIGEST])
    with store.open(DIGEST) as handle:
        assert handle.read() == PDF
    assert store.exists(DIGEST) is True


def test_refusals_while_streaming_leave_nothing(store: FileStore) -> None:
    with pytest.raises(UnsupportedMediaType):
        store.stage(max_bytes=100).write(b"GIF89a")
    split = store.stage(max_bytes=100)
    split.write(b"%P")
    with pytest.raises(UnsupportedMediaType):
        split.write(b"NG")
    split.discard()
    big = store.stage(max_bytes=100)
    big.write(PDF[:60])
    with pytest.raises(PayloadTooLarge):
        big.write(PDF[60:101])
    big.discard()
    with pytest.raises(BadRequest):
        store.stage(max_bytes=100).finish()
    assert names(store) == []


def test_the_same_bytes_twice_are_stored_once(store: FileStore) -> None:
    first, second = put(store, PDF), put(store, PDF)
    assert (first.created, second.created) == (True, False)
    assert names(store) == [DIGEST]


def test_a_local_copy_holds_the_bytes_and_is_removed_after_use(store: FileStore) -> None:
    put(store, PDF)
    with store.local_copy(DIGEST) as path:
        assert path.read_bytes() == PDF
    # The local folder hands out the stored file itself; S3 a temporary download, gone now.
    assert path.exists() is isinstance(store, LocalFileStore)
    assert names(store) == [DIGEST]
    with pytest.raises(FileNotFoundError), store.local_copy("0" * 64):
        pass
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)
    with pytest.raises(ValueError, match="not a SHA-256 hex digest"):
        store.open("../etc/passwd")


def test_a_failure_between_staging_and_commit_leaves_nothing(store: FileStore, session: Session) -> None:
    request = staged_upload(store, get_settings())
    staged = next(request)
    staged.write(PDF)
    staged.finish()
    with pytest.raises(RuntimeError):
        request.throw(RuntimeError("the format check failed"))
    assert names(store) == []


def test_a_failure_after_commit_removes_only_what_no_row_names(store: FileStore, session: Session) -> None:
    request = staged_upload(store, get_settings())
    staged = next(request)
    staged.write(PDF)
    staged.finish()
    staged.commit()
    with pytest.raises(RuntimeError):
        request.throw(RuntimeError("the row's commit failed"))
    assert names(store) == []
    # Another upload's row names the same bytes: a failed upload that stored them must leave them.
    group = make_group(session, make_course(session), size=3)
    make_submission(session, group, "report", received_at=datetime(2026, 12, 1, tzinfo=UTC), sha256=DIGEST)
    session.commit()
    again = staged_upload(store, get_settings())
    second = next(again)
    second.write(PDF)
    second.finish()
    second.commit()
    assert second.created is True
    with pytest.raises(RuntimeError):
        again.throw(RuntimeError("the row's commit failed"))
    assert names(store) == [DIGEST]


def test_a_download_url_serves_the_pdf_under_its_name_for_a_short_while(store: FileStore) -> None:
    put(store, PDF)
    before = datetime.now(UTC).replace(microsecond=0)
    url = store.presigned_url(DIGEST, filename="Our report.pdf")
    after = datetime.now(UTC)
    if isinstance(store, LocalFileStore):
        assert url is None  # the application serves local files itself
        return
    assert url is not None
    response = httpx.get(url)
    assert (response.status_code, response.content) == (200, PDF)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment; filename*=utf-8''Our%20report.pdf"
    query = parse_qs(urlsplit(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= after
    assert query["X-Amz-Expires"] == [str(get_settings().s3_url_ttl_s)] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    inline = store.presigned_url(DIGEST, filename="rapport-été.pdf", inline=True)
    assert inline is not None
    assert httpx.get(inline).headers["content-disposition"] == "inline; filename*=utf-8''rapport-%C3%A9t%C3%A9.pdf"


def test_large_files_go_up_in_parts(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = use_s3(monkeypatch, s3_endpoint, tmp_path / "staging", s3_multipart_threshold_mb="5")
    store = get_store()
    assert isinstance(store, S3FileStore)
    data = b"%PDF-1.7\n" + bytes(range(256)) * (11 * 4096)  # 11 MiB: parts of 5, 5 and 1 MiB
    staged = put(store, data)
    head = store.client.head_object(Bucket=bucket, Key=f"files/{staged.sha256}")
    assert (head["ContentLength"], head["ETag"].strip('"').endswith("-3")) == (len(data), True)
    assert head["ContentType"] == "application/pdf"
    with store.open(staged.sha256) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == staged.sha256
    assert names(store) == [staged.sha256]
    assert list((tmp_path / "staging").iterdir()) == []


def test_storage_urls_name_the_backend() -> None:
    assert parse_storage_url("file:///var/lib/tracker/files") == ("file", "", "/var/lib/tracker/files")
    assert parse_storage_url("./var/files") == ("file", "", "./var/files")
    assert parse_storage_url("s3://course-files/tracker/prod/") == ("s3", "course-files", "tracker/prod")
    assert parse_storage_url("s3://course-files") == ("s3", "course-files", "")
    for bad in ("s3://", "http://example.org/x", "file://otherhost/x", "//host/share"):
        with pytest.raises(ValueError, match="TRACKER_STORAGE_URL must be"):
            parse_storage_url(bad)


def test_the_store_probe_writes_and_leaves_nothing(store: FileStore) -> None:
    store.probe()
    assert names(store) == []


def test_start_up_removes_the_local_staged_files_of_dead_processes_on_each_store(store: FileStore) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = store.staging_folder
    folder.mkdir(parents=True, exist_ok=True)
    live, gone = f"{STAGED_PREFIX}{os.getppid()}-abc", f"{STAGED_PREFIX}{dead.pid}-def"
    for name in (live, gone):
        (folder / name).write_bytes(b"%PDF-")
    assert staged_debris_remove(store) == [gone]
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(STAGED_PREFIX)) == [live]


def test_an_unreachable_s3_server_answers_json_503_and_keeps_nothing(
    client: TestClient, session: Session, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = tmp_path / "staging"
    use_s3(monkeypatch, s3_endpoint, staging)
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    make_topic(session, group)
    headers = auth(session, student)
    session.commit()
    monkeypatch.setenv("TRACKER_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    get_settings.cache_clear()
    response = client.post(
        f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
        headers=headers,
        files={"file": ("p.pdf", tiny_pdf(), "application/pdf")},
    )
    assert (response.status_code, response.json(), response.headers["retry-after"]) == (
        503,
        {"error": "store_unavailable", "detail": ERR_STORE_UNAVAILABLE},
        "5",
    )
    assert session.exec(select(Submission)).all() == []
    assert list(staging.iterdir()) == []
