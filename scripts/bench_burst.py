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
"""

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from benchlib import Request, build_course, database, figures, machine, replay, server, table

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


def main() -> None:
    """Parse the options, run each configuration, print the table and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", choices=CONFIGS, help="backend:processes (repeatable)")
    parser.add_argument("--requests", type=int, default=400, help="simultaneous requests per burst (default 400)")
    parser.add_argument("--groups", type=int, default=150, help="groups of three (default 150)")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout per request, s")
    args = parser.parse_args()
    print(machine(), flush=True)
    rows = []
    for config in args.config or CONFIGS:
        with tempfile.TemporaryDirectory(prefix="tracker-burst-") as tmp:
            Path(tmp).chmod(0o755)  # the PostgreSQL server runs as `postgres` when we are root
            rows.extend(run_config(config, args, Path(tmp)))
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
