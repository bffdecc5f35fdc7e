"""Marks per student: computing them, releasing them, exporting marks.csv, importing assignment marks."""

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app import timefmt
from app.access import LECTURER, STAFF_ROLES, STUDENT, course_for
from app.audit.service import audit_record
from app.errors import Forbidden, InvalidInput
from app.marks.compute import (
    NOTHING_SUBMITTED,
    MilestoneResult,
    course_mark,
    milestone_result,
    project_mark,
    with_ballots,
)
from app.milestones.rules import milestone_deadline
from app.milestones.service import course_milestones, milestone_for
from app.models import AssignmentMark, Course, CourseMember, GroupMembership, Milestone, ProjectGroup, User
from app.outbox.events import notice_marks_released
from app.programme.ballots import ballot_marks
from app.reviews.service import milestone_scores
from app.spreadsheet import text_cell

FINAL_RULESET = "final"
ASSIGNMENT_HEADER = ["student_no", "assignment_mark"]
ERR_RELEASE_LECTURER_ONLY = "Only the course's lecturer releases marks: a release cannot be undone."
ERR_EMPTY_IMPORT = "The file holds no assignment marks."
ERR_IMPORT_HEADER = "line 1: the header must be student_no,assignment_mark."


@dataclass(frozen=True)
class StudentRef:
    """The student a row of marks is for."""

    id: int
    student_no: str | None
    name: str


@dataclass(frozen=True)
class Span:
    """A stretch of group membership (columns only: loading thousands of ORM rows is slow)."""

    group_id: int
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class StudentMarks:
    """One student's marks: per milestone key, then project, assignments and course."""

    user: StudentRef
    group_name: str | None  # the student's current group
    milestones: dict[str, MilestoneResult]
    project: float | None
    assignment: float | None
    course: float | None


@dataclass(frozen=True)
class MarksTable:
    """Every student's marks for a course, ordered by student number."""

    course: Course
    milestones: list[Milestone]
    rows: list[StudentMarks]
    has_assignment_marks: bool
    # Poster ballots, when the lecturer made them count: their weight (percent) and each group's ballot mark.
    ballot_weight: float = 0.0
    ballot_marks: dict[int, float] | None = None
    ballot_of_student: dict[int, float | None] | None = None


def _member_at(spans: list[Span], due: datetime) -> int | None:
    # The group the student belonged to at the milestone's deadline (joined by then, not yet left).
    # One instant for every group (the milestone's deadline, not a group's extended one): with
    # per-group instants a student who moves inside an extension would belong to no group, or two.
    for span in spans:
        if span.joined_at <= due and (span.left_at is None or span.left_at > due):
            return span.group_id
    return None


def marks_table(
    session: Session, *, course: Course, normalise: bool = False, user_ids: set[int] | None = None
) -> MarksTable:
    """Compute every student's marks (no access check; callers check). A fixed number of queries.

    A student gets, for each milestone, the marks of the group they belonged to at the milestone's
    deadline (joined at or before it, not left by then), extensions notwithstanding; no such group means 0.
    """
    milestones = course_milestones(session, course_id=course.id or 0)
    statement = (
        select(User.id, User.student_no, User.name)
        .join(CourseMember, col(CourseMember.user_id) == col(User.id))
        .where(CourseMember.course_id == course.id, CourseMember.role == STUDENT)
    )
    if user_ids is not None:
        statement = statement.where(col(User.id).in_(sorted(user_ids)))
    students = sorted(
        (StudentRef(id=i or 0, student_no=no, name=name) for i, no, name in session.exec(statement)),
        key=lambda u: (u.student_no is None, u.student_no or "", u.id),
    )
    groups = dict(
        session.exec(select(ProjectGroup.id, ProjectGroup.name).where(ProjectGroup.course_id == course.id)).all()
    )
    spans: dict[int, list[Span]] = defaultdict(list)
    for user_id, group_id, joined_at, left_at in session.exec(
        select(GroupMembership.user_id, GroupMembership.group_id, GroupMembership.joined_at, GroupMembership.left_at)
        .where(GroupMembership.course_id == course.id)
        .order_by(col(GroupMembership.joined_at))
    ):
        spans[user_id].append(Span(group_id=group_id, joined_at=joined_at, left_at=left_at))
    per_milestone: dict[str, tuple[datetime, dict[int, MilestoneResult]]] = {}
    weight, ballots = ballot_marks(session, course_id=course.id or 0)
    for m in milestones:
        due = milestone_deadline(course, m)
        group_results = {
            gid: milestone_result(scores=s.scores, multiplier=s.graded.lateness.multiplier)
            for gid, s in milestone_scores(session, course=course, milestone=m, normalise=normalise).items()
        }
        if m.ruleset == FINAL_RULESET and ballots:
            group_results = {
                gid: with_ballots(r, ballot_mark=ballots.get(gid), weight=weight) for gid, r in group_results.items()
            }
        per_milestone[m.key] = (due, group_results)
    assignment = {
        a.user_id: a.mark for a in session.exec(select(AssignmentMark).where(AssignmentMark.course_id == course.id))
    }
    weights = {m.key: m.weight for m in milestones}
    rows = []
    final_due = next((per_milestone[m.key][0] for m in milestones if m.ruleset == FINAL_RULESET), None)
    ballot_of_student: dict[int, float | None] = {}
    for user in students:
        uid = user.id
        results: dict[str, MilestoneResult] = {}
        for m in milestones:
            due, by_group = per_milestone[m.key]
            gid = _member_at(spans[uid], due)
            results[m.key] = by_group.get(gid, NOTHING_SUBMITTED) if gid is not None else NOTHING_SUBMITTED
        current = next((s.group_id for s in spans[uid] if s.left_at is None), None)
        if ballots and final_due is not None:
            final_group = _member_at(spans[uid], final_due)
            ballot_of_student[uid] = ballots.get(final_group) if final_group is not None else None
        project = project_mark(results, weights)
        rows.append(
            StudentMarks(
                user=user,
                group_name=groups[current] if current is not None else None,
                milestones=results,
                project=project,
                assignment=assignment.get(uid),
                course=course_mark(
                    assignment=assignment.get(uid), project=project, assignment_share=course.assignment_share
                ),
            )
        )
    return MarksTable(
        course=course,
        milestones=milestones,
        rows=rows,
        has_assignment_marks=bool(assignment),
        ballot_weight=weight,
        ballot_marks=ballots or None,
        ballot_of_student=ballot_of_student if ballots else None,
    )


def _fmt(value: float | None) -> str:
    return timefmt.number(value, absent="")


def marks_csv(table: MarksTable) -> str:
    """The table as CSV: one row per student, numbers rounded to 2 decimals only here."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["student_no", "name", "group"]
    for m in table.milestones:
        header += [f"{m.key}_score", f"{m.key}_multiplier", f"{m.key}_mark"]
    ballots = table.ballot_of_student
    if ballots is not None:
        # The score above already includes the ballots at this weight; the ballot mark is shown on its own too.
        header += ["poster_ballot_mark", "poster_ballot_weight"]
    header.append("project_mark")
    if table.has_assignment_marks:
        header += ["assignment_mark", "course_mark"]
    writer.writerow(header)
    for row in table.rows:
        line = [text_cell(row.user.student_no or ""), text_cell(row.user.name), text_cell(row.group_name or "")]
        for m in table.milestones:
            r = row.milestones[m.key]
            line += [_fmt(r.score), _fmt(r.multiplier), _fmt(r.mark)]
        if ballots is not None:
            line += [_fmt(ballots.get(row.user.id)), _fmt(table.ballot_weight)]
        line.append(_fmt(row.project))
        if table.has_assignment_marks:
            line += [_fmt(row.assignment), _fmt(row.course)]
        writer.writerow(line)
    return out.getvalue()


def marks_export(session: Session, *, user: User, course_id: int, normalise: bool = False) -> tuple[Course, str]:
    """The course's marks.csv (staff), optionally with per-reviewer normalised review scores."""
    course = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES).course
    return course, marks_csv(marks_table(session, course=course, normalise=normalise))


def marks_release(session: Session, *, user: User, course_id: int, key: str, now: datetime) -> Milestone:
    """Release a milestone's marks and reviews to students (lecturer); releasing again changes nothing.

    From then on the graded versions are fixed: a later upload is kept but not graded unless staff pin it.
    """
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    if not access.is_lecturer:
        raise Forbidden(ERR_RELEASE_LECTURER_ONLY, code="lecturer_only")
    course = access.course
    milestone = milestone_for(session, course_id=course_id, key=key)
    if milestone.marks_released_at is None:
        milestone.marks_released_at = now
        session.add(milestone)
        audit_record(
            session,
            at=now,
            actor=user,
            action="marks.release",
            entity="milestone",
            entity_id=milestone.id,
            course_id=course_id,
            before={"marks_released_at": None},
            after={"marks_released_at": now.isoformat()},
        )
        notice_marks_released(session, course=course, milestone=milestone, now=now)
    return milestone


@dataclass(frozen=True)
class MyMarks:
    """What a student sees: released milestones only; the project and course marks once all are released."""

    course: Course
    released: list[Milestone]
    marks: StudentMarks | None
    all_released: bool


def student_marks_get(session: Session, *, user: User, course_id: int) -> MyMarks:
    """The caller's own marks for the released milestones (students)."""
    course = course_for(session, course_id=course_id, user=user, roles=frozenset({STUDENT})).course
    milestones = course_milestones(session, course_id=course_id)
    released = [m for m in milestones if m.marks_released_at is not None]
    if not released:
        return MyMarks(course=course, released=[], marks=None, all_released=False)
    table = marks_table(session, course=course, user_ids={user.id or 0})
    return MyMarks(
        course=course,
        released=released,
        marks=table.rows[0] if table.rows else None,
        all_released=len(released) == len(milestones),
    )


def _parse_assignment_csv(text: str, students: dict[str, int]) -> tuple[dict[int, float], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:  # a bare CR inside a field, a field over the csv module's limit: a bad file
        return {}, [f"line {reader.line_num}: this line cannot be read as CSV: {exc}."]
    if not rows or [c.strip().lower() for c in rows[0]] != ASSIGNMENT_HEADER:
        return {}, [ERR_IMPORT_HEADER]
    marks: dict[int, float] = {}
    first_line: dict[str, int] = {}
    errors: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 2:
            errors.append(f"line {number}: expected 2 fields, found {len(row)}.")
            continue
        student_no, raw = row[0].strip(), row[1].strip()
        if student_no not in students:
            errors.append(f"line {number}: no student {student_no!r} in this course.")
            continue
        if student_no in first_line:
            errors.append(f"line {number}: student {student_no!r} already appears on line {first_line[student_no]}.")
            continue
        first_line[student_no] = number
        try:
            mark = float(raw)
        except ValueError:
            mark = math.nan
        if not (math.isfinite(mark) and 0 <= mark <= 100):
            errors.append(f"line {number}: assignment_mark must be a number from 0 to 100, not {raw!r}.")
            continue
        marks[students[student_no]] = mark
    if not marks and not errors:
        errors.append(ERR_EMPTY_IMPORT)
    return marks, errors


def assignment_marks_import(session: Session, *, user: User, course_id: int, text: str, now: datetime) -> int:
    """Import `student_no,assignment_mark` rows (lecturer); any bad line refuses the whole file with every error."""
    course_for(session, course_id=course_id, user=user, roles=frozenset({LECTURER}))
    students: dict[str, int] = dict(
        session.exec(  # type: ignore[arg-type]  # the query excludes null student numbers; ids are never null
            select(User.student_no, User.id)
            .join(CourseMember, col(CourseMember.user_id) == col(User.id))
            .where(CourseMember.course_id == course_id, CourseMember.role == STUDENT, col(User.student_no).is_not(None))
        ).all()
    )
    marks, errors = _parse_assignment_csv(text, students)
    if errors:
        raise InvalidInput(" ".join(errors), field="file")
    existing = {a.user_id: a for a in session.exec(select(AssignmentMark).where(AssignmentMark.course_id == course_id))}
    for user_id, mark in marks.items():
        row = existing.get(user_id) or AssignmentMark(course_id=course_id, user_id=user_id, mark=mark, imported_at=now)
        row.mark, row.imported_at = mark, now
        session.add(row)
    audit_record(
        session,
        at=now,
        actor=user,
        action="marks.assignments_import",
        entity="course",
        entity_id=course_id,
        course_id=course_id,
        after={"imported": len(marks)},
    )
    return len(marks)
