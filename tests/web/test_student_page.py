"""The students' one page, and every staff page closed to students (403: they see the course; 404 for runs)."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Milestone, SelectionRun
from app.selection.service import selection_run
from tests.conftest import FakeClock
from tests.factories import (
    REPORT_DUE,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_topic,
)
from tests.web.helpers import staff_forms, text_of, web_login


def test_a_student_sees_the_status_of_their_own_group(client: TestClient, session: Session, clock: FakeClock) -> None:
    course = make_course(session)
    ada, bob = make_student(session, course, name="Ada"), make_student(session, course, name="Bob")
    group = make_group(session, course, members=[ada, bob], name="Owls")
    make_topic(session, group)
    sub = make_submission(
        session,
        group,
        "report",
        received_at=datetime(2026, 12, 21, 21, 59, tzinfo=UTC),
        verdict="reject",
        errors=["page-limit"],
    )
    make_review(session, sub, make_staff(session, course), 64)
    web_login(client, session, ada)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    assert f'href="/ui/groups/{group.id}/status"' in client.get("/ui").text
    page = text_of(client.get(f"/ui/groups/{group.id}/status").text)
    assert (
        f"Group Members Ada, Bob Join code {group.join_code} share it with your team mates; they join with it "
        "Week 16 decided when the selection is published Leave the group "
        "Week 16 The week-16 programme is not published yet. "
        "Topic Seeing in the dark · computer vision approved Edit the topic"
    ) in page
    assert (
        "Report Deadline 2026-12-20 23:59 (UTC+08:00) Time left 19 d 15 h 59 min "
        "Status late by 1 d 6 h 0 min, × 0.70 (v1 counts) PDF for the report (at most 20 MiB; drop it here or "
        "choose it) Upload as a new version Check without submitting Versions "
        "v1 · report.pdf · 2026-12-22 05:59 (UTC+08:00) · reject · late by 1 d 6 h 0 min, × 0.70 "
        "error page-limit page-limit Open the PDF of v1"
    ) in page
    assert (
        "Proposal Deadline 2026-11-01 23:59 (UTC+08:00) Time left the deadline has passed Status nothing submitted"
    ) in page
    assert (
        "Presentation or poster Deadline 2026-12-27 23:59 (UTC+08:00) Time left 26 d 15 h 59 min Status nothing "
        "submitted Uploads open when the presentation selection is published: it decides slides or poster."
    ) in page
    assert "No marks released yet." in page
    assert page.endswith("Marks No marks released yet.")
    assert "64.00" not in page  # no score before release


def test_another_student_gets_404_and_staff_403_on_a_groups_status_page(client: TestClient, session: Session) -> None:
    course = make_course(session)
    group = make_group(session, course, size=3)
    outsider = make_student(session, course)
    make_group(session, course, members=[outsider])
    web_login(client, session, outsider)
    assert client.get(f"/ui/groups/{group.id}/status").status_code == 404
    web_login(client, session, make_staff(session, course))
    assert client.get(f"/ui/groups/{group.id}/status").status_code == 403


def test_a_student_gets_403_on_every_staff_page_and_form(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student, *(make_student(session, course) for _ in range(2))])
    make_topic(session, group, status="proposed")
    sub = make_submission(session, group, "report", received_at=REPORT_DUE)
    lecturer = make_staff(session, course, role="lecturer")
    run = selection_run(session, user=lecturer, course_id=course.id, force=True, now=REPORT_DUE)
    csrf = web_login(client, session, student)
    pages = [
        f"/ui/courses/{course.id}",
        f"/ui/courses/{course.id}/milestones/report",
        f"/ui/courses/{course.id}/milestones/report?filter=late",
        f"/ui/courses/{course.id}/milestones/report/dashboard.csv",
        f"/ui/groups/{group.id}",
        f"/ui/groups/{group.id}?milestone=proposal",
        f"/ui/courses/{course.id}/selection",
    ]
    assert {path: client.get(path).status_code for path in pages} == dict.fromkeys(pages, 403)
    forms = staff_forms(course_id=course.id or 0, group_id=group.id or 0, submission_id=sub.id or 0, run_id=run.id or 0)
    statuses = {path: client.post(path, data={"csrf_token": csrf, **data}).status_code for path, data in forms.items()}
    # A selection run is the staff's alone: to a student it does not exist.
    assert statuses == {path: 404 if path.startswith("/ui/selections/") else 403 for path in forms}
    assert session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all() == ["course.create", "selection.run"]
    assert session.exec(select(SelectionRun.status)).all() == ["draft"]


def test_released_marks_appear_on_the_status_page(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ada = make_student(session, course, name="Ada")
    group = make_group(session, course, members=[ada, make_student(session, course), make_student(session, course)])
    sub = make_submission(session, group, "report", received_at=REPORT_DUE + timedelta(hours=2))  # 0.9
    make_review(session, sub, make_staff(session, course), 80)
    report = session.exec(select(Milestone).where(Milestone.course_id == course.id, Milestone.key == "report")).one()
    report.marks_released_at = REPORT_DUE + timedelta(days=10)
    session.add(report)
    web_login(client, session, ada)
    page = text_of(client.get(f"/ui/groups/{group.id}/status").text)
    assert page.endswith("Marks Milestone Score Multiplier Mark Report 80.00 0.90 72.00")
    assert "Reviews 80.00 / 100" in page
