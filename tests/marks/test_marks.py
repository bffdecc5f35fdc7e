"""Marks: late multipliers and extensions, membership at the deadline, release, marks.csv, assignment marks."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.marks.compute import MilestoneResult
from app.marks.service import ERR_IMPORT_HEADER, ERR_RELEASE_LECTURER_ONLY, marks_table
from app.models import AssignmentMark, AuditEvent, Course, GroupMembership, ProjectGroup, User
from app.submissions.service import NOTICE_AFTER_RELEASE
from tests.conftest import FakeClock
from tests.factories import (
    FINAL_DUE,
    PROPOSAL_DUE,
    REPORT_DUE,
    auth,
    make_course,
    make_extension,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_user,
)
from tests.submissions.pdfs import tiny_pdf

NOW = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


def _submit(
    session: Session, group: ProjectGroup, key: str, received_at: datetime, reviewers: list[User], scores: list[float]
) -> None:
    sub = make_submission(session, group, key, received_at=received_at)
    for reviewer, score in zip(reviewers, scores, strict=True):
        make_review(session, sub, reviewer, score)


def _owls(session: Session, course: Course, staff: list[User], members: list[User]) -> ProjectGroup:
    """On time for the proposal thanks to an extension, 30 h late with the report, on time with the poster."""
    owls = make_group(session, course, members=members, name="Owls")
    extended = PROPOSAL_DUE + timedelta(days=2)
    make_extension(session, owls, "proposal", due_at=extended)
    # 42 h after the milestone deadline, but before the group's extended deadline: multiplier 1.
    _submit(session, owls, "proposal", PROPOSAL_DUE + timedelta(hours=42), staff[:2], [80.0, 70.0])
    _submit(session, owls, "report", REPORT_DUE + timedelta(hours=30), staff, [90.0, 80.0, 85.0])
    _submit(session, owls, "final", FINAL_DUE - timedelta(hours=1), staff[:1], [88.0])
    return owls


def test_late_report_and_extended_proposal(session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    staff = [lecturer, make_staff(session, course), make_staff(session, course)]
    student = make_student(session, course)
    _owls(session, course, staff, [student])
    table = marks_table(session, course=course)
    (row,) = table.rows
    assert row.milestones == {
        "proposal": MilestoneResult(submitted=True, score=75.0, multiplier=1.0, mark=75.0),
        "report": MilestoneResult(submitted=True, score=85.0, multiplier=0.7, mark=85.0 * 0.7),
        "final": MilestoneResult(submitted=True, score=88.0, multiplier=1.0, mark=88.0),
    }
    # 0.2 × 75 + 0.6 × 59.5 + 0.2 × 88 = 15 + 35.7 + 17.6
    assert round(row.project or 0, 9) == 68.3
    assert (row.group_name, row.assignment, row.course) == ("Owls", None, None)


def test_marks_csv_for_a_small_course(client: TestClient, session: Session, clock: FakeClock) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer, code="DL-CSV")
    staff = [lecturer, make_staff(session, course), make_staff(session, course)]
    s = {
        no: make_student(session, course, student_no=no, name=name)
        for no, name in (
            ("2026001", "Ada Lovelace"),
            ("2026002", "Alan Turing"),
            ("2026003", "Grace Hopper"),
            ("2026004", "Katherine Johnson"),
            ("2026005", "Edsger Dijkstra"),
            ("2026006", "Barbara Liskov"),
            ("2026000", "Claude Shannon, Jr."),
        )
    }
    owls = _owls(session, course, staff, [s["2026001"], s["2026002"], s["2026003"]])
    larks = make_group(session, course, members=[s["2026004"], s["2026005"]], name="Larks")
    # Barbara joins after the proposal deadline; Grace moves from Owls to Larks before the report's.
    moved = datetime(2026, 12, 1, tzinfo=UTC)
    barbara, grace_id = s["2026006"].id, s["2026003"].id
    session.add(
        GroupMembership(
            group_id=larks.id,
            course_id=course.id,
            user_id=barbara,  # type: ignore[arg-type]
            joined_at=datetime(2026, 11, 10, tzinfo=UTC),
        )
    )
    grace = session.exec(select(GroupMembership).where(GroupMembership.user_id == grace_id)).one()
    grace.left_at = moved
    session.add(grace)
    session.add(
        GroupMembership(
            group_id=larks.id,
            course_id=course.id,
            user_id=grace_id,  # type: ignore[arg-type]
            joined_at=moved,
        )
    )
    _submit(session, larks, "proposal", PROPOSAL_DUE + timedelta(hours=2), staff[1:2], [60.0])  # 0.9
    _submit(session, larks, "report", REPORT_DUE - timedelta(days=1), staff[1:], [70.0, 75.0])
    assert owls.id and larks.id
    headers = auth(session, lecturer)
    clock.set(NOW)
    response = client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="DL-CSV-marks.csv"'
    header = (
        "student_no,name,group,proposal_score,proposal_multiplier,proposal_mark,report_score,"
        "report_multiplier,report_mark,final_score,final_multiplier,final_mark,project_mark"
    )
    assert (
        response.text
        == "\n".join(
            [
                header,
                '2026000,"Claude Shannon, Jr.",,,,0.00,,,0.00,,,0.00,0.00',
                "2026001,Ada Lovelace,Owls,75.00,1.00,75.00,85.00,0.70,59.50,88.00,1.00,88.00,68.30",
                "2026002,Alan Turing,Owls,75.00,1.00,75.00,85.00,0.70,59.50,88.00,1.00,88.00,68.30",
                "2026003,Grace Hopper,Larks,75.00,1.00,75.00,72.50,1.00,72.50,,,0.00,58.50",
                "2026004,Katherine Johnson,Larks,60.00,0.90,54.00,72.50,1.00,72.50,,,0.00,54.30",
                "2026005,Edsger Dijkstra,Larks,60.00,0.90,54.00,72.50,1.00,72.50,,,0.00,54.30",
                "2026006,Barbara Liskov,Larks,,,0.00,72.50,1.00,72.50,,,0.00,43.50",
            ]
        )
        + "\n"
    )

    marks_csv = b"student_no,assignment_mark\n2026001,90\n2026002,77.5\n2026004,64.25\n"
    response = client.post(
        f"/api/v1/courses/{course.id}/assignment-marks",
        headers=headers,
        files={"file": ("marks.csv", marks_csv, "text/csv")},
    )
    assert response.status_code == 200
    assert response.json() == {"imported": 3}
    lines = client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=headers).text.splitlines()
    assert lines[0] == header + ",assignment_mark,course_mark"
    # course mark = 0.4 × assignments + 0.6 × project
    assert [line.rsplit(",", 3)[1:] for line in lines[1:]] == [
        ["0.00", "", ""],
        ["68.30", "90.00", "76.98"],
        ["68.30", "77.50", "71.98"],
        ["58.50", "", ""],
        ["54.30", "64.25", "58.28"],
        ["54.30", "", ""],
        ["43.50", "", ""],
    ]
    student_headers = auth(session, s["2026001"])
    assert client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=student_headers).status_code == 403


def test_a_bad_assignment_file_imports_nothing_and_names_every_bad_line(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    make_student(session, course, student_no="A1")
    make_student(session, course, student_no="A2")
    headers = auth(session, lecturer)
    url = f"/api/v1/courses/{course.id}/assignment-marks"
    text = "student_no,assignment_mark\nA1,88\nZZ,70\nA1,60\nA2,101\nA2\n\nA2,nan\n"
    response = client.post(url, headers=headers, files={"file": ("m.csv", text.encode(), "text/csv")})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "field": "file",
        "detail": (
            "line 3: no student 'ZZ' in this course. "
            "line 4: student 'A1' already appears on line 2. "
            "line 5: assignment_mark must be a number from 0 to 100, not '101'. "
            "line 6: expected 2 fields, found 1. "
            "line 8: student 'A2' already appears on line 5."
        ),
    }
    response = client.post(url, headers=headers, files={"file": ("m.csv", b"no,mark\nA1,5\n", "text/csv")})
    assert response.json() == {"error": "invalid", "field": "file", "detail": ERR_IMPORT_HEADER}
    assert session.exec(select(AssignmentMark)).all() == []


def test_students_see_no_marks_before_release_and_only_released_ones_after(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course)
    staff = [lecturer, ta, make_staff(session, course)]
    student = make_student(session, course)
    _owls(session, course, staff, [student])
    headers, ta_headers, lecturer_headers = auth(session, student), auth(session, ta), auth(session, lecturer)
    url = f"/api/v1/courses/{course.id}/my-marks"
    nothing = {
        "course_id": course.id,
        "milestones": [],
        "project_mark": None,
        "assignment_mark": None,
        "course_mark": None,
    }
    assert client.get(url, headers=headers).json() == nothing
    assert client.post(f"/api/v1/courses/{course.id}/milestones/report/release", headers=headers).status_code == 403
    # A release cannot be undone: it is the lecturer's.
    refused = client.post(f"/api/v1/courses/{course.id}/milestones/report/release", headers=ta_headers)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "lecturer_only", "detail": ERR_RELEASE_LECTURER_ONLY},
    )
    clock.set(NOW)
    response = client.post(f"/api/v1/courses/{course.id}/milestones/report/release", headers=lecturer_headers)
    assert response.json() == {"milestone": "report", "marks_released_at": "2027-01-10T02:00:00Z"}
    clock.advance(hours=1)
    again = client.post(f"/api/v1/courses/{course.id}/milestones/report/release", headers=lecturer_headers)
    assert again.json() == response.json()
    assert client.get(url, headers=headers).json() == {
        "course_id": course.id,
        "project_mark": None,
        "assignment_mark": None,
        "course_mark": None,
        "milestones": [{"key": "report", "title": "Report", "score": 85.0, "multiplier": 0.7, "mark": 59.5}],
    }
    for key in ("proposal", "final"):
        client.post(f"/api/v1/courses/{course.id}/milestones/{key}/release", headers=lecturer_headers)
    body = client.get(url, headers=headers).json()
    assert [m["key"] for m in body["milestones"]] == ["proposal", "report", "final"]
    assert body["project_mark"] == 68.3
    releases = session.exec(select(AuditEvent.after).where(AuditEvent.action == "marks.release")).all()
    assert len(releases) == 3
    session.commit()  # SQLite: end the read so the API can write
    assert client.get(url, headers=ta_headers).status_code == 403


def test_marks_csv_can_use_normalised_review_scores(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    harsh, kind = make_staff(session, course), make_staff(session, course)
    for no, (reviewer, score) in enumerate(
        [(harsh, 40.0), (harsh, 50.0), (harsh, 75.0), (kind, 70.0), (kind, 80.0), (kind, 90.0)]
    ):
        group = make_group(session, course, members=[make_student(session, course, student_no=f"N{no}")])
        _submit(session, group, "report", REPORT_DUE, [reviewer], [score])
    headers = auth(session, lecturer)
    url = f"/api/v1/courses/{course.id}/marks.csv"

    def report_scores(query: str) -> list[str]:
        lines = client.get(url + query, headers=headers).text.splitlines()[1:]
        return [line.split(",")[6] for line in lines]

    assert report_scores("") == ["40.00", "50.00", "75.00", "70.00", "80.00", "90.00"]
    # Same figures as the selection's normalisation test: harsh 75 -> 90.95, kind 90 -> 88.64.
    assert report_scores("?normalise=true") == ["49.91", "61.64", "90.95", "46.36", "67.50", "88.64"]


def test_membership_counts_at_the_milestone_deadline_even_when_a_group_has_an_extension(session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course)
    mover = make_student(session, course, student_no="M1")
    owls = make_group(session, course, members=[mover], name="Owls")
    larks = make_group(session, course, members=[make_student(session, course, student_no="L1")], name="Larks")
    make_extension(session, owls, "report", due_at=REPORT_DUE + timedelta(days=7))
    # The mover is in Owls at the report's deadline and moves to Larks a day later, inside Owls' extension.
    moved = REPORT_DUE + timedelta(days=1)
    membership = session.exec(select(GroupMembership).where(GroupMembership.user_id == mover.id)).one()
    membership.left_at = moved
    session.add(membership)
    session.add(
        GroupMembership(
            group_id=larks.id,
            course_id=course.id,
            user_id=mover.id,  # type: ignore[arg-type]
            joined_at=moved,
        )
    )
    _submit(session, owls, "report", REPORT_DUE + timedelta(days=2), [ta], [80.0])  # within the extension
    _submit(session, larks, "report", REPORT_DUE - timedelta(hours=1), [ta], [60.0])
    rows = {row.user.student_no: row for row in marks_table(session, course=course).rows}
    # Membership as of the milestone's deadline, not the extension's: the mover gets Owls' report, not 0 and not Larks'.
    assert rows["M1"].milestones["report"] == MilestoneResult(submitted=True, score=80.0, multiplier=1.0, mark=80.0)
    assert rows["M1"].group_name == "Larks"
    assert rows["L1"].milestones["report"] == MilestoneResult(submitted=True, score=60.0, multiplier=1.0, mark=60.0)


def test_marks_csv_neutralises_names_a_spreadsheet_would_run_as_formulas(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    student = make_student(session, course, student_no="2026042", name='=HYPERLINK("http://evil","x")')
    make_group(session, course, members=[student], name="+Owls")
    headers = auth(session, lecturer)
    lines = client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=headers).text.splitlines()
    assert lines[1] == '2026042,"\'=HYPERLINK(""http://evil"",""x"")",\'+Owls,,,0.00,,,0.00,,,0.00,0.00'


def test_after_release_a_new_upload_changes_no_released_mark(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course)
    staff = [lecturer, ta, make_staff(session, course)]
    student = make_student(session, course)
    owls = _owls(session, course, staff, [student, make_student(session, course), make_student(session, course)])
    late = make_group(session, course, size=3, name="Late")  # nothing submitted before the release
    session.commit()
    lecturer_h, student_h, ta_h = auth(session, lecturer), auth(session, student), auth(session, ta)
    clock.set(NOW)
    for key in ("proposal", "report", "final"):
        assert (
            client.post(f"/api/v1/courses/{course.id}/milestones/{key}/release", headers=lecturer_h).status_code == 200
        )
    url = f"/api/v1/courses/{course.id}/my-marks"
    released = client.get(url, headers=student_h).json()
    assert (released["project_mark"], [m["mark"] for m in released["milestones"]]) == (68.3, [75.0, 59.5, 88.0])
    csv_before = client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=lecturer_h).text

    clock.advance(hours=1)
    upload = client.post(
        f"/api/v1/groups/{owls.id}/milestones/report/submissions",
        headers=student_h,
        files={"file": ("late.pdf", tiny_pdf(), "application/pdf")},
    )
    assert upload.status_code == 201
    body = upload.json()
    assert (body["version"], body["graded"], body["notice"]) == (2, False, NOTICE_AFTER_RELEASE)
    make_submission(session, late, "report", received_at=NOW + timedelta(hours=2))
    session.commit()

    assert client.get(url, headers=student_h).json() == released
    assert client.get(f"/api/v1/courses/{course.id}/marks.csv", headers=lecturer_h).text == csv_before
    versions = client.get(f"/api/v1/groups/{owls.id}/milestones/report/submissions", headers=ta_h).json()
    assert [(v["version"], v["graded"]) for v in versions] == [(1, True), (2, False)]
    # Staff may still decide to grade the new version: then, and only then, the mark follows it.
    pinned = client.post(
        f"/api/v1/groups/{owls.id}/milestones/report/graded", headers=ta_h, json={"submission_id": body["id"]}
    )
    assert (pinned.json()["graded"], pinned.json()["notice"]) == (True, None)
    assert client.get(url, headers=student_h).json()["project_mark"] != 68.3
