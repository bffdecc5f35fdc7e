"""The lecturer's and students' new pages without a browser: constant queries, errors by field, who sees what."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.service import audit_record
from app.models import AuditEvent, Course, Milestone, ReviewAssignment
from tests.factories import (
    REPORT_DUE,
    T0,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_topic,
    make_user,
)
from tests.web.helpers import text_of, web_login


def _student_with_versions(session: Session, versions: int) -> tuple[Any, Any]:
    course = make_course(session)
    ta = make_staff(session, course)
    ada = make_student(session, course)
    group = make_group(session, course, members=[ada, make_student(session, course), make_student(session, course)])
    make_topic(session, group)
    for key in ("proposal", "report"):
        for v in range(versions):
            sub = make_submission(session, group, key, received_at=REPORT_DUE - timedelta(days=60 - v))
        make_review(session, sub, ta, 70, comment="Solid.")
    for _ in range(versions):
        make_group(session, course, size=3)  # other groups must not cost queries either
    # Released after every version arrived: a version received after the release is not the graded one.
    for m in session.exec(select(Milestone).where(Milestone.course_id == course.id)):
        m.marks_released_at = REPORT_DUE
        session.add(m)
    return ada, group


def test_the_student_page_runs_the_same_number_of_queries_for_2_and_20_versions(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    counts = {}
    for n in (2, 20):
        ada, group = _student_with_versions(session, n)
        web_login(client, session, ada)
        with count_queries() as counter:
            response = client.get(f"/ui/groups/{group.id}/status")
        assert response.status_code == 200
        assert text_of(response.text).count("Reviews 70.00 / 100 — Solid.") == 2
        counts[n] = counter.count
    assert counts[2] == counts[20]


def _course_with(session: Session, n: int) -> tuple[Course, Any]:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    for i in range(n):
        group = make_group(session, course, size=3)
        sub = make_submission(session, group, "report", received_at=REPORT_DUE)
        if i % 2:
            make_review(session, sub, lecturer, 60)
        audit_record(
            session,
            at=T0 + timedelta(minutes=i),
            actor=lecturer,
            action="test.event",
            entity="group",
            entity_id=group.id,
            course_id=course.id,
        )
    return course, lecturer


def test_the_lecturers_lists_run_the_same_number_of_queries_for_5_and_50_groups(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    counts: dict[tuple[int, str], int] = {}
    for n in (5, 50):
        course, lecturer = _course_with(session, n)
        web_login(client, session, lecturer)
        for page in ("people", "marking", "audit", "audit?action=test.", "settings"):
            with count_queries() as counter:
                response = client.get(f"/ui/courses/{course.id}/{page}")
            assert response.status_code == 200, page
            counts[(n, page)] = counter.count
        assert text_of(client.get(f"/ui/courses/{course.id}/people").text).count(" student active ") == 3 * n
    for page in ("people", "marking", "audit", "audit?action=test.", "settings"):
        assert counts[(5, page)] == counts[(50, page)], page


def test_invalid_settings_are_shown_by_their_fields_and_nothing_is_saved(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    csrf = web_login(client, session, lecturer)
    form = {
        "csrf_token": csrf,
        "title": "Deep Learning",
        "start_date": "2026-09-07",
        "weeks": "16",
        "timezone": "Mars/Olympus",
        "min_group_size": "3",
        "max_group_size": "five",
        "grace_seconds": "0",
        "presentation_slots": "10",
        "required_reviews": "1",
        "assignment_share": "40",
        "late_tiers": "24 0.9\n72 0.7\nany 0.5",
        "proposal.week": "8",
        "proposal.weight": "20",
        "proposal.page_limit": "3",
        "report.week": "15",
        "report.weight": "60",
        "report.page_limit": "6",
        "final.week": "16",
        "final.weight": "20",
    }
    response = client.post(f"/ui/courses/{course.id}/settings", data=form)
    assert response.status_code == 422
    page = text_of(response.text)
    assert "Nothing was saved: 1 field needs a change (marked below)." in page
    assert 'id="f-max_group_size-error">Give a whole number.</p>' in response.text
    assert 'value="five"' in response.text  # what was typed stays
    response = client.post(f"/ui/courses/{course.id}/settings", data={**form, "max_group_size": "5"})
    assert response.status_code == 422
    assert 'id="f-timezone-error">Unknown time zone: &#39;Mars/Olympus&#39;.</p>' in response.text
    response = client.post(
        f"/ui/courses/{course.id}/settings",
        data={**form, "max_group_size": "5", "timezone": "Europe/Berlin", "report.weight": "50"},
    )
    assert 'id="f-milestones-error">Milestone weights must sum to 100 %; they sum to 90 %.</p>' in response.text
    session.expire_all()
    assert session.get(Course, course.id).timezone == "Asia/Shanghai"  # type: ignore[union-attr]
    session.commit()  # end the read: on SQLite it holds the write lock the next post needs
    saved = client.post(
        f"/ui/courses/{course.id}/settings",
        follow_redirects=False,
        data={**form, "max_group_size": "5", "timezone": "Europe/Berlin"},
    )
    assert saved.headers["location"] == f"/ui/courses/{course.id}/settings?saved=settings"
    session.expire_all()
    assert session.get(Course, course.id).timezone == "Europe/Berlin"  # type: ignore[union-attr]


def test_a_ta_reads_the_settings_and_cannot_change_the_rubric(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    csrf = web_login(client, session, ta)
    html = client.get(f"/ui/courses/{course.id}/settings").text
    assert "Deadlines and marking rules are the lecturer's: you see them read-only." in html
    assert html.count('<fieldset disabled class="settings">') == 2
    assert "Save settings" not in html
    refused = client.post(
        f"/ui/courses/{course.id}/milestones/report/rubric",
        data={"csrf_token": csrf, "rubric": "overall | Overall | 100"},
    )
    assert refused.status_code == 403  # the rubric is the lecturer's: a TA sees the course but may not change it


def test_students_get_403_on_the_lecturers_pages_and_forms_without_csrf_are_refused(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    student = make_student(session, course)
    csrf = web_login(client, session, student)
    pages = ["settings", "people", "marking", "audit", "marks.csv"]
    # A member of the course sees it, so its staff pages answer 403 (not 404, kept for what one cannot see).
    assert {p: client.get(f"/ui/courses/{course.id}/{p}").status_code for p in pages} == dict.fromkeys(pages, 403)
    posts = [
        "settings",
        "formation",
        "roster",
        f"members/{student.id}/activation",
        "milestones/report/release",
        "milestones/report/assign",
        "milestones/report/rubric",
    ]
    assert {
        p: client.post(f"/ui/courses/{course.id}/{p}", data={"csrf_token": csrf}).status_code for p in posts
    } == dict.fromkeys(posts, 403)
    web_login(client, session, make_staff(session, course, role="lecturer"))
    assert {
        p: client.post(f"/ui/courses/{course.id}/{p}", data={"csrf_token": "forged"}).status_code for p in posts
    } == dict.fromkeys(posts, 403)
    assert session.exec(select(AuditEvent.action)).all() == ["course.create"]


def test_the_lecturer_assigns_a_reviewer_by_hand_once(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course, name="Tess")
    student = make_student(session, course)
    done = make_group(session, course, name="Owls", size=3)
    make_group(session, course, name="Bats", size=3)
    sub = make_submission(session, done, "report", received_at=REPORT_DUE)
    csrf = web_login(client, session, lecturer)
    url = f"/ui/courses/{course.id}/milestones/report/assign-one"
    for _ in range(2):
        response = client.post(
            url, data={"csrf_token": csrf, "group_id": str(done.id), "reviewer_id": str(ta.id)}, follow_redirects=False
        )
        assert response.headers["location"] == f"/ui/courses/{course.id}/marking?saved=assigned-one#ms-report"
    rows = session.exec(select(ReviewAssignment.submission_id, ReviewAssignment.reviewer_id)).all()
    assert rows == [(sub.id, ta.id)]
    session.commit()
    refused = client.post(url, data={"csrf_token": csrf, "group_id": str(done.id), "reviewer_id": str(student.id)})
    assert refused.status_code == 422
    assert 'id="by-hand-report-error">The reviewer must be a TA or lecturer of the course.</p>' in refused.text
    page = client.get(f"/ui/courses/{course.id}/marking").text
    assert f'<select id="group-report" name="group_id"><option value="{done.id}">Owls</option></select>' in page
    assert [a for a in session.exec(select(AuditEvent.action)).all() if a == "review.assign"] == ["review.assign"]
