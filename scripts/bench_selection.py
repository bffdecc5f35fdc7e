#!/usr/bin/env python3
"""Selection and marks benchmark: 1,000 groups × 3 reviews per milestone, against baselines.

For each backend (SQLite, PostgreSQL) it migrates a fresh database and bulk-loads one course
with N groups of four students, a graded version of every milestone (proposal, report, final)
per group, each reviewed by 3 of 10 staff, a tenth of the reports late, a few extensions. Then
it times, as the median of --runs runs after one warm-up, each in its own transaction:

  select reviews   baseline: a plain SELECT of the report's review rows (submission, reviewer, score)
  selection run    app.selection.service.selection_run: graded versions, reviews, ranking, stored run
  ... normalised   the same with per-reviewer normalisation
  marks.csv        app.marks.service.marks_table + marks_csv: every student's marks as CSV
and, in process without a database, on the same numbers:
  python sort      baseline: sorted() of (−mean, −median, received, id) tuples
  rank_reports     app.selection.ranking.rank_reports (means, medians, tie-break labels)
  normalise        app.reviews.aggregate.normalise_scores over the report's reviews

    .venv/bin/python scripts/bench_selection.py                       # both backends
    .venv/bin/python scripts/bench_selection.py --backend sqlite --groups 1000 --runs 7

PostgreSQL comes from scripts/pg-test-server (Debian's postgresql 15), on a loopback port.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchdb import bench_database  # noqa: E402

T0 = datetime(2026, 9, 1, tzinfo=UTC)
STAFF = 10
REVIEWS = 3


def load_course(url: str, groups: int, seed: int) -> tuple[int, int]:
    """Migrate and bulk-load the course; returns (course id, lecturer id)."""
    os.environ["TRACKER_DATABASE_URL"] = url
    from alembic import command
    from sqlmodel import Session, select

    from app.config import get_settings
    from app.courses.schemas import CourseCreate
    from app.courses.service import course_create
    from app.db import alembic_config, get_engine
    from app.milestones.rules import milestone_deadline
    from app.models import (
        CourseMember,
        Extension,
        GroupMembership,
        Milestone,
        ProjectGroup,
        Review,
        Submission,
        User,
    )

    get_settings.cache_clear()
    get_engine.cache_clear()
    command.upgrade(alembic_config(url), "head")
    rng = random.Random(seed)
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        lecturer = User(username="lecturer", name="Lecturer", is_admin=True, created_at=T0)
        session.add(lecturer)
        session.flush()
        course = course_create(
            session, user=lecturer, data=CourseCreate(code="BENCH", title="Bench", start_date=date(2026, 9, 7)), now=T0
        )
        tas = [User(username=f"ta{i}", name=f"TA {i}", created_at=T0) for i in range(STAFF - 1)]
        students = [
            User(username=f"s{i}", name=f"Student {i}", student_no=f"{i:06d}", created_at=T0) for i in range(groups * 4)
        ]
        session.add_all(tas + students)
        session.flush()
        session.add_all([CourseMember(course_id=course.id, user_id=u.id, role="ta") for u in tas])
        session.add_all([CourseMember(course_id=course.id, user_id=u.id, role="student") for u in students])
        group_rows = [
            ProjectGroup(course_id=course.id, name=f"Group {i:04d}", join_code=f"B{i:07d}", created_at=T0)
            for i in range(groups)
        ]
        session.add_all(group_rows)
        session.flush()
        session.add_all(
            [
                GroupMembership(group_id=g.id, course_id=course.id, user_id=students[4 * i + j].id, joined_at=T0)
                for i, g in enumerate(group_rows)
                for j in range(4)
            ]
        )
        staff_ids = [lecturer.id] + [u.id for u in tas]
        milestones = session.exec(select(Milestone).where(Milestone.course_id == course.id)).all()
        for m in milestones:
            due = milestone_deadline(course, m)
            subs = []
            for i, g in enumerate(group_rows):
                late = timedelta(hours=rng.choice([1, 30, 100])) if rng.random() < 0.1 else -timedelta(hours=1)
                subs.append(
                    Submission(
                        group_id=g.id,
                        milestone_id=m.id,
                        version=1,
                        received_at=due + late,
                        filename="x.pdf",
                        size_bytes=1000,
                        sha256=f"{m.id:08x}{i:056x}",
                        ruleset=m.ruleset,
                        verdict="accept",
                        format_report={},
                    )
                )
                if i % 50 == 0:
                    session.add(
                        Extension(
                            group_id=g.id,
                            milestone_id=m.id,
                            due_at=due + timedelta(days=2),
                            reason="bench",
                            created_at=T0,
                        )
                    )
            session.add_all(subs)
            session.flush()
            reviews = []
            for i, sub in enumerate(subs):
                for k in range(REVIEWS):
                    score = round(min(100.0, max(0.0, rng.gauss(70, 12))), 1)
                    reviews.append(
                        Review(
                            submission_id=sub.id,
                            reviewer_id=staff_ids[(i + k) % STAFF],
                            points={"overall": score},
                            score=score,
                            created_at=T0,
                            updated_at=T0,
                        )
                    )
            session.add_all(reviews)
        session.commit()
        return course.id, lecturer.id


def timed(runs: int, fn: Callable[[], Any]) -> float:
    """Median seconds of `runs` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(url: str, groups: int, runs: int, seed: int) -> list[tuple[str, float]]:
    """Load the course, then time the database and in-process phases."""
    course_id, lecturer_id = load_course(url, groups, seed)
    from sqlmodel import Session, col, select

    from app.db import get_engine
    from app.marks.service import marks_csv, marks_table
    from app.models import Course, Milestone, Review, Submission, User
    from app.reviews.aggregate import mean_of, median_of, normalise_scores
    from app.reviews.service import milestone_scores
    from app.selection.ranking import Candidate, rank_reports
    from app.selection.service import selection_run

    engine = get_engine()

    def in_transaction(fn: Callable[[Session], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    return fn(session)
                finally:
                    session.rollback()  # leave the database as loaded

        return run

    with Session(engine) as session:
        lecturer = session.get(User, lecturer_id)
        course = session.get(Course, course_id)
        report = session.exec(
            select(Milestone).where(Milestone.course_id == course_id, Milestone.key == "report")
        ).one()
        scores = milestone_scores(session, course=course, milestone=report)
    assert lecturer is not None and course is not None
    now = datetime(2027, 1, 5, tzinfo=UTC)

    def select_reviews(session: Session) -> int:
        rows = session.exec(
            select(Review.submission_id, Review.reviewer_id, Review.score)
            .join(Submission, col(Submission.id) == col(Review.submission_id))
            .where(Submission.milestone_id == report.id)
        ).all()
        assert len(rows) == groups * REVIEWS
        return len(rows)

    def run_selection(normalise: bool) -> Callable[[Session], Any]:
        def go(session: Session) -> Any:
            run = selection_run(session, user=lecturer, course_id=course_id, normalise=normalise, now=now)
            assert len(run.ranking) == groups
            return run

        return go

    def export(session: Session) -> str:
        text = marks_csv(marks_table(session, course=course))
        assert text.count("\n") == groups * 4 + 1
        return text

    candidates = [
        Candidate(group_id=g, group_name=f"Group {g}", scores=s.scores, received_at=s.graded.submission.received_at)
        for g, s in scores.items()
    ]
    triples = [(r, g, score) for g, s in scores.items() for r, score in s.reviews]
    results = [
        ("select reviews (baseline)", timed(runs, in_transaction(select_reviews))),
        ("selection run", timed(runs, in_transaction(run_selection(False)))),
        ("selection run, normalised", timed(runs, in_transaction(run_selection(True)))),
        ("marks.csv", timed(runs, in_transaction(export))),
        (
            "python sort (baseline)",
            timed(
                runs,
                lambda: sorted(
                    (-mean_of(c.scores), -median_of(c.scores), c.received_at, c.group_id) for c in candidates
                ),
            ),
        ),
        ("rank_reports", timed(runs, lambda: rank_reports(candidates, slots=10))),
        ("normalise_scores", timed(runs, lambda: normalise_scores(triples))),
    ]
    engine.dispose()
    return results


def main() -> None:
    """Parse arguments, run each backend, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as work:
        for backend in backends:
            with bench_database(backend, Path(work), "bench_selection") as url:
                for name, seconds in measure(url, args.groups, args.runs, args.seed):
                    table.setdefault(name, {})[backend] = seconds
    print(
        f"{args.groups} groups × {REVIEWS} reviews per milestone, {args.groups * 4} students, "
        f"median of {args.runs} runs"
    )
    print(f"{'phase':<28}" + "".join(f"{b:>12}" for b in backends))
    for name, by_backend in table.items():
        cells = "".join(f"{by_backend[b] * 1000:>10.1f}ms" if b in by_backend else f"{'':>12}" for b in backends)
        if name in {"python sort (baseline)", "rank_reports", "normalise_scores"}:
            cells = f"{by_backend[backends[0]] * 1000:>10.1f}ms" + f"{'(in process)':>14}"
        print(f"{name:<28}{cells}")


if __name__ == "__main__":
    main()
