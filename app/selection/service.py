"""Running, overriding, publishing and reading the presentation selection."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, course_for, is_row_id
from app.audit.service import audit_record
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.milestones.service import milestone_for
from app.models import Course, ProjectGroup, SelectionOverride, SelectionRun, User
from app.reviews.aggregate import HistogramBin, score_histogram
from app.reviews.service import GroupScores, milestone_scores
from app.selection.ranking import Candidate, RankRow, rank_reports

REPORT_KEY = "report"
LECTURERS = frozenset({LECTURER})
ERR_NO_SELECTION = "No such selection run."
ERR_LECTURER_ONLY = "Only the course's lecturer runs, overrides and publishes the selection."
ERR_PUBLISHED = "The run is published and can no longer change; start a new run."
ERR_ADD_NOT_ELIGIBLE = "The group to add is not in this run or already presents."
ERR_REMOVE_NOT_PRESENTING = "The group to remove does not present in this run."
ERR_REASON = "Give a reason for the override."
ERR_SUPERSEDED = "This run was superseded and can never be published again; start a new run."
ERR_NOT_READY = "Every report needs at least {required} review(s) before the selection runs (or force it)."
# PostgreSQL: SHARE locks keep writers of these tables out until the run commits, so the
# several reads of a run see one state even under READ COMMITTED. SQLite's BEGIN IMMEDIATE
# already serialises whole transactions.
_INPUT_TABLES = "submission, graded_pin, extension, review"


def not_ready_detail(*, required: int, short: list[tuple[str, int]], missing: list[str]) -> str:
    """The refusal message: which reports lack reviews (with their count) and which groups have no report."""
    parts = [ERR_NOT_READY.format(required=required)]
    if short:
        parts.append("Short of reviews: " + ", ".join(f"{name} ({n})" for name, n in short) + ".")
    if missing:
        parts.append("No report: " + ", ".join(missing) + ".")
    return " ".join(parts)


def _lock_inputs(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"LOCK TABLE {_INPUT_TABLES} IN SHARE MODE")


def _lock_course(session: Session, course_id: int) -> None:
    # FOR NO KEY UPDATE serialises selection writes per course without blocking inserts that
    # merely reference the course (audit events, reviews' foreign-key checks).
    session.exec(select(Course.id).where(Course.id == course_id).with_for_update(key_share=True)).one()


def _row_json(row: RankRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "group_id": row.group_id,
        "group_name": row.group_name,
        "score": row.score,
        "median": row.median,
        "reviews": row.reviews,
        "received_at": row.received_at.isoformat() if row.received_at else None,
        "tie_break": row.tie_break,
        "presenting": row.presenting,
    }


def _shortfalls(
    groups: Sequence[ProjectGroup], scores: dict[int, GroupScores], *, required: int
) -> tuple[list[tuple[str, int]], list[str]]:
    """The groups short of reviews (name, count) and the names of the groups without a report."""
    short = [
        (g.name, len(scores[g.id or 0].scores))
        for g in groups
        if g.id in scores and len(scores[g.id or 0].scores) < required
    ]
    return short, [g.name for g in groups if g.id not in scores]


def _candidates(groups: Sequence[ProjectGroup], scores: dict[int, GroupScores]) -> list[Candidate]:
    return [
        Candidate(
            group_id=g.id or 0,
            group_name=g.name,
            scores=scores[g.id].scores if g.id in scores else [],
            received_at=scores[g.id].graded.submission.received_at if g.id in scores else None,
        )
        for g in groups
    ]


def _report_json(group_id: int, s: GroupScores) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "submission_id": s.graded.submission.id,
        "version": s.graded.submission.version,
        "received_at": s.graded.submission.received_at.isoformat(),
        "reviews": [[reviewer_id, score] for reviewer_id, score in s.reviews],
    }


def _inputs_json(
    key: str,
    required: int,
    normalise: bool,
    scores: dict[int, GroupScores],
    short: list[tuple[str, int]],
    missing: list[str],
) -> dict[str, Any]:
    return {
        "milestone": key,
        "required_reviews": required,
        "normalise": normalise,
        "reports": [_report_json(gid, s) for gid, s in sorted(scores.items())],
        "short_of_reviews": [name for name, _ in short],
        "no_report": missing,
    }


def selection_run(
    session: Session,
    *,
    user: User,
    course_id: int,
    slots: int | None = None,
    normalise: bool = False,
    force: bool = False,
    now: datetime,
) -> SelectionRun:
    """Rank every group's graded report by quality score and store a new draft run (lecturer).

    Refused with 409 while a report has fewer than the course's required reviews or a group has
    no report, unless forced. Everything is read from one consistent state of the database.
    """
    course = course_for(session, course_id=course_id, user=user, roles=LECTURERS).course
    milestone = milestone_for(session, course_id=course_id, key=REPORT_KEY)
    _lock_inputs(session)
    groups = session.exec(
        select(ProjectGroup).where(ProjectGroup.course_id == course_id).order_by(col(ProjectGroup.id))
    ).all()
    scores = milestone_scores(session, course=course, milestone=milestone, normalise=normalise)
    short, missing = _shortfalls(groups, scores, required=course.required_reviews)
    if (short or missing) and not force:
        raise Conflict(not_ready_detail(required=course.required_reviews, short=short, missing=missing))
    k = course.presentation_slots if slots is None else slots
    ranking = rank_reports(_candidates(groups, scores), slots=k)
    inputs = _inputs_json(milestone.key, course.required_reviews, normalise, scores, short, missing)
    run = SelectionRun(
        course_id=course_id,
        created_by=user.id,
        created_at=now,
        slots=k,
        normalise=normalise,
        forced=force,
        status="draft",
        inputs=inputs,
        ranking=[_row_json(r) for r in ranking],
    )
    session.add(run)
    session.flush()
    presenting = [r.group_id for r in ranking if r.presenting]
    after = {"slots": k, "normalise": normalise, "forced": force, "presenting": presenting}
    audit_record(
        session,
        at=now,
        actor=user,
        action="selection.run",
        entity="selection_run",
        entity_id=run.id,
        course_id=course_id,
        after=after,
    )
    return run


@dataclass(frozen=True)
class SelectionView:
    """A run with its overrides and each place's presenting flag after the overrides."""

    run: SelectionRun
    overrides: list[SelectionOverride]
    rows: list[RankRow]
    overridden: set[int]

    @property
    def presenting(self) -> list[int]:
        """The presenting group ids in ranking order."""
        return [r.group_id for r in self.rows if r.presenting]


def selection_view(session: Session, run: SelectionRun) -> SelectionView:
    """A run with its overrides applied."""
    return _views(session, [run])[0]


def _views(session: Session, runs: list[SelectionRun]) -> list[SelectionView]:
    # One query for every run's overrides, however many runs the course has accumulated.
    by_run: dict[int, list[SelectionOverride]] = {run.id or 0: [] for run in runs}
    if by_run:
        for o in session.exec(
            select(SelectionOverride)
            .where(col(SelectionOverride.run_id).in_(sorted(by_run)))
            .order_by(col(SelectionOverride.id))
        ):
            by_run[o.run_id].append(o)
    return [_view_of(run, by_run[run.id or 0]) for run in runs]


def _view_of(run: SelectionRun, overrides: list[SelectionOverride]) -> SelectionView:
    base = {r["group_id"] for r in run.ranking if r["presenting"]}
    effective = set(base)
    for o in overrides:
        effective.discard(o.remove_group_id or 0)
        if o.add_group_id is not None:
            effective.add(o.add_group_id)
    rows = [
        RankRow(
            rank=r["rank"],
            group_id=r["group_id"],
            group_name=r["group_name"],
            score=r["score"],
            median=r["median"],
            reviews=r["reviews"],
            received_at=datetime.fromisoformat(r["received_at"]) if r["received_at"] else None,
            tie_break=r["tie_break"],
            presenting=r["group_id"] in effective,
        )
        for r in run.ranking
    ]
    return SelectionView(run=run, overrides=overrides, rows=rows, overridden=base ^ effective)


def selection_for(
    session: Session, *, user: User, selection_id: int, roles: frozenset[str], lock: bool = False
) -> SelectionRun:
    """The run or 404 (to all but its course's staff), 403 without one of `roles`; `lock` serialises writers."""
    run = session.get(SelectionRun, selection_id) if is_row_id(selection_id) else None
    if run is None:
        raise NotFound(ERR_NO_SELECTION)
    try:
        # Runs are for the course's staff: to anyone else (students too) a run does not exist.
        access = course_for(session, course_id=run.course_id, user=user, roles=STAFF_ROLES)
    except (NotFound, Forbidden):
        raise NotFound(ERR_NO_SELECTION) from None
    if access.role not in roles:
        raise Forbidden(ERR_LECTURER_ONLY, code="lecturer_only")
    if lock:
        _lock_course(session, run.course_id)
        session.refresh(run)
    return run


def selection_get(session: Session, *, user: User, selection_id: int) -> SelectionView:
    """A run with its full ranking table and overrides (staff)."""
    return selection_view(session, selection_for(session, user=user, selection_id=selection_id, roles=STAFF_ROLES))


def selection_list(session: Session, *, user: User, course_id: int) -> list[SelectionView]:
    """The course's runs, newest first (staff)."""
    course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    runs = session.exec(
        select(SelectionRun).where(SelectionRun.course_id == course_id).order_by(col(SelectionRun.id).desc())
    ).all()
    return _views(session, list(runs))


def selection_override(
    session: Session,
    *,
    user: User,
    selection_id: int,
    add_group_id: int,
    remove_group_id: int,
    reason: str,
    now: datetime,
) -> SelectionView:
    """Swap a group into the presenting set and one out, with a reason (lecturer; draft runs only)."""
    run = selection_for(session, user=user, selection_id=selection_id, roles=LECTURERS, lock=True)
    if run.status != "draft":
        raise Conflict(ERR_PUBLISHED if run.status == "published" else ERR_SUPERSEDED)
    if not reason.strip():
        raise InvalidInput(ERR_REASON, field="reason")
    view = selection_view(session, run)
    presenting = set(view.presenting)
    ranked = {r.group_id for r in view.rows}
    if add_group_id not in ranked or add_group_id in presenting:
        raise InvalidInput(ERR_ADD_NOT_ELIGIBLE, field="add_group_id")
    if remove_group_id not in presenting:
        raise InvalidInput(ERR_REMOVE_NOT_PRESENTING, field="remove_group_id")
    override = SelectionOverride(
        run_id=run.id or 0,
        add_group_id=add_group_id,
        remove_group_id=remove_group_id,
        reason=reason.strip(),
        created_by=user.id,
        created_at=now,
    )
    session.add(override)
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="selection.override",
        entity="selection_run",
        entity_id=run.id,
        course_id=run.course_id,
        after={"add_group_id": add_group_id, "remove_group_id": remove_group_id, "reason": override.reason},
    )
    return selection_view(session, run)


def selection_in_force(session: Session, *, course_id: int) -> SelectionRun | None:
    """The course's published run, if any (at most one: a partial unique index guarantees it)."""
    return session.exec(
        select(SelectionRun).where(SelectionRun.course_id == course_id, SelectionRun.status == "published")
    ).first()


def selection_in_force_id(session: Session, *, course_id: int) -> int | None:
    """The id of the course's run in force (without loading its ranking)."""
    return session.exec(
        select(SelectionRun.id).where(SelectionRun.course_id == course_id, SelectionRun.status == "published")
    ).first()


def selection_histogram(view: SelectionView) -> list[HistogramBin]:
    """The run's quality scores in bins of 10 over 0-100 (reports without reviews left out)."""
    return score_histogram(r.score for r in view.rows if r.score is not None)
