"""Reading a roster CSV `student_no,name,email[,role]`: every line checked, every bad line reported by number.

A file with any bad line is refused as a whole (422 with `errors: [{line, message}]`), so an
import never writes part of a file.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass

from app.access import ALL_ROLES, STUDENT
from app.errors import InvalidInput

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
MSG_UNREADABLE_CSV = "This line cannot be read as CSV: {problem}."


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


def roster_refuse(errors: list[dict[str, object]]) -> None:
    """Refuse the whole file (InvalidInput) when any line is bad, listing the lines in order."""
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


def _line_row(
    record: dict[str, str], line: int, *, first_sno: dict[str, int], first_email: dict[str, int]
) -> RosterRow | str:
    """The line's row, or the message naming everything wrong with it; remembers where each key first appears."""
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
        return " ".join(problems)
    return RosterRow(line=line, student_no=sno, name=record["name"][:200], email=email, role=role)


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
        checked = _line_row(record, line, first_sno=first_sno, first_email=first_email)
        if isinstance(checked, str):
            errors.append({"line": line, "message": checked})
            continue
        rows.append(checked)
        if len(rows) > MAX_ROSTER_ROWS:
            roster_refuse([{"line": line, "message": MSG_TOO_MANY_ROWS}])
    if columns is None:
        roster_refuse([{"line": 1, "message": MSG_EMPTY}])
    if not rows and not errors:
        roster_refuse([{"line": previous_end or 1, "message": MSG_NO_ROWS}])
    roster_refuse(errors)
    return rows
