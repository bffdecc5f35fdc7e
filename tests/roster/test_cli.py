"""`tracker import-roster`: the same import as the API, with the codes written to a CSV file."""

import csv
from pathlib import Path

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import ActivationCode, CourseMember, User
from app.security import digest
from tests.factories import make_course


def test_import_roster_writes_the_codes_of_new_users(session: Session, tmp_path: Path) -> None:
    course = make_course(session, code="DL9")
    session.commit()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_no,name,email\nS1,Ada,ada@uni.example\nS2,Alan,alan@uni.example\n", encoding="utf-8")
    codes = tmp_path / "codes.csv"
    result = CliRunner().invoke(cli, ["import-roster", "DL9", str(roster), "--codes", str(codes)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"DL9: 2 users created, 0 existing users enrolled, 0 already enrolled. Activation codes written to {codes}.\n"
    )
    with codes.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student_no"], r["username"], r["email"]) for r in rows] == [
        ("S1", "s1", "ada@uni.example"),
        ("S2", "s2", "alan@uni.example"),
    ]
    assert set(session.exec(select(ActivationCode.code_hash)).all()) == {digest(r["code"]) for r in rows}
    session.commit()  # end the read: SQLite transactions hold the write lock
    again = CliRunner().invoke(cli, ["import-roster", str(course.id), str(roster), "--codes", str(codes)])
    assert again.exit_code == 0
    assert codes.read_text(encoding="utf-8") == "student_no,username,email,code\n"
    assert (
        session.exec(select(func.count()).select_from(CourseMember).where(CourseMember.course_id == course.id)).one()
        == 3
    )


def test_import_roster_lists_bad_lines_and_imports_nothing(session: Session, tmp_path: Path) -> None:
    make_course(session, code="DL9")
    session.commit()
    users = session.exec(select(func.count()).select_from(User)).one()
    session.commit()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_no,name,email\nS1,Ada,ada@uni.example\nS1,Ada,ada2@uni.example\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-roster", "DL9", str(roster), "--codes", str(tmp_path / "c.csv")])
    assert result.exit_code == 1
    assert result.output == (
        "error: The roster has errors; nothing was imported. Fix the lines listed and upload it "
        "again.\n  line 3: student_no S1 already appears on line 2.\n"
    )
    assert session.exec(select(func.count()).select_from(User)).one() == users
    assert not (tmp_path / "c.csv").exists()


def test_import_roster_into_an_unknown_course_is_an_error_not_a_crash(session: Session, tmp_path: Path) -> None:
    make_course(session, code="DL9")
    session.commit()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_no,name,email\nS1,Ada,ada@uni.example\n", encoding="utf-8")
    for course in ("DL404", "9" * 30):  # the second cannot even be bound as an id
        result = CliRunner().invoke(cli, ["import-roster", course, str(roster)])
        assert (result.exit_code, result.output) == (1, f"error: no course with id or code {course!r}\n")
