"""The roster import: CSV `student_no,name,email[,role]` in, users and enrolments out.

The whole file is checked before anything is written, and every bad line is reported
by its line number (422 with `errors: [{line, message}]`). The import is idempotent: a
row whose student number or email matches an existing user enrols that user (once);
only rows that create a user get an activation code. New users are named by their
student number in lower case (`S2026001` -> username `s2026001`). This direct import is for
admins and the CLI; staff who are not admins import through `app.roster.invitations`, where
every line for a non-member becomes an invitation its person must act on.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from app.access import ALL_ROLES, LECTURER, STAFF_ROLES, STUDENT, TA, course_for, is_row_id
from app.audit.service import audit_record
from app.config import get_settings
from app.errors import Forbidden, InvalidInput, NotFound
from app.models import ActivationCode, Course, CourseMember, User
from app.outbox.events import notice_activation
from app.people.service import activation_issue

REQUIRED_COLUMNS = ("student_no", "name", "email")
OPTIONAL_COLUMNS = ("role",)
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
STUDENT_NO_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

ERR_BAD_ROSTER = "The roster has errors; nothing was imported. Fix the lines listed and upload it again."
MSG_EMPTY = "The file is empty; the first line must be the header student_no,name,email[,role]."
MSG_NO_ROWS = "The file has a header but no students."
MAX_ROSTER_ROWS = 10_000  # far above any course; keeps the lookups below the databases' bind-parameter limits
MSG_TOO_MANY_ROWS = f"The roster holds more than {MAX_ROSTER_ROWS} students; is this the right file?"
MSG_NOT_UTF8 = "This line is not valid UTF-8; save the file as UTF-8 (CSV UTF-8)."
MSG_BAD_EMAIL = "{email!r} is not a valid email address."
MSG_BAD_STUDENT_NO = "student_no {value!r} may hold only letters, digits, '.', '_' and '-' (at most 40)."
MSG_UNKNOWN_ROLE = "Unknown role {role!r}; use student, ta or lecturer (or leave it empty for student)."
MSG_DUPLICATE_STUDENT_NO = "student_no {value} already appears on line {first}."
MSG_DUPLICATE_EMAIL = "email {value} already appears on line {first}."
MSG_MISSING_VALUE = "Missing value for column(s): {columns}."
MSG_TOO_MANY = "{count} values, but the header has {expected} columns."
MSG_HEADER_MISSING = "The header lacks the column(s): {columns} (expected student_no,name,email[,role])."
MSG_HEADER_UNKNOWN = "Unknown column(s) in the header: {columns}."
MSG_HEADER_DUPLICATE = "The header names column {column!r} twice."
MSG_TWO_USERS = "student_no {sno} belongs to user {a} but email {email} to user {b}."
MSG_USERNAME_TAKEN = "The username {username} (from the student number) is taken by another user."
MSG_SAME_USER = "This line matches user {username}, as line {first} does."
MSG_OTHER_ROLE = "{username} is already enrolled in this course as {role}."
MSG_UNREADABLE_CSV = "This line cannot be read as CSV: {problem}."
ERR_LECTURER_ROWS = "Only a lecturer of the course enrols lecturers; a TA may import students and TAs (lines {lines})."


@dataclass(frozen=True)
class RosterRow:
    """One valid line of the file."""

    line: int
    student_no: str
    name: str
    email: str
    role: str

    @property
    def username(self) -> str:
        """The username a new user gets: the student number in lower case."""
        return self.student_no.lower()


@dataclass
class RosterResult:
    """The outcome of an import; `codes` holds (user, code) for the users it created."""

    codes: list[tuple[User, str]] = field(default_factory=list)
    enrolled_existing: list[User] = field(default_factory=list)
    already_enrolled: list[User] = field(default_factory=list)
    emailed: int = 0  # activation codes written to the outbox
    invited: int = 0  # lines that became invitations (imports by staff who are not admins)


def roster_refuse(errors: list[dict[str, object]]) -> None:
    """Refuse the whole file with every bad line (422), if any line is bad."""
    if errors:
        errors.sort(key=lambda e: int(str(e["line"])))
        raise InvalidInput(ERR_BAD_ROSTER, code="bad_roster", errors=errors)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    errors: list[dict[str, object]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            errors.append({"line": number, "message": MSG_NOT_UTF8})
    roster_refuse(errors or [{"line": 1, "message": MSG_NOT_UTF8}])
    raise AssertionError("unreachable")


def _header_check(header: list[str]) -> list[str]:
    """The header's column names, or a message saying what is wrong with it."""
    names = [h.strip().lower() for h in header]
    problems = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(MSG_HEADER_DUPLICATE.format(column=name))
        seen.add(name)
    unknown = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        problems.append(MSG_HEADER_UNKNOWN.format(columns=", ".join(unknown)))
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        problems.append(MSG_HEADER_MISSING.format(columns=", ".join(missing)))
    if problems:
        raise ValueError(" ".join(problems))
    return names


def roster_parse(data: bytes) -> list[RosterRow]:
    """The rows of a roster CSV; InvalidInput listing every bad line (1-based) when any is bad."""
    text = _decode(data)
    if not text.strip():
        roster_refuse([{"line": 1, "message": MSG_EMPTY}])
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[dict[str, object]] = []
    rows: list[RosterRow] = []
    columns: list[str] | None = None
    first_sno: dict[str, int] = {}
    first_email: dict[str, int] = {}
    previous_end = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field beyond csv.field_size_limit(): a bad file, not a crash
            roster_refuse([*errors, {"line": previous_end + 1, "message": MSG_UNREADABLE_CSV.format(problem=exc)}])
            raise AssertionError("unreachable") from None
        line, previous_end = previous_end + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines are allowed anywhere
        if columns is None:
            try:
                columns = _header_check(values)
            except ValueError as exc:
                roster_refuse([{"line": line, "message": str(exc)}])
            continue
        assert columns is not None
        if len(values) > len(columns):
            errors.append({"line": line, "message": MSG_TOO_MANY.format(count=len(values), expected=len(columns))})
            continue
        record = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(columns)}
        missing = [c for c in REQUIRED_COLUMNS if not record[c]]
        if missing:
            errors.append({"line": line, "message": MSG_MISSING_VALUE.format(columns=", ".join(missing))})
            continue
        problems = []
        sno, email = record["student_no"], record["email"].lower()
        role = record.get("role", "").lower() or STUDENT
        if not STUDENT_NO_RE.match(sno):
            problems.append(MSG_BAD_STUDENT_NO.format(value=sno))
        if not EMAIL_RE.match(email) or len(email) > 254:
            problems.append(MSG_BAD_EMAIL.format(email=record["email"]))
        if role not in ALL_ROLES:
            problems.append(MSG_UNKNOWN_ROLE.format(role=record["role"]))
        if sno.lower() in first_sno:
            problems.append(MSG_DUPLICATE_STUDENT_NO.format(value=sno, first=first_sno[sno.lower()]))
        else:
            first_sno[sno.lower()] = line
        if email in first_email:
            problems.append(MSG_DUPLICATE_EMAIL.format(value=email, first=first_email[email]))
        else:
            first_email[email] = line
        if problems:
            errors.append({"line": line, "message": " ".join(problems)})
            continue
        rows.append(RosterRow(line=line, student_no=sno, name=record["name"][:200], email=email, role=role))
        if len(rows) > MAX_ROSTER_ROWS:
            roster_refuse([{"line": line, "message": MSG_TOO_MANY_ROWS}])
    if columns is None:
        roster_refuse([{"line": 1, "message": MSG_EMPTY}])
    if not rows and not errors:
        roster_refuse([{"line": previous_end or 1, "message": MSG_NO_ROWS}])
    roster_refuse(errors)
    return rows


def roster_lecturers_check(rows: list[RosterRow], *, may_enrol_lecturers: bool) -> None:
    """Refuse a file with lecturer lines (403, naming them) from an importer who may not enrol lecturers."""
    lecturer_lines = [str(r.line) for r in rows if r.role == LECTURER]
    if lecturer_lines and not may_enrol_lecturers:
        # A TA would otherwise make a lecturer, and with an admin's import receive its activation code.
        raise Forbidden(ERR_LECTURER_ROWS.format(lines=", ".join(lecturer_lines)), code="lecturer_only")


def roster_matches(
    session: Session, *, course: Course, rows: list[RosterRow]
) -> tuple[dict[str, User], dict[str, User], dict[str, User], dict[int, str]]:
    """Accounts the lines name (by student number, email, and username) and this course's roles by user id."""
    snos = [r.student_no.lower() for r in rows]
    emails = [r.email for r in rows]
    by_sno = {
        (u.student_no or "").lower(): u
        for u in session.exec(select(User).where(func.lower(col(User.student_no)).in_(snos)))
    }
    by_email = {
        (u.email or "").lower(): u for u in session.exec(select(User).where(func.lower(col(User.email)).in_(emails)))
    }
    by_username = {u.username: u for u in session.exec(select(User).where(col(User.username).in_(snos)))}
    roles = dict(
        session.exec(select(CourseMember.user_id, CourseMember.role).where(CourseMember.course_id == course.id)).all()
    )
    return by_sno, by_email, by_username, roles


def roster_import(
    session: Session,
    *,
    course: Course,
    actor: User | None,
    data: bytes,
    now: datetime,
    email_codes: bool = False,
) -> RosterResult:
    """Import a roster CSV into `course` directly (admins, the CLI): all lines valid, or nothing imported.

    A line matching an existing account enrols it. With `email_codes`, each new user is also emailed
    their activation code (through the outbox). Staff who are not admins invite instead (roster.invitations).
    """
    rows = roster_parse(data)
    by_sno, by_email, by_username, roles = roster_matches(session, course=course, rows=rows)

    errors: list[dict[str, object]] = []
    plan: list[tuple[RosterRow, User | None]] = []
    matched: dict[int, int] = {}
    for row in rows:
        a, b = by_sno.get(row.student_no.lower()), by_email.get(row.email)
        if a is not None and b is not None and a.id != b.id:
            errors.append(
                {
                    "line": row.line,
                    "message": MSG_TWO_USERS.format(sno=row.student_no, a=a.username, email=row.email, b=b.username),
                }
            )
            continue
        user = a or b
        if user is not None and user.id in matched:
            errors.append(
                {"line": row.line, "message": MSG_SAME_USER.format(username=user.username, first=matched[user.id or 0])}
            )
            continue
        if user is not None:
            matched[user.id or 0] = row.line
        if user is None and row.username in by_username:
            errors.append({"line": row.line, "message": MSG_USERNAME_TAKEN.format(username=row.username)})
            continue
        if user is not None and roles.get(user.id or 0, row.role) != row.role:
            errors.append(
                {"line": row.line, "message": MSG_OTHER_ROLE.format(username=user.username, role=roles[user.id or 0])}
            )
            continue
        plan.append((row, user))
    roster_refuse(errors)

    result = RosterResult()
    new_rows = [row for row, user in plan if user is None]
    new_users = [
        User(username=r.username, name=r.name, email=r.email, student_no=r.student_no, created_at=now) for r in new_rows
    ]
    session.add_all(new_users)
    session.flush()
    for _row, user in plan:
        if user is None:
            continue
        if user.id in roles:
            result.already_enrolled.append(user)
        else:
            result.enrolled_existing.append(user)
    to_enrol = [(u, r.role) for u, r in zip(new_users, new_rows, strict=True)]
    to_enrol += [(u, r.role) for r, u in plan if u is not None and u.id not in roles]
    session.add_all([CourseMember(course_id=course.id, user_id=u.id, role=role) for u, role in to_enrol])  # type: ignore[arg-type]
    result.codes = [(u, activation_issue(session, user=u, now=now)) for u in new_users]
    session.flush()
    if email_codes:
        expires_at = now + timedelta(days=get_settings().activation_ttl_days)
        for user, code in result.codes:
            result.emailed += len(
                notice_activation(session, course=course, user=user, code=code, expires_at=expires_at, now=now)
            )
    audit_record(
        session,
        at=now,
        actor=actor,
        action="roster.import",
        entity="course",
        entity_id=course.id,
        course_id=course.id,
        after={
            "created": [u.username for u in new_users],
            "enrolled_existing": [u.username for u in result.enrolled_existing],
            "already_enrolled": len(result.already_enrolled),
        },
    )
    return result


ERR_NOT_A_MEMBER = "No such member of this course."
ERR_RESET_STAFF = (
    "Only a lecturer of the course issues a new code for a TA; a lecturer's or admin's account is reset by an "
    "administrator."
)
ERR_RESET_ELSEWHERE = "This account is staff in another course; an administrator resets it."


def course_members(session: Session, *, user: User, course_id: int) -> tuple[Course, list[tuple[CourseMember, User]]]:
    """The course's members with their roles, by role then username (staff only)."""
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    order = {LECTURER: 0, TA: 1, STUDENT: 2}
    rows = session.exec(
        select(CourseMember, User)
        .join(User, col(User.id) == col(CourseMember.user_id))
        .where(CourseMember.course_id == course_id)
    ).all()
    return access.course, sorted(rows, key=lambda r: (order.get(r[0].role, 3), r[1].username))


def activation_reissue(
    session: Session, *, user: User, course_id: int, user_id: int, now: datetime
) -> tuple[User, str]:
    """A new one-time activation code for a member who lost theirs; their earlier unused codes stop working.

    Using the code sets a new password, so it hands over the account: a TA resets only students,
    a lecturer students and TAs, and an account that is staff in another course only an admin.
    """
    access = course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)
    row = (
        session.exec(
            select(CourseMember, User)
            .join(User, col(User.id) == col(CourseMember.user_id))
            .where(CourseMember.course_id == course_id, CourseMember.user_id == user_id)
        ).first()
        if is_row_id(user_id)
        else None
    )
    if row is None:
        raise NotFound(ERR_NOT_A_MEMBER)
    member, target = row
    if not user.is_admin:
        allowed = {STUDENT} | ({TA} if access.is_lecturer else set())
        if member.role not in allowed or target.is_admin:
            raise Forbidden(ERR_RESET_STAFF, code="reset_not_allowed")
        elsewhere = session.exec(
            select(CourseMember.id).where(
                CourseMember.user_id == user_id,
                CourseMember.course_id != course_id,
                col(CourseMember.role).in_(STAFF_ROLES),
            )
        ).first()
        if elsewhere is not None:
            raise Forbidden(ERR_RESET_ELSEWHERE, code="reset_not_allowed")
    for old in session.exec(
        select(ActivationCode).where(
            ActivationCode.user_id == user_id,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.expires_at) > now,
        )
    ):
        old.expires_at = now
        session.add(old)
    code = activation_issue(session, user=target, now=now)
    audit_record(
        session,
        at=now,
        actor=user,
        action="activation.reissue",
        entity="user",
        entity_id=target.id,
        course_id=course_id,
        after={"username": target.username},
    )
    return target, code
