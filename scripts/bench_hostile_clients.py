#!/usr/bin/env python3
"""Hostile clients against a real server: each scenario measures what an honest user sees meanwhile.

Scenarios (`--scenario NAME`, repeatable; default: all registered):

  slow-checks   one student sends 24 simultaneous dry-run checks (POST /api/v1/check) of a crafted
                PDF that runs to the check's CPU limit, and while they are in flight a member of
                another group uploads a normal report. The upload must take under 2 s. The same
                upload is first timed on the idle server (the baseline, same command).

Each scenario gets a fresh SQLite database, a course and `tracker serve` (1 process) of its own.
A scenario is a function registered in SCENARIOS: it takes the options and a work folder and
returns its table rows and a PASS/FAIL line.

    .venv/bin/python scripts/bench_hostile_clients.py --scenario slow-checks
"""

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_rush import make_pdfs
from benchlib import ROOT, Request, build_course, database, machine, replay, server, table

Scenario = Callable[[argparse.Namespace, Path], tuple[list[dict[str, Any]], str]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under `name`."""
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function
    return register


def _slow_pdf() -> bytes:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.formatcheck.formatcheck_pdfs import text_page_pdf

    return text_page_pdf(60_000, text=b"Slow to parse")  # its page tree alone outlasts the CPU limit


@scenario("slow-checks")
def slow_checks(args: argparse.Namespace, work: Path) -> tuple[list[dict[str, Any]], str]:
    """24 slow dry runs from one student while another group uploads."""
    slow = _slow_pdf()
    report = make_pdfs(1, 0.5, 0.5, args.seed)[0]
    with database("sqlite", work) as url:
        course = build_course(url, code="HOSTILE", groups=2)
        attacker, honest = course.students[0][0], course.students[1][0]
        upload_url = f"/api/v1/groups/{course.group_ids[1]}/milestones/report/submissions"
        with server(url, work / "files", workers=1, log=work / "server.log") as base:
            asyncio.run(replay(base, [Request(0, "warm", "POST", "/api/v1/check?ruleset=report", honest, file=report)]))
            baseline = asyncio.run(replay(base, [Request(0, "upload", "POST", upload_url, honest, file=report)]))
            hostile = [Request(0, "check", "POST", "/api/v1/check?ruleset=report", attacker, file=slow,
                               expect=(200,)) for _ in range(args.checks)]
            # The upload starts once the slow checks are in flight (their bodies are large).
            requests = hostile + [Request(args.upload_after, "upload", "POST", upload_url, honest,
                                          file=report + b"\n%second\n")]
            started = time.perf_counter()
            during = asyncio.run(replay(base, requests, timeout=args.timeout))
            wall = time.perf_counter() - started
    upload_s = during.latencies.get("upload", [float("nan")])[0]
    base_s = baseline.latencies["upload"][0]
    refused = during.errors.get("check", {}).get("HTTP 429", 0)
    rows = [
        {"scenario": "slow-checks", "what": "upload alone (baseline)", "ms": round(base_s * 1000), "ratio": "1.00×"},
        {"scenario": "slow-checks", "what": f"upload during {args.checks} slow checks", "ms": round(upload_s * 1000),
         "ratio": f"{upload_s / base_s:.2f}×"},
        {"scenario": "slow-checks", "what": "slow checks answered 200 (unreadable, time limit)",
         "ms": round(max(during.latencies.get("check", [0])) * 1000), "ratio": f"{during.ok('check')} of {args.checks}"},
        {"scenario": "slow-checks", "what": "slow checks refused 429 (per-user cap)", "ms": "-",
         "ratio": f"{refused} of {args.checks}"},
        {"scenario": "slow-checks", "what": "other answers", "ms": "-",
         "ratio": str({k: v for k, v in during.errors.get("check", {}).items() if k != "HTTP 429"} or "none")},
        {"scenario": "slow-checks", "what": "scenario wall time", "ms": round(wall * 1000), "ratio": "-"},
    ]
    passed = during.ok("upload") == 1 and upload_s < 2.0
    return rows, f"{'PASS' if passed else 'FAIL'} slow-checks: the other group's upload took {upload_s:.2f} s (< 2 s)"


def main() -> None:
    """Parse the options and run the scenarios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="scenario (repeatable)")
    parser.add_argument("--checks", type=int, default=24, help="slow-checks: simultaneous slow checks (default 24)")
    parser.add_argument("--upload-after", type=float, default=1.0, help="slow-checks: upload starts after this many s")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, s")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(machine(), flush=True)
    rows, verdicts = [], []
    for name in args.scenario or sorted(SCENARIOS):
        with tempfile.TemporaryDirectory(prefix=f"tracker-{name}-") as tmp:
            more, verdict = SCENARIOS[name](args, Path(tmp))
        rows.extend(more)
        verdicts.append(verdict)
    print()
    print(table(rows, ["scenario", "what", "ms", "ratio"]))
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
