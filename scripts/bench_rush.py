#!/usr/bin/env python3
"""Deadline-rush benchmark: many groups upload real-sized PDFs at once, against a baseline sink.

For each backend (SQLite, PostgreSQL) it migrates a fresh database, creates a course with N
groups of three through the services, starts the server (uvicorn on 127.0.0.1, one worker or
`--workers N` processes sharing the database and the store) and then replays a rush twice with
the same arrival times and files:

  sink     POST /api/v1/_bench/sink: the body is only streamed to a staged file (hashed; in the
           storage folder and fsynced, or in the local staging folder for S3) and dropped; no login,
           no database, no check, no upload to S3.
           The route exists only in this benchmark's own app instance.
  upload   POST /api/v1/groups/{id}/milestones/report/submissions: the real upload, with
           login, the refusal rules, streaming, the format check, the version row and the file.

Arrivals are spread uniformly at random over the duration (default 300 uploads in 60 s) and
sent on time whatever the server's speed (open loop), so latency includes queueing. It
reports uploads per second, p50/p99/max latency and errors, then checks the database and the
store: one row and one file per accepted upload, versions 1..k per group with no gap, and no
staged leftovers (local temporary files, unfinished multipart uploads).

    .venv/bin/python scripts/bench_rush.py                      # both backends, defaults
    .venv/bin/python scripts/bench_rush.py --backend sqlite --uploads 600 --duration 60
    .venv/bin/python scripts/bench_rush.py --backend postgresql --storage s3 --workers 2

PostgreSQL comes from scripts/pg-test-server (Debian's postgresql 15), on a loopback port; S3 is
moto's standalone server (`python -m moto.server`), in a process of its own on a loopback port.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from attacklib import free_port, wait_ready  # noqa: E402

SINK_PATH = "/api/v1/_bench/sink"
HOST = "127.0.0.1"


# --- the server side: this project's app plus the baseline sink, served by uvicorn --------------------------


def bench_app() -> Any:
    """This project's app with the extra sink route (an app factory, so each worker process builds one)."""
    import re

    from fastapi import Request

    from app import middleware
    from app.config import get_settings
    from app.deps import StagedUploadDep
    from app.main import create_app
    from app.submissions.upload import receive_pdf

    # The sink takes a file, so it gets an upload route's body limit rather than a JSON route's.
    middleware.UPLOAD_ROUTES = (*middleware.UPLOAD_ROUTES, re.compile(f"^{re.escape(SINK_PATH)}$"))
    app = create_app()

    @app.post(SINK_PATH, include_in_schema=False)
    async def sink(request: Request, staged: StagedUploadDep) -> dict[str, Any]:
        """Baseline: stream the body to a staged file (hashed), then drop it."""
        await receive_pdf(request, staged, max_bytes=get_settings().max_upload_bytes)
        return {"size": staged.size, "sha256": staged.sha256}

    return app


def serve(port: int, workers: int) -> None:
    """Run the app with the extra sink route (child process), in `workers` processes."""
    import uvicorn

    uvicorn.run(
        "bench_rush:bench_app",
        factory=True,
        app_dir=str(ROOT / "scripts"),
        host=HOST,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


# --- test data ----------------------------------------------------------------------------------------------


def make_pdfs(count: int, min_mb: float, max_mb: float, seed: int) -> list[bytes]:
    """`count` report-like PDFs (US Letter, two columns, the report's sections, one incompressible figure)."""
    from fpdf import FPDF
    from PIL import Image

    rng = random.Random(seed)
    words = [
        "deep",
        "network",
        "training",
        "loss",
        "gradient",
        "attention",
        "image",
        "token",
        "dataset",
        "benchmark",
        "accuracy",
        "model",
        "layer",
        "convolution",
        "transformer",
        "embedding",
        "baseline",
        "ablation",
        "experiment",
        "result",
    ]
    pdfs = []
    for n in range(count):
        target = rng.uniform(min_mb, max_mb) * 1024 * 1024
        side = int((target / 3) ** 0.5)  # raw RGB noise does not compress: the figure is the file's bulk
        noise = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        pdf = FPDF(unit="pt", format="letter")
        pdf.set_margins(54, 54, 54)
        pdf.set_auto_page_break(True, margin=54)
        pdf.add_page()
        pdf.set_font("Times", style="B", size=14)
        pdf.cell(0, 20, f"Rush report {n}", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.image(noise, x=54, y=90, w=240)
        pdf.set_y(340)
        sections = ["Abstract", "Introduction", "Related Work", "Proposed Solution", "Experiments", "Conclusion"]
        with pdf.text_columns(ncols=2, gutter=18) as cols:
            for number, title in enumerate(sections, start=1):
                pdf.set_font("Times", style="B", size=12)
                cols.write(text=f"{number} {title}\n")
                pdf.set_font("Times", size=10)
                cols.write(text=" ".join(rng.choice(words) for _ in range(520)) + "\n")
            pdf.set_font("Times", style="B", size=12)
            cols.write(text="References\n")
            pdf.set_font("Times", size=9)
            for ref in range(40):
                cols.write(
                    text=f"[{ref + 1}] A. Author and B. Author. 20{10 + ref % 15}. A study of {rng.choice(words)}. "
                    "In Proceedings of AAAI.\n"
                )
        pdfs.append(bytes(pdf.output()))
    return pdfs


def setup_course(url: str, groups: int) -> tuple[list[int], list[list[str]]]:
    """Migrate, then create a course with `groups` groups of three through the services; ids and tokens."""
    os.environ["TRACKER_DATABASE_URL"] = url
    from alembic import command
    from sqlmodel import Session

    from app.config import get_settings
    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import alembic_config, get_engine
    from app.groups.service import group_create, group_join
    from app.models import CourseMember
    from app.people.service import user_create
    from app.tokens import token_issue

    get_settings.cache_clear()
    get_engine.cache_clear()
    command.upgrade(alembic_config(url), "head")
    now = datetime.now(UTC)
    group_ids: list[int] = []
    tokens: list[list[str]] = []
    with Session(get_engine(), expire_on_commit=False) as session:
        admin = user_create(session, username="bench-admin", password=None, name="Admin", is_admin=True, now=now)
        # A course that started 14 weeks ago: the report (week 15) is due within days, as in a real rush.
        today = now.date()
        monday = today - timedelta(days=today.weekday() + 14 * 7)
        course = course_create(
            session, user=admin, data=CourseCreate(code="RUSH", title="Rush", start_date=monday), now=now
        )
        for g in range(groups):
            members = []
            for m in range(3):
                user = user_create(
                    session,
                    username=f"g{g}m{m}",
                    password=None,
                    name=f"Student {g}.{m}",
                    student_no=f"R{g:03d}{m}",
                    now=now,
                )
                session.add(CourseMember(course_id=course.id or 0, user_id=user.id or 0, role="student"))
                session.flush()
                members.append(user)
            view = group_create(session, user=members[0], course_id=course.id or 0, name=f"Group {g}", now=now)
            for user in members[1:]:
                group_join(session, user=user, course_id=course.id or 0, code=view.group.join_code, now=now)
            group_ids.append(view.group.id or 0)
            secrets = []
            for user in members:
                secret, token = token_issue(session, user=user, now=now)
                token.expires_at = now + timedelta(days=1)
                session.add(token)
                secrets.append(secret)
            tokens.append(secrets)
        session.commit()
    get_engine().dispose()
    return group_ids, tokens


def verify(url: str, accepted: int) -> str:
    """One row per accepted upload, one stored file per distinct hash, versions 1..k per group, no leftovers."""
    from sqlmodel import Session, select

    from app.config import get_settings
    from app.db import make_engine
    from app.models import Submission
    from app.storage import get_store

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(Submission.group_id, Submission.version, Submission.sha256)).all()
    engine.dispose()
    by_group: dict[int, list[int]] = {}
    for group_id, version, _ in rows:
        by_group.setdefault(group_id, []).append(version)
    contiguous = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_group.values())
    get_settings.cache_clear()  # the store the servers used: os.environ holds its settings
    listed = list(get_store().stored_objects())
    files = {o.name for o in listed if not o.staged}
    staged = [o.name for o in listed if o.staged]
    hashes = {sha for _, _, sha in rows}
    ok = len(rows) == accepted and contiguous and files == hashes and not staged
    return (
        f"{'OK' if ok else 'MISMATCH'}: {len(rows)} rows for {accepted} accepted uploads, "
        f"versions contiguous in {len(by_group)} groups: {contiguous}, {len(files)} stored files for "
        f"{len(hashes)} distinct hashes, {len(staged)} staged leftovers"
    )


# --- the load -----------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """Results of one replay of the rush."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    bytes_sent: int = 0

    def summary(self) -> dict[str, Any]:
        """Figures for the report."""
        lat = sorted(self.latencies)
        wall = self.finished - self.started

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))] if lat else 0.0

        return {
            "phase": self.name,
            "ok": len(lat),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "wall_s": round(wall, 2),
            "per_s": round(len(lat) / wall, 2) if wall else 0.0,
            "p50_ms": round(pct(50) * 1000),
            "p99_ms": round(pct(99) * 1000),
            "max_ms": round(lat[-1] * 1000) if lat else 0,
            "mean_mb": round(self.bytes_sent / max(1, len(lat) + sum(self.errors.values())) / 2**20, 2),
            "max_in_flight": self.max_in_flight,
        }


async def replay(
    name: str, base: str, schedule: list[tuple[float, int, int, bytes]], group_ids: list[int], tokens: list[list[str]]
) -> Phase:
    """Send every request of the schedule at its time; the sink and the upload phase share the schedule."""
    import httpx

    phase = Phase(name)
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(at: float, group: int, member: int, body: bytes) -> None:
            await asyncio.sleep(max(0.0, phase.started + at - time.perf_counter()))
            # The sink carries the same token: anonymous bodies are capped before the route runs.
            headers = {"Authorization": f"Bearer {tokens[group][member]}"}
            url = SINK_PATH if name == "sink" else f"/api/v1/groups/{group_ids[group]}/milestones/report/submissions"
            phase.in_flight += 1
            phase.max_in_flight = max(phase.max_in_flight, phase.in_flight)
            sent = time.perf_counter()
            try:
                response = await client.post(
                    url, headers=headers, files={"file": ("report.pdf", body, "application/pdf")}
                )
                kind = None if response.status_code in (200, 201) else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
            phase.in_flight -= 1
            phase.bytes_sent += len(body)
            if kind is None:
                phase.latencies.append(time.perf_counter() - sent)
            else:
                phase.errors[kind] = phase.errors.get(kind, 0) + 1
            phase.finished = max(phase.finished, time.perf_counter())

        phase.started = time.perf_counter()
        await asyncio.gather(*(one(*item) for item in schedule))
    return phase


def start_s3(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """moto's standalone S3 server in a process of its own, on a free loopback port."""
    import httpx

    port = free_port()
    log = (work / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(endpoint, timeout=2)
            return process, endpoint
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the S3 server did not start")


def storage_env(backend: str, args: argparse.Namespace, work: Path) -> dict[str, str]:
    """The servers' storage settings: a local folder, or a new bucket on the S3 server."""
    if args.storage == "file":
        return {"TRACKER_STORAGE_URL": (work / f"files-{backend}").as_uri()}
    import boto3

    bucket = f"rush-{backend}"
    boto3.client("s3", endpoint_url=args.s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {
        "TRACKER_STORAGE_URL": f"s3://{bucket}/files",
        "TRACKER_S3_ENDPOINT_URL": args.s3_endpoint,
        "TRACKER_STAGING_DIR": str(work / f"staging-{backend}"),
    }


def run_backend(backend: str, args: argparse.Namespace, pdfs: list[bytes], work: Path) -> list[dict[str, Any]]:
    """Set up one backend, start the server, replay the rush against the sink and the upload."""
    os.environ.update(storage_env(backend, args, work))  # the servers inherit it; verify() reads it
    label = backend + (" + s3" if args.storage == "s3" else "")
    label += f", {args.workers} workers" if args.workers > 1 else ""
    pg_dir = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'rush.sqlite'}"
    else:
        pg_dir = work / "pg"
        admin_url = subprocess.run(
            [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)], check=True, capture_output=True, text=True
        ).stdout.strip()
        from sqlalchemy import create_engine

        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE rush")
        engine.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/rush"
    try:
        group_ids, tokens = setup_course(url, args.groups)
        rng = random.Random(args.seed)
        arrivals = sorted(rng.uniform(0, args.duration) for _ in range(args.uploads))
        schedule = []
        for i, at in enumerate(arrivals):
            body = pdfs[i % len(pdfs)] + f"\n%rush upload {i}\n".encode()  # unique bytes: one file per version
            schedule.append((at, i % args.groups, (i // args.groups) % 3, body))
        port = free_port()
        env = {**os.environ, "TRACKER_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), str(args.workers)], env=env, cwd=ROOT
        )
        base = f"http://{HOST}:{port}"
        try:
            wait_ready(base, server)
            # Warm the format checker's worker processes, as a running server would be (a few checks at
            # once, so that every app process is likely to get one).
            # One check per student: each user may have only two checks in flight.
            warm_tokens = [tokens[g % args.groups][0] for g in range(3 * args.workers)]
            asyncio.run(warm_up(base, pdfs[0], warm_tokens))
            results = []
            for name in ("sink", "upload"):
                phase = asyncio.run(replay(name, base, schedule, group_ids, tokens))
                results.append({"backend": label, **phase.summary()})
                print(json.dumps(results[-1]), flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        accepted = results[-1]["ok"]
        results[-1]["verified"] = verify(url, accepted)
        print(f"{label}: {results[-1]['verified']}", flush=True)
        return results
    finally:
        if pg_dir is not None:
            subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False)


async def warm_up(base: str, pdf: bytes, tokens: list[str]) -> None:
    """Dry-run checks in parallel, to start the format checker's workers before the clock runs."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/check?ruleset=report",
                    files={"file": ("w.pdf", pdf)},
                    headers={"Authorization": f"Bearer {token}"},
                )
                for token in tokens
            )
        )
    for answer in answers:
        answer.raise_for_status()


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"{args.uploads} requests arriving at random over {args.duration:g} s from {args.groups} groups "
        f"(PDFs of {args.min_mb:g}-{args.max_mb:g} MB), {args.workers} uvicorn worker process(es), "
        f"files in {'S3 (moto)' if args.storage == 's3' else 'a local folder'}:",
        "",
        "| backend | endpoint | ok | errors | wall s | ok/s | p50 ms | p99 ms | max ms | max in flight |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        endpoint = "baseline sink (stream to local disk)" if r["phase"] == "sink" else "upload (real)"
        lines.append(
            f"| {r['backend']} | {endpoint} | {r['ok']} | {r['errors']} | {r['wall_s']} | {r['per_s']} | "
            f"{r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['max_in_flight']} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options and run the benchmark."""
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--groups", type=int, default=50, help="groups of three (default 50)")
    parser.add_argument("--uploads", type=int, default=300, help="requests per phase (default 300)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds over which they arrive (default 60)")
    parser.add_argument("--min-mb", type=float, default=1.0)
    parser.add_argument("--max-mb", type=float, default=3.0)
    parser.add_argument("--files", type=int, default=8, help="distinct generated PDFs (default 8)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--storage", choices=["file", "s3"], default="file", help="a local folder, or S3 (moto's server, started here)"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (PostgreSQL only)")
    args = parser.parse_args()
    if args.workers > 1 and args.backend != "postgresql":
        parser.error("--workers above 1 needs --backend postgresql (SQLite serves one process)")
    print(f"generating {args.files} PDFs of {args.min_mb:g}-{args.max_mb:g} MB ...", flush=True)
    pdfs = make_pdfs(args.files, args.min_mb, args.max_mb, args.seed)
    print("sizes MB: " + ", ".join(f"{len(p) / 2**20:.2f}" for p in pdfs), flush=True)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="tracker-rush-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # the PostgreSQL server runs as `postgres` when we are root
        s3_server = None
        if args.storage == "s3":
            for name, value in {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench-secret",
                "AWS_DEFAULT_REGION": "us-east-1",
            }.items():
                os.environ.setdefault(name, value)
            s3_server, args.s3_endpoint = start_s3(work)
        try:
            for backend in backends:
                results.extend(run_backend(backend, args, pdfs, work))
        finally:
            if s3_server is not None:
                s3_server.terminate()
                s3_server.wait(timeout=15)
    print()
    print(table(results, args))
    for r in results:
        if "verified" in r:
            print(f"- {r['backend']}: {r['verified']}")


if __name__ == "__main__":
    main()
