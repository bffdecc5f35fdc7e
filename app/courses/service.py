"""Creating, reading and changing courses and their settings."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from app.access import LECTURER, STAFF_ROLES, CourseAccess, course_for
from app.audit.service import audit_record
from app.courses import defaults
from app.courses.schemas import CourseCreate, CourseSettings, MilestoneSettings
from app.errors import Conflict, Forbidden, InvalidInput
from app.milestones.rules import milestone_deadline
from app.milestones.service import course_milestones
from app.models import Course, CourseMember, Milestone, User

ERR_NOT_CREATOR = "Only an admin or a lecturer may create a course."
ERR_MARKING_LECTURER_ONLY = "Only the course's lecturer changes how work is marked; this change touches {names}."
# Settings that change marks already earned: the late policy, the milestones' shares, the course mark.
MARKING_SETTINGS = {
    "late_tiers": "the late tiers",
    "grace_seconds": "the grace period",
    "assignment_share": "the assignment share",
    "milestones": "the milestone weights",
}
# Settings that decide who may submit and who presents: a TA changing them could block every
# smaller group's upload or reshape the selection.
LECTURER_SETTINGS = {
    "min_group_size": "the minimum group size",
    "max_group_size": "the maximum group size",
    "presentation_slots": "the presenting places",
    "required_reviews": "the required reviews",
    "max_versions_per_milestone": "the version quota",
    "max_group_storage_mb": "the storage quota",
}
ERR_SETTINGS_LECTURER_ONLY = "Only the course's lecturer changes {names}."
ERR_DEADLINES_LECTURER_ONLY = (
    "Only the course's lecturer moves deadlines; this change (start date, time zone or a milestone's week) "
    "would move {keys}."
)
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2999, 12, 31)
SCALAR_SETTINGS = (
    "title",
    "start_date",
    "weeks",
    "timezone",
    "min_group_size",
    "max_group_size",
    "grace_seconds",
    "presentation_slots",
    "required_reviews",
    "assignment_share",
    "required_sections",
    "section_synonyms",
    "formation_locked",
    "max_versions_per_milestone",
    "max_group_storage_mb",
)


def _tiers_check(tiers: list[dict[str, Any]]) -> None:
    bounds = [t["max_hours"] for t in tiers]
    if any(b is None for b in bounds[:-1]):
        raise InvalidInput("Only the last late tier may be unbounded (max_hours null).", field="late_tiers")
    finite = [b for b in bounds if b is not None]
    if finite != sorted(finite) or len(set(finite)) != len(finite):
        raise InvalidInput("Late tiers must be ordered by strictly increasing max_hours.", field="late_tiers")
    multipliers = [t["multiplier"] for t in tiers]
    if multipliers != sorted(multipliers, reverse=True):
        raise InvalidInput("A later late tier may not have a larger multiplier.", field="late_tiers")


def course_settings_check(course: Course, milestones: list[Milestone]) -> None:
    """Refuse an inconsistent set of course settings with a 422 naming the field."""
    if not EARLIEST_START <= course.start_date <= LATEST_START:
        # Far-off dates make the deadline arithmetic overflow (a 500 instead of a 422).
        raise InvalidInput(f"The start date must lie between {EARLIEST_START} and {LATEST_START}.", field="start_date")
    if course.start_date.weekday() != 0:
        raise InvalidInput(f"The start date must be a Monday; {course.start_date} is not.", field="start_date")
    try:
        ZoneInfo(course.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone: {course.timezone!r}.", field="timezone") from None
    if course.min_group_size > course.max_group_size:
        raise InvalidInput("The minimum group size exceeds the maximum.", field="min_group_size")
    _tiers_check(course.late_tiers)
    total = sum(m.weight for m in milestones)
    if abs(total - 100.0) > 1e-9:
        raise InvalidInput(f"Milestone weights must sum to 100 %; they sum to {total:g} %.", field="milestones")
    for m in milestones:
        if not 1 <= m.week <= course.weeks:
            raise InvalidInput(
                f"Milestone {m.key!r} is in week {m.week}, outside weeks 1-{course.weeks}.", field="milestones"
            )
    unknown = {key for keys in course.required_sections.values() for key in keys} - set(course.section_synonyms)
    if unknown:
        raise InvalidInput(
            f"Required sections without synonyms: {', '.join(sorted(unknown))}.", field="required_sections"
        )


def _apply_milestone_settings(existing: list[Milestone], changes: list[MilestoneSettings]) -> None:
    by_key = {m.key: m for m in existing}
    for change in changes:
        milestone = by_key.get(change.key)
        if milestone is None:
            raise InvalidInput(f"Unknown milestone {change.key!r}.", field="milestones")
        for name in ("title", "week", "weight"):
            value = getattr(change, name)
            if value is not None:
                setattr(milestone, name, value)


def _default_milestones() -> list[Milestone]:
    return [
        Milestone(  # type: ignore[call-arg]  # course_id is set by the caller, once the course has its id
            key=m["key"],
            title=m["title"],
            week=m["week"],
            weight=m["weight"],
            ruleset=m["ruleset"],
            page_limit=m["page_limit"],
            requires_approved_topic=m["requires_approved_topic"],
            rubric=defaults.DEFAULT_RUBRIC,
        )
        for m in defaults.DEFAULT_MILESTONES
    ]


def course_create(session: Session, *, user: User, data: CourseCreate, now: datetime) -> Course:
    """Create a course from SPEC.md's defaults and the given overrides; the creator becomes its lecturer."""
    is_lecturer = session.exec(
        select(CourseMember.id).where(CourseMember.user_id == user.id, CourseMember.role == LECTURER)
    ).first()
    if not user.is_admin and is_lecturer is None:
        raise Forbidden(ERR_NOT_CREATOR)
    if session.exec(select(Course.id).where(Course.code == data.code)).first() is not None:
        raise Conflict(f"A course with code {data.code!r} already exists.")
    given = data.model_dump(exclude_unset=True, exclude={"milestones", "late_tiers"})
    for name, value in given.items():
        if value is None:
            raise InvalidInput(f"{name} may not be null.", field=name)
    course = Course(
        code=data.code,
        title=data.title,
        start_date=data.start_date,
        weeks=given.get("weeks", defaults.DEFAULT_WEEKS),
        timezone=given.get("timezone", defaults.DEFAULT_TIMEZONE),
        min_group_size=given.get("min_group_size", defaults.DEFAULT_MIN_GROUP_SIZE),
        max_group_size=given.get("max_group_size", defaults.DEFAULT_MAX_GROUP_SIZE),
        late_tiers=[t.model_dump() for t in data.late_tiers] if data.late_tiers else defaults.DEFAULT_LATE_TIERS,
        grace_seconds=given.get("grace_seconds", 0),
        presentation_slots=given.get("presentation_slots", defaults.DEFAULT_PRESENTATION_SLOTS),
        required_reviews=given.get("required_reviews", defaults.DEFAULT_REQUIRED_REVIEWS),
        assignment_share=given.get("assignment_share", defaults.DEFAULT_ASSIGNMENT_SHARE),
        required_sections=given.get("required_sections", defaults.DEFAULT_REQUIRED_SECTIONS),
        section_synonyms=given.get("section_synonyms", defaults.DEFAULT_SECTION_SYNONYMS),
        formation_locked=given.get("formation_locked", False),
        max_versions_per_milestone=given.get("max_versions_per_milestone", defaults.DEFAULT_MAX_VERSIONS_PER_MILESTONE),
        max_group_storage_mb=given.get("max_group_storage_mb", defaults.DEFAULT_MAX_GROUP_STORAGE_MB),
        created_at=now,
    )
    milestones = _default_milestones()
    _apply_milestone_settings(milestones, data.milestones or [])
    course_settings_check(course, milestones)
    session.add(course)
    session.flush()
    for m in milestones:
        m.course_id = course.id  # type: ignore[assignment]
        session.add(m)
    session.add(CourseMember(course_id=course.id, user_id=user.id, role=LECTURER))  # type: ignore[arg-type]
    session.flush()
    audit_record(
        session,
        at=now,
        actor=user,
        action="course.create",
        entity="course",
        entity_id=course.id,
        course_id=course.id,
        after=course_snapshot(course, milestones),
    )
    return course


def course_snapshot(course: Course, milestones: list[Milestone]) -> dict[str, Any]:
    """The settings that matter for the audit log, as JSON-ready values."""
    snapshot = {name: getattr(course, name) for name in SCALAR_SETTINGS}
    snapshot["start_date"] = course.start_date.isoformat()
    snapshot["late_tiers"] = course.late_tiers
    snapshot["milestones"] = [{"key": m.key, "week": m.week, "weight": m.weight} for m in milestones]
    return snapshot


def course_get(session: Session, *, user: User, course_id: int) -> tuple[CourseAccess, list[Milestone]]:
    """A course its members may see, with its milestones."""
    access = course_for(session, course_id=course_id, user=user)
    return access, course_milestones(session, course_id=course_id)


def _deadlines(course: Course, milestones: list[Milestone]) -> dict[str, datetime]:
    return {m.key: milestone_deadline(course, m) for m in milestones}


def course_update(
    session: Session, *, user: User, course_id: int, data: CourseSettings, now: datetime
) -> tuple[CourseAccess, list[Milestone]]:
    """Change course settings (staff; deadlines and marking rules only the lecturer); all validated first."""
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    course = access.course
    milestones = course_milestones(session, course_id=course_id)
    before = course_snapshot(course, milestones)
    deadlines_before = _deadlines(course, milestones)
    changes = data.model_dump(exclude_unset=True, exclude={"milestones", "late_tiers"})
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(f"{name} may not be null.", field=name)
        setattr(course, name, value)
    if data.late_tiers is not None:
        course.late_tiers = [t.model_dump() for t in data.late_tiers]
    _apply_milestone_settings(milestones, data.milestones or [])
    course_settings_check(course, milestones)
    deadlines_after = _deadlines(course, milestones)
    moved = [key for key, due in deadlines_after.items() if due != deadlines_before[key]]
    if moved and not access.is_lecturer:
        # Deadlines are the lecturer's (PATCH .../milestones/{key}); a TA must not move them by the back door.
        raise Forbidden(ERR_DEADLINES_LECTURER_ONLY.format(keys=", ".join(moved)), code="lecturer_only")
    after = course_snapshot(course, milestones)
    changed = {k for k in after if after[k] != before[k]}
    marking = [label for name, label in MARKING_SETTINGS.items() if name in changed]
    if marking and not access.is_lecturer:
        raise Forbidden(ERR_MARKING_LECTURER_ONLY.format(names=", ".join(marking)), code="lecturer_only")
    reserved = [label for name, label in LECTURER_SETTINGS.items() if name in changed]
    if reserved and not access.is_lecturer:
        raise Forbidden(ERR_SETTINGS_LECTURER_ONLY.format(names=", ".join(reserved)), code="lecturer_only")
    session.add(course)
    session.add_all(milestones)
    if changed:
        audit_record(
            session,
            at=now,
            actor=user,
            action="course.update",
            entity="course",
            entity_id=course.id,
            course_id=course.id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return access, milestones
