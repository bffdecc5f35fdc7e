#!/usr/bin/env python3
"""Hostile-client benchmark: clients that send too much, or nothing at all, against the real server.

Each scenario sets up a fresh database (SQLite by default), starts the server (uvicorn on
127.0.0.1, one worker) and attacks it from raw sockets, so nothing on the client side buffers
or gives up early. Scenarios are registered by name with @scenario; run one or all:

    .venv/bin/python scripts/bench_hostile_clients.py                          # every scenario
    .venv/bin/python scripts/bench_hostile_clients.py --scenario big-bodies
    .venv/bin/python scripts/bench_hostile_clients.py --scenario stalled-uploads --backend postgresql

  big-bodies       3 concurrent unauthenticated 400 MB JSON bodies to POST /api/v1/courses/{id}/groups:
                   how soon each is answered (and with what), and how much the server's memory grows,
                   against a baseline of 3 small unauthenticated bodies in the same run.
  slow-checks      one student sends 24 simultaneous slow dry-run checks while another group uploads a report:
                   that upload must take under 2 s (SQLite, one process; see hostile_slow_checks.py).
  stalled-uploads  20 logged-in uploads that send half a PDF and then nothing: each must be cut off
                   after the stall timeout, and no staged file may be left behind.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attacklib import ROOT, database, rss_mb, server, use_database

MB = 1024 * 1024


@dataclass
class Context:
    """What a scenario gets: the backend, a work folder and the parsed options."""

    backend: str
    work: Path
    args: argparse.Namespace


Scenario = Callable[[Context], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under `name` (the value of --scenario)."""

    def register(func: Scenario) -> Scenario:
        SCENARIOS[name] = func
        return func

    return register


# --- raw HTTP over a socket ---------------------------------------------------------------------------------


async def _read_status(reader: asyncio.StreamReader) -> int:
    while True:
        line = await reader.readline()
        if not line.startswith(b"HTTP/"):
            return 0
        status = int(line.split()[1])
        if status != 100:
            return status
        while (await reader.readline()).strip():  # the interim answer's headers: go on to the final one
            pass


async def send_and_time(
    base: str, head: bytes, body_chunks: Callable[[], bytes | None], timeout: float
) -> tuple[int, float, int]:
    """Send `head`, then body chunks until the server answers (or `timeout`); status, seconds, bytes sent."""
    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    start = time.perf_counter()
    writer.write(head)
    status_task = asyncio.ensure_future(_read_status(reader))
    sent = 0
    if b"expect: 100-continue" in head.lower():
        # As curl does for a large body: give the server a moment to refuse it on its headers alone.
        await asyncio.wait([status_task], timeout=1.0)
    try:
        while not status_task.done() and time.perf_counter() - start < timeout:
            chunk = body_chunks()
            if chunk is None:  # a stalled client: sends nothing more, waits for the answer
                await asyncio.wait([status_task], timeout=timeout - (time.perf_counter() - start))
                break
            try:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
            except (ConnectionError, OSError):
                break  # the server closed the connection: its answer may already be in the socket
        status = await asyncio.wait_for(status_task, timeout=max(0.1, timeout - (time.perf_counter() - start)))
    except (TimeoutError, ConnectionError, OSError):
        status = 0
    elapsed = time.perf_counter() - start
    writer.close()
    return status, elapsed, sent


def _setup_course(url: str, storage: Path) -> tuple[int, int, str]:
    """A course with one group of three with an approved topic; course id, group id, a member's token."""
    from sqlmodel import Session

    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import get_engine
    from app.groups.service import group_create, group_join
    from app.models import CourseMember, Topic
    from app.people.service import user_create
    from app.tokens import token_issue

    use_database(url, storage)
    now = datetime.now(UTC)
    with Session(get_engine(), expire_on_commit=False) as session:
        admin = user_create(session, username="bench-admin", password=None, is_admin=True, now=now)
        today = now.date()
        monday = today - timedelta(days=today.weekday() + 3 * 7)
        course = course_create(
            session, user=admin, data=CourseCreate(code="HOSTILE", title="Hostile", start_date=monday), now=now
        )
        members = []
        for m in range(3):
            user = user_create(session, username=f"m{m}", password=None, student_no=f"H{m}", now=now)
            session.add(CourseMember(course_id=course.id or 0, user_id=user.id or 0, role="student"))
            session.flush()
            members.append(user)
        view = group_create(session, user=members[0], course_id=course.id or 0, name="Group", now=now)
        for user in members[1:]:
            group_join(session, user=user, course_id=course.id or 0, code=view.group.join_code, now=now)
        session.add(
            Topic(group_id=view.group.id or 0, title="T", area="nlp", summary="", status="approved", updated_at=now)
        )
        secret, token = token_issue(session, user=members[0], now=now)
        token.expires_at = now + timedelta(days=1)
        session.add(token)
        session.commit()
        ids = (course.id or 0, view.group.id or 0)
    get_engine().dispose()
    return ids[0], ids[1], secret


def _staged(storage: Path) -> list[str]:
    return sorted(str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file()) if storage.exists() else []


@scenario("big-bodies")
def big_bodies(ctx: Context) -> dict[str, Any]:
    """Three unauthenticated 400 MB JSON bodies at once, after three small ones as the baseline."""
    with database(ctx.backend, ctx.work, "bodies") as url:
        storage = ctx.work / "files-bodies"
        course_id, _, _ = _setup_course(url, storage)
        with server(url, storage) as (base, process):
            path = f"/api/v1/courses/{course_id}/groups"

            def attack(size: int) -> list[tuple[int, float, int]]:
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {size}\r\n{'Expect: 100-continue' + chr(13) + chr(10) if size > MB else ''}"
                    "\r\n"
                ).encode()

                def feeder() -> Callable[[], bytes | None]:
                    left = [size]

                    def feed() -> bytes | None:  # the declared length, then nothing: wait for the answer
                        n = min(MB, left[0])
                        left[0] -= n
                        return b" " * n if n else None

                    return feed

                async def all_at_once() -> list[tuple[int, float, int]]:
                    return list(
                        await asyncio.gather(
                            *(send_and_time(base, head, feeder(), timeout=30) for _ in range(ctx.args.clients))
                        )
                    )

                return asyncio.run(all_at_once())

            rss_before = rss_mb(process.pid)
            small = attack(100)
            big = attack(ctx.args.body_mb * MB)
            rss_after, peak = rss_mb(process.pid), rss_mb(process.pid, "VmHWM")
    return {
        "scenario": "big-bodies",
        "backend": ctx.backend,
        "clients": ctx.args.clients,
        "body_mb": ctx.args.body_mb,
        "baseline_small": [(s, round(t, 3)) for s, t, _ in small],
        "answers": [(s, round(t, 3), round(sent / MB, 1)) for s, t, sent in big],
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(max(rss_after, peak) - rss_before, 1),
    }


@scenario("stalled-uploads")
def stalled_uploads(ctx: Context) -> dict[str, Any]:
    """Twenty uploads that stop half way: cut off after the stall timeout, nothing left staged."""
    from tests.submissions.pdfs import tiny_pdf

    with database(ctx.backend, ctx.work, "stalled") as url:
        storage = ctx.work / "files-stalled"
        _, group_id, token = _setup_course(url, storage)
        with server(url, storage, upload_stall_timeout_s=str(ctx.args.stall_timeout)) as (base, _):
            pdf = tiny_pdf() + b"%" * (256 * 1024)
            part = (
                b'--B0undary\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
                b"Content-Type: application/pdf\r\n\r\n"
            )
            body_length = len(part) + len(pdf) + len(b"\r\n--B0undary--\r\n")
            head = (
                f"POST /api/v1/groups/{group_id}/milestones/proposal/submissions HTTP/1.1\r\nHost: bench\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=B0undary\r\n"
                f"Content-Length: {body_length}\r\n\r\n"
            ).encode()

            async def all_stalled() -> tuple[list[tuple[int, float, int]], list[str]]:
                def feeder() -> Callable[[], bytes | None]:
                    chunks: list[bytes | None] = [part + pdf[: len(pdf) // 2], None]
                    return lambda: chunks.pop(0)

                tasks = [
                    asyncio.ensure_future(send_and_time(base, head, feeder(), timeout=ctx.args.stall_timeout + 30))
                    for _ in range(ctx.args.stalled)
                ]
                await asyncio.sleep(ctx.args.stall_timeout / 2)
                during = _staged(storage)
                return list(await asyncio.gather(*tasks)), during

            answers, during = asyncio.run(all_stalled())
            time.sleep(0.5)
            after = _staged(storage)
    return {
        "scenario": "stalled-uploads",
        "backend": ctx.backend,
        "uploads": ctx.args.stalled,
        "stall_timeout_s": ctx.args.stall_timeout,
        "statuses": sorted({s for s, _, _ in answers}),
        "answered_after_s": {
            "min": round(min(t for _, t, _ in answers), 2),
            "max": round(max(t for _, t, _ in answers), 2),
        },
        "staged_files_while_stalled": len(during),
        "files_left_after": len(after),
    }


@scenario("slow-checks")
def slow_checks(ctx: Context) -> dict[str, Any]:
    """24 slow dry runs from one student while another group uploads (SQLite whatever --backend says)."""
    from hostile_slow_checks import slow_checks as run_slow_checks

    work = ctx.work / "slow-checks"
    work.mkdir(exist_ok=True)
    rows, verdict = run_slow_checks(ctx.args, work)
    return {"scenario": "slow-checks", "rows": rows, "verdict": verdict}


def main() -> None:
    """Parse the options and run the chosen scenarios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--clients", type=int, default=3, help="big-bodies: concurrent clients (default 3)")
    parser.add_argument("--body-mb", type=int, default=400, help="big-bodies: declared body size (default 400)")
    parser.add_argument("--stalled", type=int, default=20, help="stalled-uploads: clients (default 20)")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=5.0,
        help="stalled-uploads: the server's TRACKER_UPLOAD_STALL_TIMEOUT_S (default 5)",
    )
    parser.add_argument("--checks", type=int, default=24, help="slow-checks: simultaneous slow checks (default 24)")
    parser.add_argument("--upload-after", type=float, default=1.0, help="slow-checks: upload starts after this many s")
    parser.add_argument("--timeout", type=float, default=120.0, help="slow-checks: client timeout per request, s")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="tracker-hostile-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the PostgreSQL server runs as `postgres` when we are root
        for backend in backends:
            for name in names:
                print(json.dumps(SCENARIOS[name](Context(backend=backend, work=work, args=args))), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
