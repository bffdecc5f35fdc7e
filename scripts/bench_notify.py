#!/usr/bin/env python3
"""Notice benchmark: reminders for 1,000 groups × 3 milestones through the outbox to a real SMTP server.

For each backend it migrates a fresh database and bulk-loads one course with N groups of M students
(each with an address), the three milestones due 30 h, 40 h and 47 h from now, and no version
uploaded: every member of every group is due a 48 h reminder for every milestone. Then, in a child
process (the sender, as `tracker notify run --once` runs it), it times
  schedule   app.notify.schedule.reminders_schedule: compute and write N × 3 × M outbox rows
  deliver    app.notify.sender.notices_deliver: claim, send over SMTP to aiosmtpd, record
and reads the child's peak RSS. The baseline, in its own child process, sends the same number of
messages, built the same way, straight over one smtplib connection to the same server (no database).
Every run checks that aiosmtpd received each notice exactly once and that a second pass writes nothing.

    .venv/bin/python scripts/bench_notify.py                         # SQLite and PostgreSQL
    .venv/bin/python scripts/bench_notify.py --backend sqlite --groups 1000 --members 1 --runs 3

PostgreSQL comes from scripts/pg-test-server (Debian's postgresql 15), on a loopback port.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
DUE_IN_H = (30, 40, 47)
NOTICE_ID = re.compile(rb"^X-Tracker-Notice: (\d+)\r?$", re.M)


class Counter:
    """aiosmtpd handler that only records each message's notice id (kept cheap: the server is not measured)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = NOTICE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(int(found.group(1)) if found else -1)
        return "250 OK"


def load(url: str, groups: int, members: int) -> None:
    """Migrate and bulk-load the course."""
    os.environ["TRACKER_DATABASE_URL"] = url
    from alembic import command
    from sqlmodel import Session, select

    from app.config import get_settings
    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import alembic_config, get_engine
    from app.models import GroupMembership, Milestone, ProjectGroup, User
    from app.people.service import user_create

    get_settings.cache_clear()
    get_engine.cache_clear()
    command.upgrade(alembic_config(url), "head")
    engine = get_engine()
    with Session(engine) as s:
        admin = user_create(s, username="admin", password=None, is_admin=True, now=NOW)
        course = course_create(
            s, user=admin, data=CourseCreate(code="BENCH", title="Deep Learning", start_date=date(2026, 9, 7)), now=NOW
        )
        for milestone, hours in zip(s.exec(select(Milestone).order_by(Milestone.week)), DUE_IN_H, strict=True):
            milestone.due_at_override = NOW + timedelta(hours=hours)
            s.add(milestone)
        s.commit()
        cid = course.id
    rows_g = [
        {"course_id": cid, "name": f"G{g:05d}", "join_code": f"B{g:09d}", "created_at": NOW} for g in range(groups)
    ]
    with engine.begin() as conn:
        conn.execute(ProjectGroup.__table__.insert(), rows_g)  # type: ignore[attr-defined]
        conn.execute(
            User.__table__.insert(),
            [  # type: ignore[attr-defined]
                {
                    "username": f"s{g:05d}{m}",
                    "name": f"Student {g}.{m}",
                    "email": f"s{g:05d}{m}@bench.example.edu",
                    "is_admin": False,
                    "is_active": True,
                    "created_at": NOW,
                }
                for g in range(groups)
                for m in range(members)
            ],
        )
    with Session(engine) as s:
        group_ids = {n: i for n, i in s.exec(select(ProjectGroup.name, ProjectGroup.id))}
        user_ids = {n: i for n, i in s.exec(select(User.username, User.id))}
    with engine.begin() as conn:
        conn.execute(
            GroupMembership.__table__.insert(),
            [  # type: ignore[attr-defined]
                {
                    "group_id": group_ids[f"G{g:05d}"],
                    "course_id": cid,
                    "user_id": user_ids[f"s{g:05d}{m}"],
                    "joined_at": NOW,
                }
                for g in range(groups)
                for m in range(members)
            ],
        )
    engine.dispose()


SENDER = """
import json, sys, time
from datetime import datetime
from sqlmodel import Session
from app.config import get_settings
from app.db import get_engine
from app.notify.schedule import reminders_schedule
from app.notify.sender import notices_deliver
now = datetime.fromisoformat(sys.argv[1])
engine = get_engine()
t0 = time.perf_counter()
with Session(engine) as s:
    written = reminders_schedule(s, now=now)
    s.commit()
t1 = time.perf_counter()
stats = notices_deliver(engine, settings=get_settings(), clock=lambda: now)
t2 = time.perf_counter()
with Session(engine) as s:
    again = reminders_schedule(s, now=now)
    s.commit()
print(json.dumps({"written": written, "sent": stats.sent, "failed": stats.failed + stats.retrying,
                  "schedule_s": t1 - t0, "deliver_s": t2 - t1, "again": again}))
"""

BASELINE = """
import json, smtplib, sys, time
from datetime import UTC, datetime
from app.models import Notice
from app.outbox.render import notice_render
from app.notify.sender import notice_message
n, port = int(sys.argv[1]), int(sys.argv[2])
class U: name = "Student"; username = "s"
ctx = {"course": {"code": "BENCH", "title": "Deep Learning", "timezone": "Asia/Shanghai"},
       "group": {"id": 1, "name": "G"}, "milestone": "Proposal", "hours": 48, "deadline": datetime.now(UTC),
       "extended": False, "rejected": None, "status_url": "x", "preferences_url": "y", "user": U()}
r = notice_render("reminder", ctx)
t0 = time.perf_counter()
smtp = smtplib.SMTP("127.0.0.1", port)
for i in range(n):
    note = Notice(id=i + 1, kind="reminder", user_id=1, to_address=f"s{i}@bench.example.edu", subject=r.subject,
                  body_text=r.text, body_html=r.html, created_at=datetime.now(UTC), next_attempt_at=datetime.now(UTC))
    smtp.send_message(notice_message(note, mail_from="t@bench.example.edu"))
smtp.quit()
print(json.dumps({"sent": n, "deliver_s": time.perf_counter() - t0}))
"""


def measure(url: str, groups: int, members: int, port: int, counter: Counter) -> dict[str, float]:
    """Load one database, run the sender and the baseline; their figures."""
    load(url, groups, members)
    expected = groups * 3 * members
    env = {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TRACKER_PUBLIC_URL": "https://tracker.example.edu",
        "PYTHONPATH": str(ROOT),
    }
    counter.ids.clear()
    sender, sender_rss = spawn(SENDER, [NOW.isoformat()], env)
    ids = list(counter.ids)
    ok = (
        sender["written"] == sender["sent"] == expected
        and sender["failed"] == 0
        and sender["again"] == 0
        and len(ids) == expected
        and len(set(ids)) == expected
    )
    if not ok:
        raise SystemExit(f"check failed: {sender}, {len(ids)} received, {len(set(ids))} distinct")
    counter.ids.clear()
    baseline, baseline_rss = spawn(BASELINE, [str(expected), str(port)], env)
    assert len(counter.ids) == expected
    return {
        "notices": expected,
        "schedule_s": sender["schedule_s"],
        "deliver_s": sender["deliver_s"],
        "baseline_s": baseline["deliver_s"],
        "sender_rss": sender_rss,
        "baseline_rss": baseline_rss,
    }


def spawn(code: str, args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run `python -c code args` and return its JSON result and peak RSS in MiB (from wait4)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(write, 1)
        os.close(read)
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-c", code, *args], {**os.environ, **env})
    os.close(write)
    with os.fdopen(read) as stream:
        out = stream.read()
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"child exited with status {status}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    """Parse arguments, run each backend --runs times, print medians."""
    from aiosmtpd.controller import Controller

    from tests.smtp import free_port

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print(
        f"{args.groups} groups × 3 milestones × {args.members} member(s) = {args.groups * 3 * args.members} "
        f"reminders per run; median of {args.runs} runs; aiosmtpd on 127.0.0.1:{port}"
    )
    print(
        "| backend | notices | schedule | deliver | notices/s (deliver) | baseline smtplib/s | ratio | "
        "sender peak RSS | baseline peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    try:
        for backend in backends:
            pg_dir = None
            if backend == "postgresql":
                pg_dir = Path(tempfile.mkdtemp(prefix="tracker-pg."))
                admin = subprocess.run(
                    [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            results = []
            try:
                for run in range(args.runs):
                    if backend == "sqlite":
                        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-notify.')}/bench.sqlite"
                    else:
                        from sqlalchemy import create_engine
                        from sqlalchemy.engine import make_url

                        name = f"bench_notify_{run}"
                        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
                        with eng.connect() as conn:
                            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                        eng.dispose()
                        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
                    results.append(measure(url, args.groups, args.members, port, counter))
            finally:
                if pg_dir is not None:
                    subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False)
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            rate, base = med["notices"] / med["deliver_s"], med["notices"] / med["baseline_s"]
            print(
                f"| {backend} | {int(med['notices'])} | {med['schedule_s']:.2f} s | {med['deliver_s']:.2f} s | "
                f"{rate:.0f} | {base:.0f} | {rate / base:.2f} | {med['sender_rss']:.0f} MiB | "
                f"{med['baseline_rss']:.0f} MiB |"
            )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
