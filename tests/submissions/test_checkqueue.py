"""Fair format checking: a per-user cap (429), uploads first, and waiting that holds no thread."""

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.errors import BadRequest, TooManyRequests
from app.formatcheck import isolate
from app.formatcheck.isolate import OVERLOAD_FACTOR, CheckOverloaded, WorkerPool, _Worker, check_pdf_isolated
from app.models import Submission
from app.submissions.checkqueue import (
    DRY_RUN,
    ERR_CLIENT_GONE,
    UPLOAD,
    CheckQueue,
    err_too_many_checks,
    get_check_queue,
)
from app.submissions.service import CHECK_BUSY_RETRY_S, ERR_CHECK_BUSY
from tests.factories import auth, make_course, make_group, make_student, make_topic, make_user
from tests.submissions.pdfs import tiny_pdf


def test_a_user_gets_429_past_their_cap_and_others_are_not_affected() -> None:
    queue = CheckQueue(workers=2, per_user=2)
    queue.admit(1)
    queue.admit(1)
    with pytest.raises(TooManyRequests) as refused:
        queue.admit(1)
    assert (refused.value.status_code, refused.value.code, refused.value.detail, refused.value.retry_after) == (
        429,
        "too_many_checks",
        err_too_many_checks(2),
        5,
    )
    queue.admit(2)
    queue.leave(1)
    queue.admit(1)
    assert (queue.in_progress(1), queue.in_progress(2)) == (2, 1)


def test_uploads_go_before_dry_runs_and_dry_runs_leave_a_worker_free() -> None:
    async def scenario() -> list[str]:
        queue = CheckQueue(workers=2, per_user=10)
        order: list[str] = []
        release = asyncio.Event()

        def work(name: str) -> None:
            order.append(name)

        async def blocker() -> None:
            await queue._acquire(DRY_RUN)  # one dry run holds a worker until released
            order.append("dry-0")
            await release.wait()
            queue._release(DRY_RUN)

        holder = asyncio.create_task(blocker())
        await asyncio.sleep(0)
        dry = [asyncio.create_task(queue.run(work, priority=DRY_RUN, name=f"dry-{i}")) for i in (1, 2)]
        await asyncio.sleep(0.05)
        assert (queue.running, queue.waiting) == (1, 2)  # dry runs may not take the last worker
        upload = asyncio.create_task(queue.run(work, priority=UPLOAD, name="upload"))
        await upload  # the free worker goes to the upload at once
        release.set()
        await asyncio.gather(holder, *dry)
        assert (queue.running, queue.waiting) == (0, 0)
        return order

    assert asyncio.run(scenario()) == ["dry-0", "upload", "dry-1", "dry-2"]


def test_a_check_whose_client_is_gone_is_not_run() -> None:
    ran: list[int] = []

    async def gone() -> bool:
        return True

    async def scenario() -> None:
        queue = CheckQueue(workers=1, per_user=2)
        with pytest.raises(BadRequest) as refused:
            await queue.run(lambda: ran.append(1), priority=UPLOAD, gone=gone)
        assert (refused.value.code, refused.value.detail) == ("client_gone", ERR_CLIENT_GONE)
        assert (queue.running, queue.waiting) == (0, 0)

    asyncio.run(scenario())
    assert ran == []


def test_a_hundred_waiting_checks_hold_no_thread() -> None:
    async def scenario() -> tuple[int, int]:
        queue = CheckQueue(workers=1, per_user=1000)
        gate = threading.Event()
        first = asyncio.create_task(queue.run(gate.wait, priority=DRY_RUN))
        await asyncio.sleep(0.05)
        threads_before = threading.active_count()
        waiting = [asyncio.create_task(queue.run(lambda: None, priority=DRY_RUN)) for _ in range(100)]
        await asyncio.sleep(0.1)
        counts = (queue.waiting, threading.active_count() - threads_before)
        gate.set()
        await asyncio.gather(first, *waiting)
        return counts

    assert asyncio.run(scenario()) == (100, 0)


def test_the_api_refuses_a_third_check_with_429_and_retry_after(client: TestClient, session: Session) -> None:
    user = make_user(session)
    headers = auth(session, user)
    queue = get_check_queue()
    queue.admit(user.id or 0)
    queue.admit(user.id or 0)
    try:
        refused = client.post(
            "/api/v1/check", headers=headers, files={"file": ("p.pdf", tiny_pdf(), "application/pdf")}
        )
    finally:
        queue.leave(user.id or 0)
        queue.leave(user.id or 0)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {"error": "too_many_checks", "detail": err_too_many_checks(2)}
    accepted = client.post("/api/v1/check", headers=headers, files={"file": ("p.pdf", tiny_pdf(), "application/pdf")})
    assert accepted.status_code == 200
    assert accepted.json()["pages"] == 1


def test_a_check_starved_of_cpu_is_retried_and_never_reported_unreadable() -> None:
    pool = WorkerPool(1)
    pool.warm()
    starved = pool._idle[0].process.pid
    os.kill(starved, signal.SIGSTOP)  # as if the machine gave it no CPU at all
    try:
        started = time.monotonic()
        report = check_pdf_isolated(tiny_pdf(pages=2), "poster", time_limit=0.3, pool=pool)
        waited = time.monotonic() - started
    finally:
        pool.close()
    assert report.error_codes == ["poster-pages", "poster-size"]
    assert waited >= 0.3 * OVERLOAD_FACTOR  # the starved worker was given that long before the retry
    with pytest.raises(ProcessLookupError):
        os.kill(starved, 0)


class _StarvedPool(WorkerPool):
    """Every worker it hands out is stopped (SIGSTOP) first: a machine that gives checks no CPU."""

    def _take(self) -> _Worker:
        worker = super()._take()
        os.kill(worker.process.pid, signal.SIGSTOP)
        return worker


def test_a_check_starved_twice_raises_overloaded_instead_of_a_report() -> None:
    pool = _StarvedPool(1)
    try:
        with pytest.raises(CheckOverloaded):
            check_pdf_isolated(tiny_pdf(), "poster", time_limit=0.1, pool=pool)
    finally:
        pool.close()


def test_an_upload_starved_twice_is_503_and_nothing_is_stored(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student], size=2)
    make_topic(session, group)
    headers = auth(session, student)
    pool = _StarvedPool(1)
    monkeypatch.setattr(isolate, "_POOL", pool)  # the process-wide pool, starved
    monkeypatch.setenv("TRACKER_CHECK_TIME_LIMIT_S", "0.1")
    get_settings.cache_clear()
    try:
        response = client.post(
            f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
            headers=headers,
            files={"file": ("p.pdf", tiny_pdf(), "application/pdf")},
        )
    finally:
        pool.close()
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(CHECK_BUSY_RETRY_S)
    assert response.json() == {"error": "check_busy", "detail": ERR_CHECK_BUSY}
    assert session.exec(select(Submission)).all() == []
    session.commit()
    assert [p.name for p in Path(get_settings().storage_dir).iterdir()] == []
