"""The course overview and the milestone dashboard: figures, filters, order, CSV, query count."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Course, Milestone, ProjectGroup, ReviewAssignment, Submission, User
from tests.factories import (
    REPORT_DUE,
    T0,
    auth,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_topic,
)
from tests.web.helpers import text_of, web_login


def _rows(html: str) -> list[str]:
    body = html.split('<table id="dashboard"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [text_of(r) for r in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body, re.S)]


def _course(session: Session) -> tuple[Course, User, dict[str, ProjectGroup]]:
    course = make_course(session)
    ta = make_staff(session, course, name="Tess")
    groups = {}
    for name in ("Ants", "Bees", "Cats", "Dogs"):
        members = [make_student(session, course, name=f"{name[0]}{i}") for i in range(1, 4)]
        groups[name] = make_group(session, course, members=members, name=name)
    make_topic(session, groups["Ants"], title="Night vision")
    make_topic(session, groups["Bees"], title="Bee dance NLP", status="proposed")
    on_time = make_submission(session, groups["Ants"], "report", received_at=REPORT_DUE - timedelta(hours=2))
    make_review(session, on_time, ta, 82)
    make_submission(
        session,
        groups["Bees"],
        "report",
        received_at=REPORT_DUE + timedelta(hours=30),
        verdict="reject",
        errors=["page-limit", "columns"],
    )
    make_submission(session, groups["Cats"], "report", received_at=REPORT_DUE + timedelta(seconds=90))
    return course, ta, groups


def test_the_dashboard_shows_the_api_figures_and_filters_and_sorts(client: TestClient, session: Session) -> None:
    course, ta, _ = _course(session)
    api = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone=report", headers=auth(session, ta)).json()
    web_login(client, session, ta)

    html = client.get(f"/ui/courses/{course.id}/milestones/report").text
    assert "Showing 4 of 4 groups." in html
    assert _rows(html) == [
        "Ants A1, A2, A3 Night vision approved on time v1, 2026-12-20 21:59 (UTC+08:00) — 1.00 accept 1 82.00",
        "Bees B1, B2, B3 Bee dance NLP proposed late v1, 2026-12-22 05:59 (UTC+08:00) 1 d 6 h 0 min 0.70 "
        "reject page-limit columns 0 —",
        "Cats C1, C2, C3 none late v1, 2026-12-21 00:00 (UTC+08:00) 1 min 30 s 0.90 accept 0 —",
        "Dogs D1, D2, D3 none missing — — — — 0 —",
    ]
    # The same figures as the API: status, late by, multiplier, verdict, reviews, mean.
    assert [
        (
            r["group_name"],
            r["status"],
            r["late_by_seconds"],
            r["multiplier"],
            r["verdict"],
            r["reviews"],
            r["mean_score"],
        )
        for r in api["rows"]
    ] == [
        ("Ants", "on_time", 0.0, 1.0, "accept", 1, 82.0),
        ("Bees", "late", 108000.0, 0.7, "reject", 0, None),
        ("Cats", "late", 90.0, 0.9, "accept", 0, None),
        ("Dogs", "missing", None, None, None, 0, None),
    ]

    late = client.get(f"/ui/courses/{course.id}/milestones/report?filter=late&sort=late&order=desc").text
    assert "Showing 2 of 4 groups." in late
    assert [row.split()[0] for row in _rows(late)] == ["Bees", "Cats"]
    assert 'aria-sort="descending"' in late
    ascending = client.get(f"/ui/courses/{course.id}/milestones/report?filter=late&sort=late&order=asc").text
    assert [row.split()[0] for row in _rows(ascending)] == ["Cats", "Bees"]
    by_multiplier = client.get(f"/ui/courses/{course.id}/milestones/report?sort=multiplier&order=asc").text
    assert [row.split()[0] for row in _rows(by_multiplier)] == ["Bees", "Cats", "Ants", "Dogs"]  # missing last

    filtered = {
        name: [
            row.split()[0] for row in _rows(client.get(f"/ui/courses/{course.id}/milestones/report?filter={name}").text)
        ]
        for name in ("missing", "format", "unreviewed")
    }
    assert filtered == {"missing": ["Dogs"], "format": ["Bees"], "unreviewed": ["Bees", "Cats"]}
    assert client.get(f"/ui/courses/{course.id}/milestones/report?filter=bogus").status_code == 422


def test_mine_to_review_lists_my_unreviewed_assignments(client: TestClient, session: Session) -> None:
    course, ta, groups = _course(session)
    other = make_staff(session, course)
    report_id = session.exec(
        select(Milestone.id).where(Milestone.course_id == course.id, Milestone.key == "report")
    ).one()
    subs = {
        g.name: session.exec(select(Submission).where(Submission.group_id == g.id)).first() for g in groups.values()
    }
    for name, reviewer in (("Ants", ta), ("Bees", ta), ("Cats", other)):
        session.add(
            ReviewAssignment(
                milestone_id=report_id, submission_id=subs[name].id, reviewer_id=reviewer.id, created_at=T0
            )
        )
    web_login(client, session, ta)
    page = client.get(f"/ui/courses/{course.id}/milestones/report?filter=mine").text
    assert [row.split()[0] for row in _rows(page)] == ["Bees"]  # Ants: already reviewed by Tess


def test_the_csv_holds_the_rows_shown(client: TestClient, session: Session) -> None:
    course, ta, groups = _course(session)
    web_login(client, session, ta)
    response = client.get(f"/ui/courses/{course.id}/milestones/report/dashboard.csv?filter=late&sort=late&order=desc")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{course.code}-report-dashboard.csv"'
    assert response.content.decode("utf-8") == (
        "\ufeffgroup_id,group,members,topic,topic_status,status,deadline,extended,version,pinned,received_at,"
        "late_by_hours,multiplier,verdict,error_codes,warning_codes,reviews,mean_score\r\n"
        f"{groups['Bees'].id},Bees,B1; B2; B3,Bee dance NLP,proposed,late,2026-12-20T23:59:00+08:00,no,1,no,"
        "2026-12-22T05:59:00+08:00,30.00,0.70,reject,page-limit columns,,0,\r\n"
        f"{groups['Cats'].id},Cats,C1; C2; C3,,,late,2026-12-20T23:59:00+08:00,no,1,no,"
        "2026-12-21T00:00:30+08:00,0.03,0.90,accept,,,0,\r\n"
    )


def test_the_csv_writes_long_lateness_in_hours_with_two_decimals(client: TestClient, session: Session) -> None:
    course, ta, groups = _course(session)
    make_submission(session, groups["Dogs"], "report", received_at=REPORT_DUE + timedelta(days=14, seconds=61))
    web_login(client, session, ta)
    api = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone=report", headers=auth(session, ta)).json()
    session.commit()
    dogs = next(r for r in api["rows"] if r["group_id"] == groups["Dogs"].id)
    assert (dogs["late_by_seconds"], dogs["multiplier"]) == (1209661.0, 0.5)
    lines = client.get(f"/ui/courses/{course.id}/milestones/report/dashboard.csv?sort=group").text.splitlines()
    (row,) = [line for line in lines if line.startswith(f"{groups['Dogs'].id},Dogs,")]
    # 1,209,661 s is 336.0169 h: hours with two decimals, as a spreadsheet user reads them.
    assert row.split(",")[11:13] == ["336.02", "0.50"]


def test_the_course_overview_counts_each_milestone(client: TestClient, session: Session) -> None:
    course, ta, groups = _course(session)
    make_submission(session, groups["Ants"], "proposal", received_at=datetime(2026, 10, 30, tzinfo=UTC))
    web_login(client, session, ta)
    html = client.get(f"/ui/courses/{course.id}").text
    body = html.split('<table id="milestones"')[1].split("<tbody>")[1]
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    assert rows == [
        "Proposal 8 2026-11-01 23:59 (UTC+08:00) 1 0 3 0 0 / 1",
        "Report 15 2026-12-20 23:59 (UTC+08:00) 1 2 1 1 1 / 3",
        "Presentation or poster 16 2026-12-27 23:59 (UTC+08:00) 0 0 4 0 0 / 0",
    ]


def _groups_with_reports(session: Session, course: Course, ta: User, count: int) -> None:
    for i in range(count):
        group = make_group(session, course, size=3, name=f"G{i:03d}")
        make_topic(session, group)
        sub = make_submission(
            session,
            group,
            "report",
            received_at=REPORT_DUE + timedelta(minutes=i - count // 2),
            verdict="reject" if i % 3 == 0 else "accept",
            errors=["columns"] if i % 3 == 0 else None,
        )
        if i % 2 == 0:
            make_review(session, sub, ta, 50 + i % 50)


def test_the_dashboard_page_runs_the_same_number_of_queries_for_20_and_200_groups(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    small, ta_small = (course := make_course(session)), make_staff(session, course)
    _groups_with_reports(session, small, ta_small, 20)
    big = make_course(session)
    ta_big = make_staff(session, big)
    _groups_with_reports(session, big, ta_big, 200)
    counts = {}
    for course, ta, n in ((small, ta_small, 20), (big, ta_big, 200)):
        web_login(client, session, ta)
        for path in (
            f"/ui/courses/{course.id}/milestones/report?sort=late&order=desc",
            f"/ui/courses/{course.id}/milestones/report?filter=mine",
            f"/ui/courses/{course.id}/milestones/report/dashboard.csv",
        ):
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200
            counts[(n, path.split("/")[-1])] = counter.count
        assert f"Showing {n} of {n} groups." in client.get(f"/ui/courses/{course.id}/milestones/report").text
    assert counts[(20, "report?sort=late&order=desc")] == counts[(200, "report?sort=late&order=desc")]
    assert counts[(20, "report?filter=mine")] == counts[(200, "report?filter=mine")]
    assert counts[(20, "dashboard.csv")] == counts[(200, "dashboard.csv")]
    assert counts[(20, "report?sort=late&order=desc")] <= 16
