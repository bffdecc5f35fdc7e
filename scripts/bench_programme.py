#!/usr/bin/env python3
"""Week-16 benchmark: 1,000 groups, 40 talks and 960 poster boards built and published, against a baseline.

For each backend (SQLite, PostgreSQL) it migrates a fresh database and bulk-loads one course with
N groups of four students, each with a reviewed report, and a draft selection run with 40 places.
Then it times, as the median of --runs runs after one warm-up, each in its own transaction that is
rolled back afterwards (so every run starts from the same state):

  bare SQL (baseline)   the same writes as plain statements: one UPDATE of every deliverable, 960 board
                        rows and 40 slot rows inserted with executemany
  build and publish     publish the run (deliverables, audit, boards), add two sessions of 20 talks,
                        place the 40 talks by ranking, publish the programme: the services a lecturer calls
  programme read        programme_view: every talk's times and every board with group, topic and members
  CSV + PDF             the programme as CSV and as the printable PDF

    .venv/bin/python scripts/bench_programme.py                       # both backends
    .venv/bin/python scripts/bench_programme.py --backend postgresql --runs 7

PostgreSQL comes from scripts/pg-test-server (Debian's postgresql 15), on a loopback port.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchdb import bench_database  # noqa: E402

T0 = datetime(2026, 9, 1, tzinfo=UTC)
TALKS = 40


def load_course(url: str, groups: int) -> tuple[int, int, int]:
    """Migrate and bulk-load the course and a draft run; returns (course id, lecturer id, run id)."""
    os.environ["TRACKER_DATABASE_URL"] = url
    from alembic import command
    from sqlmodel import Session, select

    from app.config import get_settings
    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import alembic_config, get_engine
    from app.milestones.rules import milestone_deadline
    from app.models import CourseMember, GroupMembership, Milestone, ProjectGroup, Review, Submission, Topic, User
    from app.selection.service import selection_run

    get_settings.cache_clear()
    get_engine.cache_clear()
    command.upgrade(alembic_config(url), "head")
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        lecturer = User(username="lecturer", name="Lecturer", is_admin=True, created_at=T0)
        session.add(lecturer)
        session.flush()
        course = course_create(
            session,
            user=lecturer,
            now=T0,
            data=CourseCreate(code="BENCH", title="Bench", start_date=date(2026, 9, 7), presentation_slots=TALKS),
        )
        students = [
            User(username=f"s{i}", name=f"Student {i}", student_no=f"{i:06d}", created_at=T0) for i in range(groups * 4)
        ]
        session.add_all(students)
        session.flush()
        session.add_all([CourseMember(course_id=course.id, user_id=u.id, role="student") for u in students])
        rows = [
            ProjectGroup(course_id=course.id, name=f"Group {i:04d}", join_code=f"B{i:07d}", created_at=T0)
            for i in range(groups)
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(
            [
                GroupMembership(group_id=g.id, course_id=course.id, user_id=students[4 * i + j].id, joined_at=T0)
                for i, g in enumerate(rows)
                for j in range(4)
            ]
        )
        session.add_all(
            [
                Topic(group_id=g.id, title=f"Topic {i}", area="other", status="approved", updated_at=T0)
                for i, g in enumerate(rows)
            ]
        )
        report = session.exec(
            select(Milestone).where(Milestone.course_id == course.id, Milestone.key == "report")
        ).one()
        due = milestone_deadline(course, report)
        subs = [
            Submission(
                group_id=g.id,
                milestone_id=report.id,
                version=1,
                received_at=due - timedelta(hours=1),
                filename="x.pdf",
                size_bytes=1000,
                sha256=f"{i:064x}",
                ruleset="report",
                verdict="accept",
                format_report={},
            )
            for i, g in enumerate(rows)
        ]
        session.add_all(subs)
        session.flush()
        session.add_all(
            [
                Review(
                    submission_id=s.id,
                    reviewer_id=lecturer.id,
                    points={"overall": 100 - i / 20},
                    score=100 - i / 20,
                    created_at=T0,
                    updated_at=T0,
                )
                for i, s in enumerate(subs)
            ]
        )
        session.flush()
        run = selection_run(session, user=lecturer, course_id=course.id or 0, now=T0)
        session.commit()
        return course.id or 0, lecturer.id or 0, run.id or 0


def timed(runs: int, fn: Callable[[], Any]) -> float:
    """Median seconds of `runs` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(url: str, groups: int, runs: int) -> list[tuple[str, float]]:
    """Load the course, then time the baseline, the build-and-publish flow, the read and the exports."""
    course_id, lecturer_id, run_id = load_course(url, groups)
    from sqlalchemy import insert, text
    from sqlmodel import Session

    from app.db import get_engine
    from app.models import PosterBoard, TalkSession, TalkSlot, User
    from app.programme.export import programme_csv, programme_pdf
    from app.programme.flows import programme_publish, selection_publish_flow
    from app.programme.schemas import SessionIn
    from app.programme.service import programme_view, session_create, talks_place

    engine = get_engine()
    now = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)

    def in_transaction(fn: Callable[[Session], Any], *, keep: bool = False) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    return fn(session)
                finally:
                    if not keep:
                        session.rollback()  # leave the database as loaded
                    else:
                        session.commit()

        return run

    with Session(engine, expire_on_commit=False) as session:
        lecturer = session.get(User, lecturer_id)
        group_ids = [gid for (gid,) in session.execute(text("SELECT id FROM project_group ORDER BY id"))]
    assert lecturer is not None

    def bare_sql(session: Session) -> None:
        # Core statements (no ORM objects, no checks, no audit): the floor for the same writes.
        conn = session.connection()
        conn.execute(
            text(
                "UPDATE project_group SET deliverable = CASE WHEN id <= :last THEN 'slides' "
                "ELSE 'poster' END WHERE course_id = :course"
            ),
            {"last": group_ids[TALKS - 1], "course": course_id},
        )
        sid = conn.execute(
            insert(TalkSession.__table__).values(  # type: ignore[arg-type]
                course_id=course_id,
                title="",
                day=date(2026, 12, 22),
                start_time=clock_time(9, 0),
                room="Hall",
                talk_minutes=10,
                changeover_minutes=2,
                breaks=[],
                created_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(PosterBoard.__table__),  # type: ignore[arg-type]
            [
                {"course_id": course_id, "group_id": g, "number": i + 1, "assigned_at": now}
                for i, g in enumerate(group_ids[TALKS:])
            ],
        )
        conn.execute(
            insert(TalkSlot.__table__),  # type: ignore[arg-type]
            [
                {"course_id": course_id, "session_id": sid, "group_id": g, "position": i}
                for i, g in enumerate(group_ids[:TALKS])
            ],
        )

    def build_and_publish(session: Session) -> None:
        selection_publish_flow(session, user=lecturer, selection_id=run_id, now=now)
        for start in (clock_time(9, 0), clock_time(14, 0)):
            session_create(
                session,
                user=lecturer,
                course_id=course_id,
                now=now,
                data=SessionIn(day=date(2026, 12, 22), start_time=start, room="Hall", max_talks=20),
            )
        talks_place(session, user=lecturer, course_id=course_id, mode="ranking", seed=None, now=now)
        view = programme_publish(session, user=lecturer, course_id=course_id, now=now)
        assert sum(len(s.talks) for s in view.sessions) == TALKS
        assert len(view.boards) == groups - TALKS

    def read(session: Session) -> None:
        view = programme_view(session, user=lecturer, course_id=course_id, now=now)
        assert len(view.boards) == groups - TALKS

    def export(session: Session) -> None:
        view = programme_view(session, user=lecturer, course_id=course_id, now=now)
        assert programme_csv(view).count("\n") == groups + 1
        assert programme_pdf(view)[:5] == b"%PDF-"

    results = [
        ("bare SQL (baseline)", timed(runs, in_transaction(bare_sql))),
        ("build and publish", timed(runs, in_transaction(build_and_publish))),
    ]
    in_transaction(build_and_publish, keep=True)()  # reads and exports need a built programme
    results += [
        ("programme read", timed(runs, in_transaction(read))),
        ("CSV + PDF", timed(runs, in_transaction(export))),
    ]
    engine.dispose()
    return results


def main() -> None:
    """Parse arguments, run each backend, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as work:
        for backend in backends:
            with bench_database(backend, Path(work), "bench_programme") as url:
                for name, seconds in measure(url, args.groups, args.runs):
                    table.setdefault(name, {})[backend] = seconds
    print(f"{args.groups} groups, {TALKS} talks, {args.groups - TALKS} boards, median of {args.runs} runs")
    print(f"{'phase':<24}" + "".join(f"{b:>14}" for b in backends))
    for name, by_backend in table.items():
        print(f"{name:<24}" + "".join(f"{by_backend[b] * 1000:>12.1f}ms" for b in backends))
    base = table["bare SQL (baseline)"]
    flow = table["build and publish"]
    print("build and publish / baseline: " + ", ".join(f"{b} {flow[b] / base[b]:.1f}×" for b in backends))


if __name__ == "__main__":
    main()
