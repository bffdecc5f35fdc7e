"""Infrastructure faults answer in JSON and leave nothing behind: database down, full disk, crash, bugs."""

import hashlib
import logging
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.db import alembic_config
from app.main import DB_RETRY_AFTER_S, ERR_DB_UNAVAILABLE, ERR_INTERNAL, create_app
from app.models import Submission
from app.storage import ERR_DISK_FULL, STAGED_PREFIX, LocalFileStore, staged_debris_remove
from tests.factories import auth, make_course, make_group, make_student, make_topic, make_user
from tests.server import ROOT, Server, free_port, running_server
from tests.submissions.pdfs import tiny_pdf

PG_BIN = "/usr/lib/postgresql/15/bin"


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.getuid() == 0 else list(args)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Path, int]]:
    """A PostgreSQL server of this test's own, which it may stop and start: (URL of a migrated db, dir, port)."""
    pg_dir = Path(tempfile.mkdtemp(prefix="tracker-pg-fault-"))  # outside pytest's 0700 folder: postgres reads it
    url = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        db_url = url.rsplit("/", 1)[0] + "/postgres"
        command.upgrade(alembic_config(db_url), "head")
        yield db_url, pg_dir, int(url.rsplit(":", 1)[1].split("/")[0])
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False)


def _pg_ctl(pg_dir: Path, action: str, port: int) -> None:
    options = ["-o", f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={pg_dir}"]
    subprocess.run(
        _as_postgres(
            f"{PG_BIN}/pg_ctl",
            "-D",
            str(pg_dir / "data"),
            "-l",
            str(pg_dir / "server.log"),
            "-w",
            "-m",
            "fast",
            action,
            *(options if action == "start" else []),
        ),
        check=True,
        capture_output=True,
    )


def test_database_down_answers_json_503_then_recovers(own_postgres: tuple[str, Path, int], tmp_path: Path) -> None:
    db_url, pg_dir, port = own_postgres
    from app.db import make_engine

    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        headers = auth(session, make_user(session))
    engine.dispose()
    env = {"TRACKER_DATABASE_URL": db_url, "TRACKER_STORAGE_DIR": str(tmp_path / "files")}
    with running_server(env) as server:
        assert httpx.get(f"{server.base}/api/v1/me", headers=headers, timeout=30).status_code == 200
        _pg_ctl(pg_dir, "stop", port)
        down = httpx.get(f"{server.base}/api/v1/me", headers=headers, timeout=30)
        _pg_ctl(pg_dir, "start", port)
        statuses = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses.append(httpx.get(f"{server.base}/api/v1/me", headers=headers, timeout=30).status_code)
            if statuses[-1] == 200:
                break
            time.sleep(0.2)
    assert down.status_code == 503
    assert down.headers["retry-after"] == str(DB_RETRY_AFTER_S)
    assert down.json() == {"error": "database_unavailable", "detail": ERR_DB_UNAVAILABLE}
    assert statuses[-1] == 200  # the same process serves again once the database is back
    assert set(statuses[:-1]) <= {503}


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The storage folder on a real 1 MiB file system (tmpfs), so writing past it fails with ENOSPC."""
    root = tmp_path / "small"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True)
    assert mounted.returncode == 0, f"mounting a tmpfs needs root: {mounted.stderr!r}"
    monkeypatch.setenv("TRACKER_STORAGE_DIR", str(root))
    get_settings.cache_clear()
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)
        get_settings.cache_clear()


def test_a_full_disk_answers_json_507_and_keeps_nothing(client: TestClient, session: Session, full_disk: Path) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    make_topic(session, group)
    headers = auth(session, student)
    big = tiny_pdf() + b"%" + os.urandom(2 * 1024 * 1024)  # 2 MiB on a 1 MiB file system
    response = client.post(
        f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
        headers=headers,
        files={"file": ("big.pdf", big, "application/pdf")},
    )
    assert response.status_code == 507
    assert response.json() == {"error": "insufficient_storage", "detail": ERR_DISK_FULL}
    assert sorted(p.name for p in full_disk.iterdir()) == []
    assert session.exec(select(Submission)).all() == []
    session.commit()  # end the test's own read: its session takes the SQLite write lock
    pdf = tiny_pdf()
    small = client.post(
        f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
        headers=headers,
        files={"file": ("small.pdf", pdf, "application/pdf")},
    )
    assert small.status_code == 201  # the space was given back
    assert sorted(p.name for p in full_disk.iterdir()) == [hashlib.sha256(pdf).hexdigest()]


def test_an_unexpected_error_is_json_500_with_an_error_id_that_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with caplog.at_level(logging.ERROR, logger="app.errors"), TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    body = response.json()
    assert response.status_code == 500
    assert body == {"error": "internal_error", "detail": ERR_INTERNAL, "error_id": body["error_id"]}
    assert len(body["error_id"]) == 12
    logged = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and str(logged[0].exc_info[1]) == "a bug"


def _slow_upload(port: int, url: str, token: str, head: bytes) -> socket.socket:
    """Start an upload and send only part of its body, so the server holds a staged file."""
    boundary = "tracker-boundary"
    preamble = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    headers = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(headers + preamble + head)
    return sock


def test_a_restart_after_kill_9_during_uploads_leaves_no_staged_file(db_url: str, session: Session) -> None:
    course = make_course(session)
    students = [make_student(session, course) for _ in range(3)]
    group = make_group(session, course, members=students)
    make_topic(session, group)
    tokens = [auth(session, s)["Authorization"].split()[1] for s in students]
    storage = Path(get_settings().storage_dir)
    env = {"TRACKER_DATABASE_URL": db_url, "TRACKER_STORAGE_DIR": str(storage)}
    url = f"/api/v1/groups/{group.id}/milestones/proposal/submissions"
    port = free_port()
    server = Server(env, port)
    try:
        server.wait_ready()
        sockets = [_slow_upload(port, url, t, tiny_pdf() + os.urandom(300_000)) for t in tokens]
        deadline = time.monotonic() + 30
        while len(list(storage.glob(f"{STAGED_PREFIX}*"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        staged_before = sorted(p.name for p in storage.glob(f"{STAGED_PREFIX}*"))
        server.kill9()
        staged_after_crash = sorted(p.name for p in storage.glob(f"{STAGED_PREFIX}*"))
        for sock in sockets:
            sock.close()
    finally:
        server.stop()
    pdf = tiny_pdf()
    with running_server(env, port) as restarted:
        left = sorted(p.name for p in storage.glob(f"{STAGED_PREFIX}*"))
        response = httpx.post(
            f"{restarted.base}{url}",
            headers={"Authorization": f"Bearer {tokens[0]}"},
            files={"file": ("p.pdf", pdf, "application/pdf")},
            timeout=60,
        )
    assert len(staged_before) == 3
    assert staged_after_crash == staged_before  # the crash itself cleans nothing
    assert left == []
    assert response.status_code == 201
    assert sorted(p.name for p in storage.iterdir()) == [hashlib.sha256(pdf).hexdigest()]


def test_start_up_keeps_the_staged_files_of_live_processes(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    names = {
        "live": f"{STAGED_PREFIX}{os.getppid()}-abc",  # another live server process's upload
        "dead": f"{STAGED_PREFIX}{dead.pid}-def",
        "mine": f"{STAGED_PREFIX}{os.getpid()}-ghi",  # at start-up this process owns nothing yet
        "legacy": f"{STAGED_PREFIX}k2j4h5g6",  # named before staged files carried their process
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"%PDF-")
    (tmp_path / ("a" * 64)).write_bytes(b"%PDF-")
    removed = staged_debris_remove(store)
    assert removed == sorted([names["dead"], names["mine"], names["legacy"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names["live"], "a" * 64])
