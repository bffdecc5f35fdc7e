#!/usr/bin/env python3
"""Login-flood benchmark: concurrent wrong-password logins for a real account while another user works.

For each backend (SQLite, PostgreSQL) it migrates a fresh database, creates the account under
attack (`lecturer`) and a TA, and starts the server (uvicorn on 127.0.0.1, one worker). Then:

  baseline  the TA polls GET /api/v1/me back to back for --baseline seconds, alone;
  flood     the same poll while --clients concurrent clients (a separate process) post wrong
            passwords for `lecturer` to POST /api/v1/auth/token for --duration seconds.

It prints the poller's p50/p99 and errors in both phases (the ratio flood/baseline), and how
the flood's guesses were answered: how many got anything other than 429 is how many guesses
the attacker could actually try.

    .venv/bin/python scripts/bench_login_flood.py                     # both backends, 40 clients, 30 s
    .venv/bin/python scripts/bench_login_flood.py --backend sqlite --clients 40 --duration 30
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attacklib import database, percentile, server, use_database

TARGET, PASSWORD = "lecturer", "lecturer-pass"


@dataclass
class Poll:
    """The poller's latencies (ms) and failures."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, object]:
        """Counts and percentiles."""
        return {
            "polls": len(self.latencies),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "p50_ms": round(percentile(self.latencies, 50), 1),
            "p99_ms": round(percentile(self.latencies, 99), 1),
        }


def setup(url: str, storage: Path) -> str:
    """The attacked account and the poller's account (a TA with a bearer token); returns the token."""
    from sqlmodel import Session

    from app.db import get_engine
    from app.people.service import user_create
    from app.tokens import token_issue

    use_database(url, storage)
    now = datetime.now(UTC)
    with Session(get_engine(), expire_on_commit=False) as session:
        user_create(session, username=TARGET, password=PASSWORD, name="Lecturer", now=now)
        ta = user_create(session, username="ta1", password=None, name="TA", now=now)
        secret, token = token_issue(session, user=ta, now=now)
        token.expires_at = now + timedelta(days=1)
        session.add(token)
        session.commit()
    get_engine().dispose()
    return secret


async def poll(base: str, token: str, seconds: float) -> Poll:
    """GET /me back to back for `seconds`."""
    import httpx

    result = Poll()
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            try:
                response = await client.get("/api/v1/me")
                if response.status_code != 200:
                    result.errors[str(response.status_code)] += 1
            except Exception as exc:  # noqa: BLE001 (a refused or dropped connection is an error the user sees)
                result.errors[type(exc).__name__] += 1
            result.latencies.append((time.perf_counter() - start) * 1000)
    return result


async def flood(base: str, seconds: float, clients: int) -> dict[str, int]:
    """`clients` loops posting wrong passwords for the target; returns the answers by status."""
    import httpx

    answers: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        end = time.monotonic() + seconds

        async def one(n: int) -> None:
            guess = 0
            while time.monotonic() < end:
                guess += 1
                try:
                    response = await client.post(
                        "/api/v1/auth/token", data={"username": TARGET, "password": f"guess-{n}-{guess}"}
                    )
                    answers[str(response.status_code)] += 1
                except Exception as exc:  # noqa: BLE001 (the attacker counts every kind of failure)
                    answers[type(exc).__name__] += 1

        await asyncio.gather(*(one(n) for n in range(clients)))
    return dict(answers)


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict[str, object]:
    """Baseline and flood phases against one backend."""
    with database(backend, work, "flood") as url:
        storage = work / f"files-{backend}"
        token = setup(url, storage)
        with server(url, storage) as (base, _):
            baseline = asyncio.run(poll(base, token, args.baseline))
            attacker = subprocess.Popen(
                [sys.executable, __file__, "--flood", base, str(args.duration), str(args.clients)],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(0.5)  # the flood is under way before the first measured poll
            during = asyncio.run(poll(base, token, args.duration - 1))
            out, _ = attacker.communicate(timeout=args.duration + 120)
            answers: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    result = {
        "backend": backend,
        "baseline": baseline.summary(),
        "flood": during.summary(),
        "answers": answers,
        "guesses_not_429": sum(n for status, n in answers.items() if status != "429"),
    }
    print(json.dumps(result), flush=True)
    return result


def table(results: list[dict[str, object]], args: argparse.Namespace) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"{args.clients} concurrent wrong-password logins for one account for {args.duration:g} s while a TA "
        "polls GET /api/v1/me; one uvicorn worker:",
        "",
        "| backend | phase | polls | poller errors | p50 | p99 | p99 vs baseline | guesses answered | not 429 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base, fl = r["baseline"], r["flood"]
        assert isinstance(base, dict)
        assert isinstance(fl, dict)
        assert isinstance(r["answers"], dict)
        ratio = fl["p99_ms"] / base["p99_ms"] if base["p99_ms"] else 0
        lines.append(
            f"| {r['backend']} | baseline | {base['polls']} | {base['errors']} | {base['p50_ms']} ms | "
            f"{base['p99_ms']} ms | 1.00x | - | - |"
        )
        lines.append(
            f"| {r['backend']} | flood | {fl['polls']} | {fl['errors']} | {fl['p50_ms']} ms | "
            f"{fl['p99_ms']} ms | {ratio:.2f}x | {sum(r['answers'].values())} | {r['guesses_not_429']} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options and run the benchmark."""
    if len(sys.argv) == 5 and sys.argv[1] == "--flood":
        print(json.dumps(asyncio.run(flood(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of flood (default 30)")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of polling alone (default 10)")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="tracker-flood-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the PostgreSQL server runs as `postgres` when we are root
        for backend in backends:
            results.append(run_backend(backend, args, work))
    print()
    print(table(results, args))


if __name__ == "__main__":
    main()
