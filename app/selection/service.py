"""Running, overriding, publishing and reading the presentation selection."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.access import LECTURER, STAFF_ROLES, course_for, is_row_id
from app.audit.service import audit_record
from app.config import get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.milestones.rules import milestone_deadline
from app.milestones.service import milestone_for
from app.models import Course, Milestone, ProjectGroup, SelectionOverride, SelectionRun, User
from app.outbox.events import notice_selection_published
from app.reviews.aggregate import HistogramBin, score_histogram
from app.reviews.service import milestone_scores
from app.selection.ranking import Candidate, RankRow, rank_reports
from app.storage import FileStore, get_store
from app.submissions.grading import graded_versions
from app.submissions.service import submission_recheck

REPORT_KEY = "report"
LECTURERS = frozenset({LECTURER})
ERR_NO_SELECTION = "No such selection run."
ERR_LECTURER_ONLY = "Only the course's lecturer runs, overrides and publishes the selection."
ERR_PUBLISHED = "The run is published and can no longer change; start a new run."
ERR_ADD_NOT_ELIGIBLE = "The group to add is not in this run or already presents."
ERR_REMOVE_NOT_PRESENTING = "The group to remove does not present in this run."
ERR_REASON = "Give a reason for the override."
ERR_SUPERSEDED = "This run was superseded and can never be published again; start a new run."
ERR_IN_FORCE = "Run {run} is in force. Publishing another run replaces it: name it in 'supersedes' and give a reason."
ERR_NOTHING_IN_FORCE = "No run is in force, so there is nothing to supersede; publish without 'supersedes'."
ERR_SUPERSEDE_REASON = "Give a reason for replacing the run in force."
ERR_DELIVERABLES_LOCKED = (
    "The week-16 deadline has passed: the deliverable of {groups} would change. "
    "Force it with a reason if this is intended."
)
ERR_FORCE_REASON = "Give a reason for changing deliverables after the week-16 deadline."
FINAL_RULESET = "final"
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
    short = [
        (g.name, len(scores[g.id or 0].scores))
        for g in groups
        if g.id in scores and len(scores[g.id or 0].scores) < course.required_reviews
    ]
    missing = [g.name for g in groups if g.id not in scores]
    if (short or missing) and not force:
        raise Conflict(not_ready_detail(required=course.required_reviews, short=short, missing=missing))
    candidates = [
        Candidate(
            group_id=g.id or 0,
            group_name=g.name,
            scores=scores[g.id].scores if g.id in scores else [],
            received_at=scores[g.id].graded.submission.received_at if g.id in scores else None,
        )
        for g in groups
    ]
    k = course.presentation_slots if slots is None else slots
    ranking = rank_reports(candidates, slots=k)
    inputs = {
        "milestone": milestone.key,
        "required_reviews": course.required_reviews,
        "normalise": normalise,
        "reports": [
            {
                "group_id": gid,
                "submission_id": s.graded.submission.id,
                "version": s.graded.submission.version,
                "received_at": s.graded.submission.received_at.isoformat(),
                "reviews": [[reviewer_id, score] for reviewer_id, score in s.reviews],
            }
            for gid, s in sorted(scores.items())
        ],
        "short_of_reviews": [name for name, _ in short],
        "no_report": missing,
    }
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
    audit_record(
        session,
        at=now,
        actor=user,
        action="selection.run",
        entity="selection_run",
        entity_id=run.id,
        course_id=course_id,
        after={
            "slots": k,
            "normalise": normalise,
            "forced": force,
            "presenting": [r.group_id for r in ranking if r.presenting],
        },
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


def _view(session: Session, run: SelectionRun) -> SelectionView:
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


def _run_for(
    session: Session, *, user: User, selection_id: int, roles: frozenset[str], lock: bool = False
) -> SelectionRun:
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
    return _view(session, _run_for(session, user=user, selection_id=selection_id, roles=STAFF_ROLES))


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
    run = _run_for(session, user=user, selection_id=selection_id, roles=LECTURERS, lock=True)
    if run.status != "draft":
        raise Conflict(ERR_PUBLISHED if run.status == "published" else ERR_SUPERSEDED)
    if not reason.strip():
        raise InvalidInput(ERR_REASON, field="reason")
    view = _view(session, run)
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
    return _view(session, run)


@dataclass(frozen=True)
class PublishOutcome:
    """A publication: the run now in force, the run it superseded, and the groups whose deliverable changed.

    `changed_groups` is what a notice of the change needs (group ids, ascending); it is empty for the
    first publication and for publishing the run in force again.
    """

    view: SelectionView
    superseded: SelectionRun | None
    changed_groups: list[int]
    rechecked: list[int]  # ids of the week-16 versions checked again under their group's new rule set


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


def _check_supersede(run: SelectionRun, in_force: SelectionRun | None, *, supersedes: int | None, reason: str) -> None:
    if run.status == "superseded":
        raise Conflict(ERR_SUPERSEDED, code="selection_superseded")
    if in_force is None:
        if supersedes is not None:
            raise InvalidInput(ERR_NOTHING_IN_FORCE, field="supersedes")
        return
    if supersedes != in_force.id:
        raise Conflict(ERR_IN_FORCE.format(run=in_force.id), code="selection_in_force")
    if not reason:
        raise InvalidInput(ERR_SUPERSEDE_REASON, field="reason")


def _final_deadline_passed(session: Session, *, course: Course, now: datetime) -> bool:
    final = session.exec(
        select(Milestone).where(Milestone.course_id == course.id, Milestone.ruleset == FINAL_RULESET)
    ).first()
    return final is not None and now > milestone_deadline(course, final)


def _recheck_changed(
    session: Session, *, course: Course, groups: list[ProjectGroup], store: FileStore, now: datetime
) -> list[int]:
    """Check each changed group's graded week-16 version under its new rule set and flag the group."""
    final = session.exec(
        select(Milestone).where(Milestone.course_id == course.id, Milestone.ruleset == FINAL_RULESET)
    ).first()
    if final is None or not groups:
        return []
    by_id = {g.id or 0: g for g in groups}
    graded = graded_versions(session, course=course, milestone=final, group_ids=sorted(by_id))
    settings = get_settings()
    rechecked = []
    for group_id, version in sorted(graded.items()):
        group = by_id[group_id]
        submission_recheck(
            session,
            submission=version.submission,
            course=course,
            ruleset=group.deliverable or "",
            store=store,
            settings=settings,
            now=now,
        )
        group.deliverable_changed_at = now
        session.add(group)
        rechecked.append(version.submission.id or 0)
    return rechecked


def selection_publish(
    session: Session,
    *,
    user: User,
    selection_id: int,
    now: datetime,
    supersedes: int | None = None,
    reason: str = "",
    force: bool = False,
    store: FileStore | None = None,
) -> PublishOutcome:
    """Put a run in force (lecturer): every group gets slides or a poster; publishing again changes nothing.

    With a run already in force, the new one must name it in `supersedes` with a reason; the old
    run becomes `superseded`. After the week-16 deadline, changing a deliverable also needs `force`.
    Groups that had uploaded week-16 work under a changed deliverable are flagged and their graded
    version is checked again under the new rule set. One audit event records it all.
    """
    run = _run_for(session, user=user, selection_id=selection_id, roles=LECTURERS, lock=True)
    view = _view(session, run)
    if run.status == "published":
        return PublishOutcome(view=view, superseded=None, changed_groups=[], rechecked=[])
    reason = reason.strip()
    in_force = selection_in_force(session, course_id=run.course_id)
    _check_supersede(run, in_force, supersedes=supersedes, reason=reason)
    course = session.get(Course, run.course_id)
    assert course is not None
    presenting = set(view.presenting)
    # Columns and two UPDATE statements, not ORM rows: a course may have a thousand groups.
    groups = list(
        session.exec(
            select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.deliverable)
            .where(ProjectGroup.course_id == run.course_id)
            .order_by(col(ProjectGroup.id))
        )
    )
    names = {gid or 0: name for gid, name, _ in groups}
    before = {gid or 0: deliverable for gid, _, deliverable in groups}
    after = {gid: ("slides" if gid in presenting else "poster") for gid in before}
    changed = [gid for gid in sorted(after) if before[gid] is not None and before[gid] != after[gid]]
    locked = bool(changed) and _final_deadline_passed(session, course=course, now=now)
    if locked and not force:
        names_changed = ", ".join(names[gid] for gid in changed)
        raise Conflict(ERR_DELIVERABLES_LOCKED.format(groups=names_changed), code="deliverables_locked")
    if locked and not reason:
        raise InvalidInput(ERR_FORCE_REASON, field="reason")
    if in_force is not None:
        # Flushed first: the partial unique index allows one published run per course at any moment.
        in_force.status, in_force.superseded_at = "superseded", now
        session.add(in_force)
        session.flush()
    ids = sorted(presenting)
    in_course = col(ProjectGroup.course_id) == run.course_id
    session.execute(update(ProjectGroup).where(in_course, col(ProjectGroup.id).in_(ids)).values(deliverable="slides"))
    session.execute(
        update(ProjectGroup).where(in_course, col(ProjectGroup.id).not_in(ids)).values(deliverable="poster")
    )
    run.status, run.published_at, run.published_by = "published", now, user.id
    run.supersedes_id = in_force.id if in_force else None
    run.supersede_reason = reason or None
    run.changed_groups, run.forced_past_deadline = changed, locked
    session.add(run)
    session.flush()
    changed_rows = list(session.exec(select(ProjectGroup).where(col(ProjectGroup.id).in_(changed)))) if changed else []
    rechecked = _recheck_changed(session, course=course, groups=changed_rows, store=store or get_store(), now=now)
    audit_record(
        session,
        at=now,
        actor=user,
        action="selection.supersede" if in_force else "selection.publish",
        entity="selection_run",
        entity_id=run.id,
        course_id=run.course_id,
        before={"deliverables": {str(k): v for k, v in before.items()}, "in_force": in_force.id if in_force else None},
        after={
            "deliverables": {str(k): v for k, v in after.items()},
            "changed_groups": changed,
            "supersedes": run.supersedes_id,
            "reason": run.supersede_reason,
            "forced_past_deadline": locked,
            "rechecked_submissions": rechecked,
        },
    )
    # Told: every group on a first publication; on a replacement, the groups whose deliverable is new to them.
    told = sorted(before) if in_force is None else [g for g in sorted(after) if before[g] != after[g]]
    if told:
        notice_selection_published(
            session,
            course=course,
            now=now,
            superseded=in_force is not None,
            groups=session.exec(
                select(ProjectGroup).where(col(ProjectGroup.id).in_(told)).order_by(col(ProjectGroup.id))
            ).all(),
        )
    return PublishOutcome(view=replace(view, run=run), superseded=in_force, changed_groups=changed, rechecked=rechecked)


def selection_histogram(view: SelectionView) -> list[HistogramBin]:
    """The run's quality scores in bins of 10 over 0-100 (reports without reviews left out)."""
    return score_histogram(r.score for r in view.rows if r.score is not None)
