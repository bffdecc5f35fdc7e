"""Publishing a selection run: deliverables for every group, superseding the run in force, rechecks, notices."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.audit.service import audit_record
from app.config import get_settings
from app.errors import Conflict, InvalidInput
from app.milestones.rules import milestone_deadline
from app.models import Course, Milestone, ProjectGroup, SelectionRun, User
from app.outbox.events import notice_selection_published
from app.selection.service import (
    ERR_SUPERSEDED,
    LECTURERS,
    SelectionView,
    selection_for,
    selection_in_force,
    selection_view,
)
from app.storage import FileStore, get_store
from app.submissions.grading import graded_versions
from app.submissions.service import submission_recheck

ERR_IN_FORCE = "Run {run} is in force. Publishing another run replaces it: name it in 'supersedes' and give a reason."
ERR_NOTHING_IN_FORCE = "No run is in force, so there is nothing to supersede; publish without 'supersedes'."
ERR_SUPERSEDE_REASON = "Give a reason for replacing the run in force."
ERR_DELIVERABLES_LOCKED = (
    "The week-16 deadline has passed: the deliverable of {groups} would change. "
    "Force it with a reason if this is intended."
)
ERR_FORCE_REASON = "Give a reason for changing deliverables after the week-16 deadline."
FINAL_RULESET = "final"


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


@dataclass(frozen=True)
class _Deliverables:
    """Each group's deliverable before and after a publication, and the groups whose deliverable changes."""

    names: dict[int, str]
    before: dict[int, str | None]
    after: dict[int, str]

    @property
    def changed(self) -> list[int]:
        """Groups that had a deliverable and get another one, ascending."""
        return [g for g in sorted(self.after) if self.before[g] is not None and self.before[g] != self.after[g]]


def _deliverables(session: Session, *, course_id: int, presenting: set[int]) -> _Deliverables:
    # Columns, not ORM rows: a course may have a thousand groups.
    groups = list(
        session.exec(
            select(ProjectGroup.id, ProjectGroup.name, ProjectGroup.deliverable)
            .where(ProjectGroup.course_id == course_id)
            .order_by(col(ProjectGroup.id))
        )
    )
    before = {gid or 0: deliverable for gid, _, deliverable in groups}
    return _Deliverables(
        names={gid or 0: name for gid, name, _ in groups},
        before=before,
        after={gid: ("slides" if gid in presenting else "poster") for gid in before},
    )


def _deliverables_apply(session: Session, *, course_id: int, presenting: set[int]) -> None:
    # Two UPDATE statements, not ORM rows: a course may have a thousand groups.
    ids = sorted(presenting)
    in_course = col(ProjectGroup.course_id) == course_id
    session.execute(update(ProjectGroup).where(in_course, col(ProjectGroup.id).in_(ids)).values(deliverable="slides"))
    session.execute(
        update(ProjectGroup).where(in_course, col(ProjectGroup.id).not_in(ids)).values(deliverable="poster")
    )


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
    run = selection_for(session, user=user, selection_id=selection_id, roles=LECTURERS, lock=True)
    view = selection_view(session, run)
    if run.status == "published":
        return PublishOutcome(view=view, superseded=None, changed_groups=[], rechecked=[])
    reason = reason.strip()
    in_force = selection_in_force(session, course_id=run.course_id)
    _check_supersede(run, in_force, supersedes=supersedes, reason=reason)
    course = session.get(Course, run.course_id)
    assert course is not None
    presenting = set(view.presenting)
    deliverables = _deliverables(session, course_id=run.course_id, presenting=presenting)
    changed = deliverables.changed
    locked = bool(changed) and _final_deadline_passed(session, course=course, now=now)
    if locked and not force:
        names_changed = ", ".join(deliverables.names[gid] for gid in changed)
        raise Conflict(ERR_DELIVERABLES_LOCKED.format(groups=names_changed), code="deliverables_locked")
    if locked and not reason:
        raise InvalidInput(ERR_FORCE_REASON, field="reason")
    if in_force is not None:
        # Flushed first: the partial unique index allows one published run per course at any moment.
        in_force.status, in_force.superseded_at = "superseded", now
        session.add(in_force)
        session.flush()
    _deliverables_apply(session, course_id=run.course_id, presenting=presenting)
    run.status, run.published_at, run.published_by = "published", now, user.id
    run.supersedes_id = in_force.id if in_force else None
    run.supersede_reason = reason or None
    run.changed_groups, run.forced_past_deadline = changed, locked
    session.add(run)
    session.flush()
    changed_rows = list(session.exec(select(ProjectGroup).where(col(ProjectGroup.id).in_(changed)))) if changed else []
    rechecked = _recheck_changed(session, course=course, groups=changed_rows, store=store or get_store(), now=now)
    _publish_audit(
        session, user=user, run=run, in_force=in_force, deliverables=deliverables, rechecked=rechecked, now=now
    )
    _publish_notify(session, course=course, in_force=in_force, deliverables=deliverables, now=now)
    return PublishOutcome(view=replace(view, run=run), superseded=in_force, changed_groups=changed, rechecked=rechecked)


def _publish_audit(
    session: Session,
    *,
    user: User,
    run: SelectionRun,
    in_force: SelectionRun | None,
    deliverables: _Deliverables,
    rechecked: list[int],
    now: datetime,
) -> None:
    before: dict[str, Any] = {
        "deliverables": {str(k): v for k, v in deliverables.before.items()},
        "in_force": in_force.id if in_force else None,
    }
    audit_record(
        session,
        at=now,
        actor=user,
        action="selection.supersede" if in_force else "selection.publish",
        entity="selection_run",
        entity_id=run.id,
        course_id=run.course_id,
        before=before,
        after={
            "deliverables": {str(k): v for k, v in deliverables.after.items()},
            "changed_groups": run.changed_groups,
            "supersedes": run.supersedes_id,
            "reason": run.supersede_reason,
            "forced_past_deadline": run.forced_past_deadline,
            "rechecked_submissions": rechecked,
        },
    )


def _publish_notify(
    session: Session, *, course: Course, in_force: SelectionRun | None, deliverables: _Deliverables, now: datetime
) -> None:
    # Told: every group on a first publication; on a replacement, the groups whose deliverable is new to them.
    before, after = deliverables.before, deliverables.after
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
