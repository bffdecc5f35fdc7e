#!/usr/bin/env python3
"""Burst benchmark: N simultaneous authenticated reads (default 400), against a baseline burst.

For each configuration (SQLite with 1 process; PostgreSQL with 1 process and with `--workers 4`)
it migrates a fresh database, builds a course of 150 groups of three through the models, starts
`tracker serve` and sends, all at the same instant:

  baseline  GET /docs: no login, no database (FastAPI's own page): what the server and this
            client cost for a burst of that size;
  reads     GET /api/v1/groups/{id}/milestones/report/submissions: each student lists their
            group's versions (login by bearer token, the visibility rules, the versions query).

Every read must answer 200 (the server used to wedge at about 40). It prints ok, errors and
p50/p95/p99/max per phase, and the ratio of each read percentile to the baseline's.

    .venv/bin/python scripts/bench_burst.py                         # the three configurations
    .venv/bin/python scripts/bench_burst.py --config sqlite:1 --requests 400
    .venv/bin/python scripts/bench_burst.py --in-process --backend sqlite --backend postgresql

`--in-process` measures what one request costs the server instead: the same endpoints (and the
other hot reads of bench_mixed.py: /me, the TA dashboard of 50 and of 1,000 groups, a selection
run) sent one after another through the ASGI app in this process (httpx's ASGITransport, no
sockets, no uvicorn), printing the wall and CPU milliseconds per request and the ratio to the
/docs baseline measured in the same run. The dashboards are built on every request there
(TRACKER_DASHBOARD_CACHE_S=0): the cost of a poll that finds the shared answer stale.
"""

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import Request, add_reports, build_course, database, figures, machine, replay, server, table

CONFIGS = ["sqlite:1", "postgresql:1", "postgresql:4"]


def run_config(config: str, args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """One backend and process count: set up, burst the baseline, burst the reads."""
    backend, workers = config.split(":")
    rows = []
    with database(backend, work) as url:
        course = build_course(url, code="BURST", groups=args.groups)
        tokens = [t for group in course.students for t in group]
        urls = [f"/api/v1/groups/{g}/milestones/report/submissions" for g in course.group_ids for _ in range(3)]
        with server(url, work / "files", workers=int(workers), log=work / "server.log") as base:
            warm = [Request(0, "warm", "GET", urls[i], tokens[i]) for i in range(min(20, len(tokens)))]
            asyncio.run(replay(base, warm))
            for label, requests in (
                ("baseline GET /docs", [Request(0, "x", "GET", "/docs") for _ in range(args.requests)]),
                (
                    "GET submissions",
                    [
                        Request(0, "x", "GET", urls[i % len(urls)], tokens[i % len(tokens)])
                        for i in range(args.requests)
                    ],
                ),
            ):
                results = asyncio.run(replay(base, requests, request_timeout_s=args.timeout))
                rows.append(
                    {
                        "config": f"{backend}, {workers} process{'es' if workers != '1' else ''}",
                        **figures(label, results, key="x"),
                        "wall s": round(results.wall, 2),
                    }
                )
                print(rows[-1], flush=True)
    base_row, read_row = rows[-2], rows[-1]
    for p in ("p50", "p99"):
        read_row[f"{p} ÷ baseline"] = f"{read_row[f'{p} ms'] / max(1, base_row[f'{p} ms']):.2f}×"
    return rows


async def _timed(client: Any, method: str, url: str, token: str | None, body: Any, n: int) -> tuple[float, float]:
    """Send `n` requests one after another; wall and CPU ms per request (every thread of this process)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(min(20, n)):  # warm: imports, compiled-statement cache, connection pool
        await client.request(method, url, headers=headers, json=body)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        response = await client.request(method, url, headers=headers, json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {url}: HTTP {response.status_code} {response.text[:200]}")
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def in_process(backend: str, args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Per-request cost of the baseline and each hot read, sequentially through the ASGI app."""
    import os

    import httpx

    with database(backend, work) as url:
        course = build_course(url, code="BURST", groups=50, tas=2)
        big = build_course(url, code="BIG", groups=1000, tas=2)
        add_reports(url, big)
        os.environ["TRACKER_STORAGE_DIR"] = str(work / "files")
        # Every dashboard request builds its answer: what a poll costs when the shared one is stale.
        os.environ["TRACKER_DASHBOARD_CACHE_S"] = "0"
        from app.config import get_settings
        from app.db import get_engine

        get_settings.cache_clear()
        get_engine.cache_clear()
        from app.main import create_app

        n = args.requests
        group = course.group_ids[0]
        cases = [
            ("baseline GET /docs", "GET", "/docs", None, None, n),
            ("GET submissions", "GET", f"/api/v1/groups/{group}/milestones/report/submissions", 0, None, n),
            ("GET /me", "GET", "/api/v1/me", 0, None, n),
            (
                "GET dashboard, 50 groups",
                "GET",
                f"/api/v1/courses/{course.course_id}/dashboard?milestone=report",
                1,
                None,
                n // 5,
            ),
            (
                "GET dashboard, 1000 groups",
                "GET",
                f"/api/v1/courses/{big.course_id}/dashboard?milestone=report",
                2,
                None,
                max(1, n // 50),
            ),
            (
                "POST selection run, 50 groups",
                "POST",
                f"/api/v1/courses/{course.course_id}/selections",
                3,
                {"slots": 10, "force": True},
                max(1, n // 10),
            ),
        ]
        tokens = [course.students[0][0], course.tas[0], big.tas[0], course.lecturer]

        async def run_all() -> list[dict[str, Any]]:
            rows = []
            transport = httpx.ASGITransport(app=create_app(), client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                for label, method, path, who, body, count in cases:
                    token = None if who is None else tokens[who]
                    wall, cpu = await _timed(client, method, path, token, body, count)
                    rows.append(
                        {
                            "backend": backend,
                            "endpoint": label,
                            "requests": count,
                            "wall ms/req": round(wall, 2),
                            "CPU ms/req": round(cpu, 2),
                        }
                    )
                    print(rows[-1], flush=True)
            return rows

        rows = asyncio.run(run_all())
        get_engine().dispose()
    base = rows[0]
    for row in rows:
        row["CPU ÷ baseline"] = f"{row['CPU ms/req'] / max(0.01, base['CPU ms/req']):.1f}×"
    return rows


def _each_in_own_folder(items: list[str], run: Callable[[str, Path], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of `run(item, folder)` for each item, each in a fresh temporary folder."""
    rows = []
    for item in items:
        with tempfile.TemporaryDirectory(prefix="tracker-burst-") as tmp:
            Path(tmp).chmod(0o755)  # the PostgreSQL server runs as `postgres` when we are root
            rows.extend(run(item, Path(tmp)))
    return rows


def main_in_process(args: argparse.Namespace) -> None:
    """The `--in-process` mode: one table of per-request costs per backend."""
    rows = _each_in_own_folder(args.backend or ["sqlite"], lambda backend, work: in_process(backend, args, work))
    print()
    print(f"Sequential requests through the ASGI app in one process ({args.requests} for the cheap reads):")
    print()
    print(table(rows, ["backend", "endpoint", "requests", "wall ms/req", "CPU ms/req", "CPU ÷ baseline"]))


def main() -> None:
    """Parse the options, run each configuration, print the table and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", choices=CONFIGS, help="backend:processes (repeatable)")
    parser.add_argument(
        "--requests",
        type=int,
        default=400,
        help="simultaneous requests per burst (default 400); --in-process: sequential",
    )
    parser.add_argument("--groups", type=int, default=150, help="groups of three (default 150)")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout per request, s")
    parser.add_argument("--in-process", action="store_true", help="per-request cost through the ASGI app, no server")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"], help="for --in-process")
    args = parser.parse_args()
    print(machine(), flush=True)
    if args.in_process:
        main_in_process(args)
        return
    rows = _each_in_own_folder(args.config or CONFIGS, lambda config, work: run_config(config, args, work))
    print()
    print(f"{args.requests} simultaneous requests per burst, {args.groups} groups of three:")
    print()
    print(
        table(
            rows,
            [
                "config",
                "endpoint",
                "ok",
                "errors",
                "error kinds",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "wall s",
                "p50 ÷ baseline",
                "p99 ÷ baseline",
            ],
        )
    )
    reads = [r for r in rows if r["endpoint"] == "GET submissions"]
    passed = all(r["errors"] == 0 and r["ok"] == args.requests and r["p99 ms"] < 2000 for r in reads)
    print()
    print(f"{'PASS' if passed else 'FAIL'}: every read answered 200 with p99 under 2 s in each configuration")


if __name__ == "__main__":
    main()
