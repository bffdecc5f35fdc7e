"""Shared pieces of the load benchmarks: a database, a course, a server, a load generator, figures.

Used by bench_burst.py, bench_mixed.py and bench_hostile_clients.py. Everything targets 127.0.0.1;
PostgreSQL comes from scripts/pg-test-server; the server is `tracker serve` (uvicorn) in a child
process with `--workers N`. Arrival times and files come from a seeded random generator, so a run
can be repeated on a quieter machine.
"""

import asyncio
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
STUDENTS_PER_GROUP = 3


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    """A fresh, migrated database URL (SQLite file, or a throwaway PostgreSQL 15 server)."""
    from alembic import command

    from app.db import alembic_config

    if backend == "sqlite":
        url = f"sqlite:///{work / 'bench.sqlite'}"
        command.upgrade(alembic_config(url), "head")
        yield url
        return
    pg_dir = work / "pg"
    admin_url = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        url = admin_url.rsplit("/", 1)[0] + "/postgres"
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False)


@dataclass
class Course:
    """A course built for a benchmark: its ids and every participant's bearer token."""

    course_id: int
    group_ids: list[int]
    students: list[list[str]]  # tokens, per group
    tas: list[str]
    lecturer: str


def build_course(url: str, *, code: str, groups: int, tas: int = 2) -> Course:
    """A course whose report is due within days, with `groups` groups of three, `tas` TAs and a lecturer."""
    os.environ["TRACKER_DATABASE_URL"] = url
    from sqlmodel import Session

    from app.config import get_settings
    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import get_engine
    from app.models import CourseMember, GroupMembership, ProjectGroup, User
    from app.tokens import token_issue

    get_settings.cache_clear()
    get_engine.cache_clear()
    now = datetime.now(UTC)
    with Session(get_engine(), expire_on_commit=False) as session:
        lecturer = User(username=f"{code}-lecturer", name="Lecturer", is_admin=True, created_at=now)
        session.add(lecturer)
        session.flush()
        today = now.date()
        monday = today - timedelta(days=today.weekday() + 14 * 7)  # week 15: the report is due
        course = course_create(
            session, user=lecturer, data=CourseCreate(code=code, title=code, start_date=monday), now=now
        )
        # At twice the deadline-night rate about 11 uploads reach each group, spread at random, so a few
        # groups pass the default quota of 20 versions: a load test measures capacity, not the quota.
        course.max_versions_per_milestone = 100
        cid = course.id or 0

        def person(name: str, role: str) -> User:
            user = User(username=name, name=name, created_at=now)
            session.add(user)
            session.flush()
            session.add(CourseMember(course_id=cid, user_id=user.id or 0, role=role))
            return user

        def token(user: User) -> str:
            secret, issued = token_issue(session, user=user, now=now)
            issued.expires_at = now + timedelta(days=1)
            return secret

        staff = [person(f"{code}-ta{t}", "ta") for t in range(tas)]
        group_ids, students = [], []
        for g in range(groups):
            group = ProjectGroup(course_id=cid, name=f"Group {g}", join_code=f"{code[:6]}{g:06d}", created_at=now)
            session.add(group)
            session.flush()
            members = [person(f"{code}-g{g}m{m}", "student") for m in range(STUDENTS_PER_GROUP)]
            for member in members:
                session.add(
                    GroupMembership(group_id=group.id or 0, course_id=cid, user_id=member.id or 0, joined_at=now)
                )
            group_ids.append(group.id or 0)
            students.append([token(m) for m in members])
        result = Course(cid, group_ids, students, [token(t) for t in staff], token(lecturer))
        session.commit()
    get_engine().dispose()
    return result


@contextmanager
def server(
    url: str, storage: Path, *, workers: int, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """`tracker serve --workers N` on a free port; its base URL. Stopped on exit."""
    import httpx

    port = free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_STORAGE_DIR": str(storage), **(extra_env or {})}
    tracker = str(Path(sys.executable).parent / "tracker")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [tracker, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited during start-up; see {log}")
            try:
                if httpx.get(f"{base}/docs", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()  # uvicorn finishes the requests in flight first
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Request:
    """One request of a load: when to send it (s from the start), what, and under which label."""

    at: float
    label: str
    method: str
    url: str
    token: str | None = None
    json: Any = None
    file: bytes | None = None
    expect: tuple[int, ...] = (200, 201)


@dataclass
class Results:
    """Latencies and errors per label."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[tuple[str, str | None]] = field(default_factory=list)  # (sha256 of a sent file, its error)
    wall: float = 0.0

    def add(self, label: str, seconds: float, error: str | None) -> None:
        """Record one answer."""
        if error is None:
            self.latencies.setdefault(label, []).append(seconds)
        else:
            kinds = self.errors.setdefault(label, {})
            kinds[error] = kinds.get(error, 0) + 1

    def ok(self, label: str | None = None) -> int:
        """Answers as expected (for one label, or all)."""
        return sum(len(v) for k, v in self.latencies.items() if label in (None, k))

    def failed(self, label: str | None = None) -> int:
        """Errors and unexpected statuses (for one label, or all)."""
        return sum(sum(v.values()) for k, v in self.errors.items() if label in (None, k))

    def all_latencies(self) -> list[float]:
        """Every successful latency."""
        return [x for v in self.latencies.values() for x in v]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of the values, 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _multipart(data: bytes) -> tuple[str, bytes]:
    boundary = "tracker-bench-boundary-7d1f"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="paper.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def send(host: str, port: int, r: Request) -> int:
    """One HTTP/1.1 request on its own connection; its status.

    A bare asyncio client: httpx costs several times more CPU per request than the server's own
    baseline, and on a 2-core machine the client's cost shows up in every latency.
    """
    headers = [f"{r.method} {r.url} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if r.token:
        headers.append(f"Authorization: Bearer {r.token}")
    body = b""
    if r.file is not None:
        content_type, body = _multipart(r.file)
        headers.append(f"Content-Type: {content_type}")
    elif r.json is not None:
        body = json.dumps(r.json).encode()
        headers.append("Content-Type: application/json")
    if body or r.method in ("POST", "PUT", "PATCH"):
        headers.append(f"Content-Length: {len(body)}")
    if body:
        headers.append("Expect: 100-continue")  # as curl does: a refusal (401, 413, 429) costs no body
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        await writer.drain()
        if body:
            status = await _read_response(reader)
            if status != 100:
                return status
            writer.write(body)
            await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


async def replay(base: str, requests: list[Request], *, request_timeout_s: float = 60) -> Results:
    """Send every request at its time (open loop: a slow server does not slow the arrivals).

    Each request may take `request_timeout_s` before it counts as a timeout.
    """
    host, port = base.removeprefix("http://").split(":")
    results = Results()
    start = time.perf_counter()

    async def one(r: Request) -> None:
        await asyncio.sleep(max(0.0, start + r.at - time.perf_counter()))
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(request_timeout_s):
                status = await send(host, int(port), r)
            error = None if status in r.expect else f"HTTP {status}"
        except TimeoutError:
            error = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            error = type(exc).__name__
        results.add(r.label, time.perf_counter() - sent, error)
        if r.file is not None:
            results.files.append((hashlib.sha256(r.file).hexdigest(), error))

    await asyncio.gather(*(one(r) for r in requests))
    results.wall = time.perf_counter() - start
    return results


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as a Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def figures(label: str, results: Results, *, key: str | None = None) -> dict[str, Any]:
    """ok, errors and p50/p95/p99/max in ms for one label (or all when key is None)."""
    values = results.latencies.get(key, []) if key else results.all_latencies()
    errors: dict[str, int] = dict(results.errors.get(key, {})) if key else {}
    for kinds in [] if key else results.errors.values():
        for kind, count in kinds.items():
            errors[kind] = errors.get(kind, 0) + count
    return {
        "endpoint": label,
        "ok": len(values),
        "errors": sum(errors.values()),
        "error kinds": ", ".join(f"{k} ×{v}" for k, v in sorted(errors.items())) or "-",
        "p50 ms": round(percentile(values, 50) * 1000),
        "p95 ms": round(percentile(values, 95) * 1000),
        "p99 ms": round(percentile(values, 99) * 1000),
        "max ms": round(max(values, default=0) * 1000),
    }


def machine() -> str:
    """A one-line description of the machine and its load."""
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(1/5/15 min) at start, Python {sys.version.split()[0]}"
    )


def seeded(seed: int) -> random.Random:
    """The benchmark's random generator."""
    return random.Random(seed)


def add_reports(url: str, course: Course, *, uploader_token_group: int = 0) -> None:
    """One report version per group, as rows only (no file): a dashboard with something to show."""
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.models import GroupMembership, Milestone, Submission

    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        milestone = session.exec(
            select(Milestone).where(Milestone.course_id == course.course_id, Milestone.key == "report")
        ).one()
        uploaders = dict(
            session.exec(
                select(GroupMembership.group_id, GroupMembership.user_id).where(
                    GroupMembership.course_id == course.course_id
                )
            ).all()
        )
        for n, group_id in enumerate(course.group_ids):
            session.add(
                Submission(
                    group_id=group_id,
                    milestone_id=milestone.id or 0,
                    version=1,
                    uploader_id=uploaders[group_id],
                    received_at=now - timedelta(hours=n % 72),
                    filename="report.pdf",
                    size_bytes=1_000_000,
                    sha256=f"{n:064x}",
                    ruleset="report",
                    verdict="accept" if n % 4 else "reject",
                    format_report={
                        "ruleset": "report",
                        "verdict": "accept" if n % 4 else "reject",
                        "pages": 6,
                        "errors": [] if n % 4 else [{"code": "page-limit", "message": "...", "pages": [7]}],
                        "warnings": [],
                        "facts": {},
                    },
                )
            )
        session.commit()
    engine.dispose()


def verify_uploads(url: str, storage: Path, course: Course, sent: list[tuple[str, str | None]]) -> tuple[bool, str]:
    """The integrity check, per uploaded file (each is unique): every accepted upload has its row and
    file, a refused one (4xx/5xx) has none, versions run 1..k per group, no file without a row, no
    staged leftovers. An upload whose client gave up (timeout) may or may not have been stored."""
    from sqlmodel import Session, col, select

    from app.db import make_engine
    from app.models import Submission

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(
            select(Submission.group_id, Submission.version, Submission.sha256).where(
                col(Submission.group_id).in_(course.group_ids)
            )
        ).all()
    engine.dispose()
    by_group: dict[int, list[int]] = {}
    for group_id, version, _ in rows:
        by_group.setdefault(group_id, []).append(version)
    contiguous = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_group.values())
    stored = {sha for _, _, sha in rows}
    accepted = {sha for sha, error in sent if error is None}
    refused = {sha for sha, error in sent if error is not None and error.startswith("HTTP")}
    gave_up = {sha for sha, error in sent if error is not None and not error.startswith("HTTP")}
    names = {p.name for p in storage.iterdir()} if storage.is_dir() else set()
    staged = sorted(n for n in names if n.startswith("."))
    problems = {
        "accepted without a row": len(accepted - stored),
        "refused with a row": len(refused & stored),
        "rows for no request": len(stored - accepted - refused - gave_up),
        "rows without their file": len(stored - names),
        "files without a row": len(names - stored - set(staged)),
        "duplicate rows": len(rows) - len(stored),
        "staged leftovers": len(staged),
    }
    ok = contiguous and not any(problems.values())
    return ok, (
        f"{'OK' if ok else 'MISMATCH'}: {len(rows)} rows = {len(accepted)} accepted uploads + "
        f"{len(stored & gave_up)} of {len(gave_up)} whose client gave up; {len(refused)} refused; "
        f"versions contiguous in {len(by_group)} groups: {contiguous}; "
        + ", ".join(f"{v} {k}" for k, v in problems.items())
    )
