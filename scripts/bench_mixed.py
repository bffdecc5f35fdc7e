#!/usr/bin/env python3
"""Deadline-night mixed load: uploads, students reading their status, TAs on dashboards, the lecturer's selection.

1× is 35 requests/s, arriving at random (Poisson, seeded) and sent on time whatever the server's
speed (open loop, so latency includes queueing):

  upload      3/s   POST .../milestones/report/submissions, a generated report PDF of 0.3-1 MB
  list        16/s  GET  .../milestones/report/submissions (a student's versions)
  me          8/s   GET  /api/v1/me
  dashboard   7/s   GET  /courses/{id}/dashboard?milestone=report (a TA, 50 groups)
  selection   1/s   POST /courses/{id}/selections {force: true} (the lecturer, a write)

Each run (backend:processes@rate) migrates a fresh database, builds a 50-group course for the mix
and a 1,000-group course for the dashboard phase, starts `tracker serve --workers N`, warms it,
runs the mix for --duration seconds (default 90), then has 8 TAs poll the 1,000-group dashboard
(each every 2 s) for --dashboard-duration seconds. It prints per-endpoint ok/errors/p50/p95/p99/max
and the integrity check, file by file (each upload is unique): a row and a file for every accepted
upload, none for a refused one, contiguous versions, no file without a row, no staged leftovers.

    .venv/bin/python scripts/bench_mixed.py                              # the default runs below
    .venv/bin/python scripts/bench_mixed.py --run sqlite:1@1.5 --duration 30
"""

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench_rush import make_pdfs
from benchlib import (
    Request,
    add_reports,
    build_course,
    database,
    figures,
    machine,
    replay,
    seeded,
    server,
    table,
    verify_uploads,
)

DEFAULT_RUNS = ["sqlite:1@1.5", "sqlite:1@2", "postgresql:1@2", "postgresql:4@2"]
MIX = {"upload": 3.0, "list": 16.0, "me": 8.0, "dashboard": 7.0, "selection": 1.0}  # per second at 1×


def mixed_requests(args: argparse.Namespace, rate: float, course: Any, pdfs: list[bytes]) -> list[Request]:
    """The seeded schedule of the mix at `rate` × 35 requests/s."""
    rng = seeded(args.seed)
    requests: list[Request] = []
    for label, per_second in MIX.items():
        at = 0.0
        while True:
            at += rng.expovariate(per_second * rate)
            if at >= args.duration:
                break
            g = rng.randrange(len(course.group_ids))
            student = course.students[g][rng.randrange(3)]
            group_url = f"/api/v1/groups/{course.group_ids[g]}/milestones/report/submissions"
            if label == "upload":
                body = pdfs[len(requests) % len(pdfs)] + f"\n%mixed {len(requests)}\n".encode()
                requests.append(Request(at, label, "POST", group_url, student, file=body))
            elif label == "list":
                requests.append(Request(at, label, "GET", group_url, student))
            elif label == "me":
                requests.append(Request(at, label, "GET", "/api/v1/me", student))
            elif label == "dashboard":
                requests.append(
                    Request(
                        at,
                        label,
                        "GET",
                        f"/api/v1/courses/{course.course_id}/dashboard?milestone=report",
                        course.tas[rng.randrange(len(course.tas))],
                    )
                )
            else:
                requests.append(
                    Request(
                        at,
                        label,
                        "POST",
                        f"/api/v1/courses/{course.course_id}/selections",
                        course.lecturer,
                        json={"slots": 10, "force": True},
                    )
                )
    return sorted(requests, key=lambda r: r.at)


def polling_requests(args: argparse.Namespace, big: Any) -> list[Request]:
    """Eight TAs (or --tas) each polling the 1,000-group dashboard every 2 s, staggered."""
    url = f"/api/v1/courses/{big.course_id}/dashboard?milestone=report"
    return sorted(
        (
            Request(t * 2.0 / len(big.tas) + k * 2.0, "dashboard 1000 groups", "GET", url, token)
            for t, token in enumerate(big.tas)
            for k in range(int(args.dashboard_duration / 2))
        ),
        key=lambda r: r.at,
    )


def run_one(spec: str, args: argparse.Namespace, pdfs: list[bytes], work: Path) -> tuple[list[dict[str, Any]], str]:
    """One backend:processes@rate run: the mix, then the dashboard polling, then the integrity check."""
    config, rate_text = spec.split("@")
    backend, workers = config.split(":")
    rate = float(rate_text)
    name = f"{backend}, {workers} process{'es' if workers != '1' else ''}, {rate:g}×"
    with database(backend, work) as url:
        course = build_course(url, code="MIX", groups=50, tas=4)
        big = build_course(url, code="BIG", groups=1000, tas=args.tas)
        add_reports(url, big)
        storage = work / "files"
        with server(url, storage, workers=int(workers), log=work / "server.log") as base:
            warm = [Request(0, "warm", "GET", "/api/v1/me", course.students[g][0]) for g in range(10)]
            warm.append(Request(0, "warm", "POST", "/api/v1/check?ruleset=report", course.students[0][0], file=pdfs[0]))
            asyncio.run(replay(base, warm))
            requests = mixed_requests(args, rate, course, pdfs)
            print(f"{name}: {len(requests)} requests over {args.duration:g} s ...", flush=True)
            mixed = asyncio.run(replay(base, requests, request_timeout_s=args.timeout))
            polled = asyncio.run(replay(base, polling_requests(args, big), request_timeout_s=args.timeout))
        _, verdict = verify_uploads(url, storage, course, mixed.files)
    rows = [{"run": name, **figures(label, mixed, key=label)} for label in MIX]
    rows.append({"run": name, **figures("all (mix)", mixed), "req/s": round(len(requests) / args.duration, 1)})
    rows.append(
        {"run": name, **figures(f"dashboard, 1000 groups, {args.tas} TAs", polled, key="dashboard 1000 groups")}
    )
    for row in rows:
        print(row, flush=True)
    print(f"{name}: {verdict}", flush=True)
    return rows, f"{name}: {verdict}"


def main() -> None:
    """Parse the options, run each configuration, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", help="backend:processes@rate, e.g. postgresql:4@2 (repeatable)")
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of mixed load (default 90)")
    parser.add_argument("--dashboard-duration", type=float, default=30.0, help="seconds of dashboard polling")
    parser.add_argument("--tas", type=int, default=8, help="TAs polling the 1,000-group dashboard (default 8)")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout per request, s")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(machine(), flush=True)
    pdfs = make_pdfs(6, 0.3, 1.0, args.seed)
    rows, verdicts = [], []
    for spec in args.run or DEFAULT_RUNS:
        with tempfile.TemporaryDirectory(prefix="tracker-mixed-") as tmp:
            Path(tmp).chmod(0o755)  # the PostgreSQL server runs as `postgres` when we are root
            more, verdict = run_one(spec, args, pdfs, Path(tmp))
            rows.extend(more)
            verdicts.append(verdict)
    print()
    print(
        table(rows, ["run", "endpoint", "ok", "errors", "error kinds", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s"])
    )
    print()
    for verdict in verdicts:
        print(f"- {verdict}")


if __name__ == "__main__":
    main()
