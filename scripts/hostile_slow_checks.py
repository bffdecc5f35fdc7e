#!/usr/bin/env python3
"""The slow-checks scenario of bench_hostile_clients.py: one student floods the format checker.

One student sends 24 simultaneous dry-run checks (POST /api/v1/check) of a crafted PDF that runs to the
check's CPU limit, and while they are in flight a member of another group uploads a normal report. The
upload must take under 2 s. The same upload is first timed on the idle server (the baseline, same command).
It gets a fresh SQLite database, a course and `tracker serve` (1 process) of its own.
"""

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from bench_rush import make_pdfs
from benchlib import ROOT, Request, build_course, database, replay, server


def _slow_pdf() -> bytes:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.formatcheck.formatcheck_pdfs import text_page_pdf

    return text_page_pdf(60_000, text=b"Slow to parse")  # its page tree alone outlasts the CPU limit


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
            hostile = [
                Request(0, "check", "POST", "/api/v1/check?ruleset=report", attacker, file=slow, expect=(200,))
                for _ in range(args.checks)
            ]
            # The upload starts once the slow checks are in flight (their bodies are large).
            requests = [
                *hostile,
                Request(args.upload_after, "upload", "POST", upload_url, honest, file=report + b"\n%second\n"),
            ]
            started = time.perf_counter()
            during = asyncio.run(replay(base, requests, request_timeout_s=args.timeout))
            wall = time.perf_counter() - started
    upload_s = during.latencies.get("upload", [float("nan")])[0]
    base_s = baseline.latencies["upload"][0]
    refused = during.errors.get("check", {}).get("HTTP 429", 0)
    rows = [
        {"scenario": "slow-checks", "what": "upload alone (baseline)", "ms": round(base_s * 1000), "ratio": "1.00×"},
        {
            "scenario": "slow-checks",
            "what": f"upload during {args.checks} slow checks",
            "ms": round(upload_s * 1000),
            "ratio": f"{upload_s / base_s:.2f}×",
        },
        {
            "scenario": "slow-checks",
            "what": "slow checks answered 200 (unreadable, time limit)",
            "ms": round(max(during.latencies.get("check", [0])) * 1000),
            "ratio": f"{during.ok('check')} of {args.checks}",
        },
        {
            "scenario": "slow-checks",
            "what": "slow checks refused 429 (per-user cap)",
            "ms": "-",
            "ratio": f"{refused} of {args.checks}",
        },
        {
            "scenario": "slow-checks",
            "what": "other answers",
            "ms": "-",
            "ratio": str({k: v for k, v in during.errors.get("check", {}).items() if k != "HTTP 429"} or "none"),
        },
        {"scenario": "slow-checks", "what": "scenario wall time", "ms": round(wall * 1000), "ratio": "-"},
    ]
    passed = during.ok("upload") == 1 and upload_s < 2.0
    return rows, f"{'PASS' if passed else 'FAIL'} slow-checks: the other group's upload took {upload_s:.2f} s (< 2 s)"
