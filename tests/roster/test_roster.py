"""The roster import: every bad line reported by number, nothing imported on error, idempotent."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.config import get_settings
from app.models import ActivationCode, AuditEvent, CourseMember, User
from app.roster.invitations import MSG_LECTURER_NEEDS_ADMIN
from app.roster.router import ERR_MEDIA_TYPE, ERR_NO_FILE
from app.roster.service import (
    ERR_BAD_ROSTER,
    MSG_EMPTY,
    MSG_NO_ROWS,
    MSG_NOT_UTF8,
    MSG_OTHER_ROLE,
    MSG_TWO_USERS,
    MSG_USERNAME_TAKEN,
)
from app.security import digest
from tests.factories import auth, make_course, make_staff, make_student, make_user

GOOD = (
    "student_no,name,email,role\n"
    "S2026001,Ada Lovelace,ada@uni.example,\n"
    "S2026002,Alan Turing,ALAN@uni.example,student\n"
    "T900,Grace Hopper,grace@uni.example,ta\n"
)


def _users(session: Session) -> int:
    count = session.exec(select(func.count()).select_from(User)).one()
    session.commit()
    return count


def _upload(client: TestClient, course_id: int, headers: dict[str, str], data: bytes | str) -> object:
    raw = data.encode() if isinstance(data, str) else data
    return client.post(
        f"/api/v1/courses/{course_id}/roster", files={"file": ("roster.csv", raw, "text/csv")}, headers=headers
    )


def test_import_creates_users_enrols_them_and_returns_codes(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_user(session, admin=True))  # the direct import; other staff invite
    response = _upload(client, course.id, headers, GOOD)
    assert response.status_code == 200
    body = response.json()
    codes = body.pop("activation_codes")
    assert body == {"created": 3, "enrolled_existing": 0, "already_enrolled": 0, "codes_emailed": 0, "invited": 0}
    assert [(c["student_no"], c["username"], c["email"]) for c in codes] == [
        ("S2026001", "s2026001", "ada@uni.example"),
        ("S2026002", "s2026002", "alan@uni.example"),
        ("T900", "t900", "grace@uni.example"),
    ]
    stored = set(session.exec(select(ActivationCode.code_hash)).all())
    assert stored == {digest(c["code"]) for c in codes}
    roles = session.exec(
        select(User.username, CourseMember.role)
        .join(CourseMember, CourseMember.user_id == User.id)
        .where(CourseMember.course_id == course.id)
    ).all()
    assert sorted(r for r in roles if r[0] in {"s2026001", "s2026002", "t900"}) == [
        ("s2026001", "student"),
        ("s2026002", "student"),
        ("t900", "ta"),
    ]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "roster.import")).one()
    assert event.after == {"created": ["s2026001", "s2026002", "t900"], "enrolled_existing": [], "already_enrolled": 0}
    session.commit()
    # The code activates the account.
    activated = client.post("/api/v1/auth/activate", json={"code": codes[0]["code"], "password": "first-pass"})
    assert activated.status_code == 200
    login = client.post("/api/v1/auth/token", data={"username": "s2026001", "password": "first-pass"})
    assert login.status_code == 200


def test_reimport_is_idempotent(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_user(session, admin=True))
    assert _upload(client, course.id, headers, GOOD).json()["created"] == 3
    users, members = _users(session), session.exec(select(func.count()).select_from(CourseMember)).one()
    session.commit()
    again = _upload(client, course.id, headers, GOOD)
    assert again.json() == {
        "created": 0,
        "enrolled_existing": 0,
        "already_enrolled": 3,
        "codes_emailed": 0,
        "invited": 0,
        "activation_codes": [],
    }
    assert _users(session) == users
    assert session.exec(select(func.count()).select_from(CourseMember)).one() == members


def test_existing_users_are_matched_by_student_no_or_email_and_enrolled(client: TestClient, session: Session) -> None:
    course = make_course(session)
    other = make_course(session)
    by_sno = make_student(session, other, username="ada-old", student_no="S2026001", email="old@uni.example")
    by_email = make_user(session, username="alan", email="alan@uni.example")
    headers = auth(session, make_user(session, admin=True))  # accounts outside the course: an admin's import
    before = _users(session)
    body = _upload(client, course.id, headers, GOOD).json()
    assert [c["username"] for c in body.pop("activation_codes")] == ["t900"]
    assert body == {"created": 1, "enrolled_existing": 2, "already_enrolled": 0, "codes_emailed": 0, "invited": 0}
    assert _users(session) == before + 1
    enrolled = session.exec(
        select(CourseMember.user_id).where(CourseMember.course_id == course.id, CourseMember.role == "student")
    ).all()
    assert sorted(enrolled) == sorted([by_sno.id, by_email.id])


def test_a_raw_text_csv_body_is_accepted(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course))
    response = client.post(
        f"/api/v1/courses/{course.id}/roster", content=GOOD.encode(), headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200
    assert response.json()["invited"] == 3
    other = client.post(f"/api/v1/courses/{course.id}/roster", json={"a": 1}, headers=headers)
    assert (other.status_code, other.json()) == (415, {"error": "unsupported_media_type", "detail": ERR_MEDIA_TYPE})


def _refused(client: TestClient, session: Session, data: bytes | str) -> list[dict[str, object]]:
    course = make_course(session)
    headers = auth(session, make_staff(session, course))
    before = _users(session)
    response = _upload(client, course.id, headers, data)
    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["detail"]) == ("bad_roster", ERR_BAD_ROSTER)
    assert _users(session) == before  # nothing imported
    assert (
        session.exec(select(func.count()).select_from(CourseMember).where(CourseMember.course_id == course.id)).one()
        == 2
    )
    session.commit()
    return body["errors"]


def test_every_bad_line_is_reported_by_number(client: TestClient, session: Session) -> None:
    data = (
        "student_no,name,email\n"  # 1
        "S1,Ada,ada@uni.example\n"  # 2 fine
        "S2,Alan\n"  # 3 missing column
        "s1,Other Ada,other@uni.example\n"  # 4 duplicate student_no (case-insensitive)
        "\n"  # 5 blank: skipped
        "S3,Grace,not-an-email\n"  # 6 bad email
        "S4,Kurt,kurt@uni.example,extra\n"  # 7 too many values
        "S5,,emmy@uni.example\n"  # 8 empty name
        "S6,Emmy,ADA@uni.example\n"  # 9 duplicate email
    )
    assert _refused(client, session, data) == [
        {"line": 3, "message": "Missing value for column(s): email."},
        {"line": 4, "message": "student_no s1 already appears on line 2."},
        {"line": 6, "message": "'not-an-email' is not a valid email address."},
        {"line": 7, "message": "4 values, but the header has 3 columns."},
        {"line": 8, "message": "Missing value for column(s): name."},
        {"line": 9, "message": "email ada@uni.example already appears on line 2."},
    ]


def test_unknown_role_is_reported(client: TestClient, session: Session) -> None:
    data = "student_no,name,email,role\nS1,Ada,ada@uni.example,professor\nS2,Alan,alan@uni.example,TA\n"
    assert _refused(client, session, data) == [
        {
            "line": 2,
            "message": "Unknown role 'professor'; use student, ta or lecturer (or leave it empty for student).",
        },
    ]


def test_a_missing_header_column_is_reported_on_line_1(client: TestClient, session: Session) -> None:
    assert _refused(client, session, "student_no,name\nS1,Ada\n") == [
        {"line": 1, "message": "The header lacks the column(s): email (expected student_no,name,email[,role])."},
    ]
    assert _refused(client, session, "S1,Ada,ada@uni.example\n") == [
        {
            "line": 1,
            "message": "Unknown column(s) in the header: s1, ada, ada@uni.example. "
            "The header lacks the column(s): student_no, name, email "
            "(expected student_no,name,email[,role]).",
        },
    ]


def test_an_empty_file_is_refused(client: TestClient, session: Session) -> None:
    assert _refused(client, session, b"") == [{"line": 1, "message": MSG_EMPTY}]
    assert _refused(client, session, "\n  \n") == [{"line": 1, "message": MSG_EMPTY}]
    assert _refused(client, session, "student_no,name,email\n") == [{"line": 1, "message": MSG_NO_ROWS}]


def test_a_file_that_is_not_utf8_is_refused_with_its_lines(client: TestClient, session: Session) -> None:
    data = (
        b"student_no,name,email\nS1,Ada,ada@uni.example\n"
        + "S2,Jürgen,j@uni.example\n".encode("latin-1")
        + "S3,Zoë,z@uni.example\n".encode("cp1252")
    )
    assert _refused(client, session, data) == [
        {"line": 3, "message": MSG_NOT_UTF8},
        {"line": 4, "message": MSG_NOT_UTF8},
    ]


def test_a_utf8_bom_and_crlf_are_fine(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course))
    data = "\ufeffStudent_No , Name, EMAIL\r\nS1,Jürgen Müller,j@uni.example\r\n".encode()
    body = _upload(client, course.id, headers, data).json()
    assert body["invited"] == 1
    assert session.exec(select(User.name).where(User.username == "s1")).one() == "Jürgen Müller"


def test_conflicts_with_existing_users_are_reported(client: TestClient, session: Session) -> None:
    course = make_course(session)
    make_user(session, username="ada", student_no="S1", email="ada@uni.example")
    make_user(session, username="bob", email="bob@uni.example")
    make_user(session, username="s3")
    make_staff(session, course, username="tina", student_no="S4", email="tina@uni.example")
    session.commit()
    data = (
        "student_no,name,email\n"
        "S1,Ada,bob@uni.example\n"  # the number is ada's, the email bob's
        "S3,Sam,sam@uni.example\n"  # new, but the username s3 is taken
        "S4,Tina,tina@uni.example\n"  # already a TA of this course
    )
    headers = auth(session, make_user(session, admin=True))
    before = _users(session)
    response = _upload(client, course.id, headers, data)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 2, "message": MSG_TWO_USERS.format(sno="S1", a="ada", email="bob@uni.example", b="bob")},
        {"line": 3, "message": MSG_USERNAME_TAKEN.format(username="s3")},
        {"line": 4, "message": MSG_OTHER_ROLE.format(username="tina", role="ta")},
    ]
    assert _users(session) == before


def test_a_multipart_upload_without_the_file_field_is_422(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_staff(session, course))
    response = client.post(
        f"/api/v1/courses/{course.id}/roster", files={"other": ("r.csv", b"x", "text/csv")}, headers=headers
    )
    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "detail": ERR_NO_FILE, "field": "file"}


def test_a_roster_above_the_upload_limit_is_413(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    course = make_course(session)
    headers = auth(session, make_staff(session, course))
    before = _users(session)
    data = GOOD + "".join(f"X{n},Name {n},x{n}@uni.example\n" for n in range(40_000))
    assert len(data.encode()) > 1024 * 1024
    response = _upload(client, course.id, headers, data)
    assert (response.status_code, response.json()) == (
        413,
        {"error": "payload_too_large", "detail": "The upload exceeds the limit of 1 MiB."},
    )
    assert _users(session) == before


def test_a_ta_may_not_enrol_a_lecturer(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta_headers = auth(session, make_staff(session, course, role="ta"))
    before = _users(session)
    data = "student_no,name,email,role\nS1,Ada,ada@uni.example,\nB1,Boss,boss@uni.example,lecturer\n"
    response = _upload(client, course.id, ta_headers, data)
    assert (response.status_code, response.json()) == (
        403,
        {
            "error": "lecturer_only",
            "detail": "Only a lecturer of the course enrols lecturers; a TA may import students and TAs (lines 3).",
        },
    )
    assert _users(session) == before
    # A lecturer who is not an admin invites the student but adds no lecturer: never a lecturer without an admin.
    lecturer_headers = auth(session, make_staff(session, course, role="lecturer"))
    refused = _upload(client, course.id, lecturer_headers, data)
    assert (refused.status_code, refused.json()["errors"]) == (422, [{"line": 3, "message": MSG_LECTURER_NEEDS_ADMIN}])
    admin_headers = auth(session, make_user(session, admin=True))
    assert _upload(client, course.id, admin_headers, data).json()["created"] == 2


def test_a_line_the_csv_reader_cannot_read_is_reported(client: TestClient, session: Session) -> None:
    data = "student_no,name,email\nS1,Ada,ada@uni.example\nS2," + "x" * 200_000 + ",b@uni.example\n"
    assert _refused(client, session, data) == [
        {"line": 3, "message": "This line cannot be read as CSV: field larger than field limit (131072)."},
    ]


def test_a_roster_beyond_any_course_is_refused_not_a_crash(client: TestClient, session: Session) -> None:
    # 70 000 rows fit in the default 20 MiB, but one lookup would bind more than PostgreSQL's 65 535 parameters.
    data = "student_no,name,email\n" + "".join(f"X{n},Name {n},x{n}@uni.example\n" for n in range(70_000))
    assert _refused(client, session, data) == [
        {"line": 10_002, "message": "The roster holds more than 10000 students; is this the right file?"},
    ]


def test_staff_see_only_their_own_members_in_errors_and_enrol_nobody_from_outside(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    other = make_course(session)
    make_student(session, other, username="ada", student_no="S1", email="ada@uni.example")
    make_user(session, username="s3")
    make_staff(session, course, username="tina", student_no="S4", email="tina@uni.example")
    session.commit()
    data = (
        "student_no,name,email\n"
        "S1,Ada,new1@uni.example\n"  # another course's student, by number
        "S2,Ada,ada@uni.example\n"  # the same, by email
        "S3,Sam,sam@uni.example\n"  # the username s3 is another account's
        "S4,Tina,tina@uni.example\n"  # already a TA of this course: staff may see that
    )
    for role in ("ta", "lecturer"):
        response = _upload(client, course.id, auth(session, make_staff(session, course, role=role)), data)
        assert response.status_code == 422
        assert response.json()["errors"] == [{"line": 5, "message": MSG_OTHER_ROLE.format(username="tina", role="ta")}]
    fixed = data.replace("S4,Tina,tina@uni.example\n", "S4,Tina,tina@uni.example,ta\n").replace(
        "student_no,name,email\n", "student_no,name,email,role\n"
    )
    response = _upload(client, course.id, auth(session, make_staff(session, course, role="lecturer")), fixed)
    assert response.json() == {
        "created": 0,
        "enrolled_existing": 0,
        "already_enrolled": 1,
        "codes_emailed": 0,
        "invited": 3,
        "activation_codes": [],
    }
    assert (
        session.exec(
            select(CourseMember).where(CourseMember.course_id == course.id, CourseMember.role == "student")
        ).all()
        == []
    )
