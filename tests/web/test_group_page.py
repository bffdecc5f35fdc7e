"""The staff page of a group: the extension and review forms, on the services the API uses."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Extension, Review, Topic
from app.storage import get_store
from tests.factories import REPORT_DUE, make_course, make_group, make_staff, make_student, make_submission, make_topic
from tests.stores import put
from tests.web.helpers import text_of, web_login

# Default course: the report is due Sunday of week 15 = 2026-12-20 23:59 Asia/Shanghai = 15:59 UTC.


def test_a_ta_grants_an_extension_and_the_multiplier_changes(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course, name="Tess")
    group = make_group(session, course, size=3, name="Owls")
    make_submission(session, group, "report", received_at=datetime(2026, 12, 21, 21, 59, tzinfo=UTC))  # 30 h late
    csrf = web_login(client, session, ta)

    page = text_of(client.get(f"/ui/groups/{group.id}?milestone=report").text)
    assert "Deadline 2026-12-20 23:59 (UTC+08:00) Extension none" in page
    assert "Late by 1 d 6 h 0 min Multiplier 0.70" in page

    response = client.post(
        f"/ui/groups/{group.id}/extension",
        follow_redirects=False,
        data={"csrf_token": csrf, "milestone": "report", "due_at": "2026-12-21T08:00", "reason": "Illness (note seen)"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/groups/{group.id}?milestone=report&saved=extension#extension"
    page = text_of(client.get(response.headers["location"]).text)
    assert "Extension saved." in page
    assert "Extension 2026-12-21 08:00 (UTC+08:00) — Illness (note seen)" in page
    assert "Late by 21 h 59 min Multiplier 0.90" in page
    assert session.exec(select(Extension.due_at)).one() == datetime(2026, 12, 21, 0, 0, tzinfo=UTC)


def test_an_extension_before_the_deadline_is_refused_with_a_page(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    csrf = web_login(client, session, ta)
    response = client.post(
        f"/ui/groups/{group.id}/extension",
        data={"csrf_token": csrf, "milestone": "report", "due_at": "2026-12-19T08:00", "reason": "Too early"},
    )
    assert response.status_code == 422
    assert "An extension must end after the milestone&#39;s deadline." in response.text
    assert session.exec(select(Extension)).all() == []


def test_a_ta_writes_and_updates_a_review_within_the_rubric(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course, name="Tess")
    group = make_group(session, course, size=3)
    sub = make_submission(session, group, "report", received_at=REPORT_DUE)
    csrf = web_login(client, session, ta)

    page = client.get(f"/ui/groups/{group.id}?milestone=report").text
    assert '<label for="points-overall">Overall <span class="hint">(0–100 points)</span></label>' in page
    assert 'name="points.overall" type="number" min="0"\n             max="100"' in page

    too_many = client.post(
        f"/ui/submissions/{sub.id}/review", data={"csrf_token": csrf, "points.overall": "101", "comment": "x"}
    )
    assert too_many.status_code == 422
    assert "Criterion &#39;overall&#39; takes 0 to 100 points." in too_many.text

    response = client.post(
        f"/ui/submissions/{sub.id}/review",
        follow_redirects=False,
        data={"csrf_token": csrf, "points.overall": "78.5", "comment": "Solid experiments."},
    )
    assert response.status_code == 303
    page = text_of(client.get(response.headers["location"]).text)
    assert "Review saved." in page
    assert "Reviews of v1: 1 Mean: 78.50 Median: 78.50" in page
    assert "Tess v1 78.50 Solid experiments." in page
    client.post(
        f"/ui/submissions/{sub.id}/review", data={"csrf_token": csrf, "points.overall": "80", "comment": "Better."}
    )
    review = session.exec(select(Review)).one()
    assert (review.score, review.comment, review.reviewer_id) == (80.0, "Better.", ta.id)


def test_a_member_of_the_group_gets_403_on_its_staff_page(client: TestClient, session: Session) -> None:
    course = make_course(session)
    student = make_student(session, course)
    group = make_group(session, course, members=[student])
    sub = make_submission(session, group, "report", received_at=REPORT_DUE)
    csrf = web_login(client, session, student)
    assert client.get(f"/ui/groups/{group.id}").status_code == 403
    refused = client.post(
        f"/ui/groups/{group.id}/extension",
        data={"csrf_token": csrf, "milestone": "report", "due_at": "2026-12-30T08:00", "reason": "x"},
    )
    assert refused.status_code == 403
    assert (
        client.post(f"/ui/submissions/{sub.id}/review", data={"csrf_token": csrf, "points.overall": "100"}).status_code
        == 403
    )
    assert session.exec(select(Extension)).all() == session.exec(select(Review)).all() == []


def test_versions_show_their_format_reports_and_open_the_pdf_inline(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=datetime(2026, 12, 18, 2, 0, tzinfo=UTC))
    second = make_submission(
        session,
        group,
        "report",
        received_at=datetime(2026, 12, 20, 16, 0, tzinfo=UTC),
        verdict="reject",
        errors=["page-limit"],
    )
    second.format_report = {
        "ruleset": "report",
        "verdict": "reject",
        "pages": 8,
        "errors": [{"code": "page-limit", "message": "The paper has 8 pages; at most 6 are allowed.", "pages": [7, 8]}],
        "warnings": [
            {"code": "missing-section:conclusion", "message": "No Conclusion section was found.", "pages": []}
        ],
        "facts": {"headings": ["Abstract", "Introduction", "Related Work"], "references_start_page": 7},
    }
    second.sha256 = put(get_store(), b"%PDF-1.7 test").sha256
    session.add(second)
    web_login(client, session, ta)

    html = client.get(f"/ui/groups/{group.id}?milestone=report").text
    page = text_of(html)
    assert (
        "v2 · report.pdf graded reject Received 2026-12-21 00:00 (UTC+08:00) · late by 1 min 0 s "
        "· multiplier 0.90 · 8 pages"
    ) in page
    assert (
        "error page-limit The paper has 8 pages; at most 6 are allowed. (pages 7, 8) Page 7 Page 8 "
        "warning missing-section:conclusion No Conclusion section was found."
    ) in page
    for n in (7, 8):
        assert (
            f'<img src="/ui/submissions/{second.id}/pages/{n}.png" alt="Page {n}, the problem outlined in red"' in html
        )
    assert "Headings found: Abstract · Introduction · Related Work References start on page 7" in page
    assert "v1 · report.pdf accept Received 2026-12-18 10:00 (UTC+08:00) · late by — · multiplier 1.00" in page
    assert f'href="/ui/submissions/{second.id}/file" target="_blank"' in html

    pdf = client.get(f"/ui/submissions/{second.id}/file")
    assert pdf.status_code == 200
    assert pdf.content == b"%PDF-1.7 test"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'inline; filename="report.pdf"'


def test_staff_pin_an_older_version_and_return_to_the_latest(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    first = make_submission(session, group, "report", received_at=REPORT_DUE - timedelta(hours=1))
    make_submission(session, group, "report", received_at=REPORT_DUE + timedelta(hours=30))
    csrf = web_login(client, session, ta)
    assert "Late by 1 d 6 h 0 min Multiplier 0.70" in text_of(
        client.get(f"/ui/groups/{group.id}?milestone=report").text
    )

    response = client.post(
        f"/ui/groups/{group.id}/graded",
        follow_redirects=False,
        data={"csrf_token": csrf, "milestone": "report", "submission_id": str(first.id)},
    )
    assert response.status_code == 303
    page = text_of(client.get(response.headers["location"]).text)
    assert "The graded version is changed." in page
    assert "Graded version v1 (pinned), received 2026-12-20 22:59 (UTC+08:00) Late by — Multiplier 1.00" in page
    assert "Grade the latest version again instead of v1" in page

    client.post(f"/ui/groups/{group.id}/graded", data={"csrf_token": csrf, "milestone": "report"})
    page = text_of(client.get(f"/ui/groups/{group.id}?milestone=report").text)
    assert "Graded version v2, received 2026-12-22 05:59 (UTC+08:00) Late by 1 d 6 h 0 min Multiplier 0.70" in page


def test_staff_decide_on_the_topic_and_a_rejection_needs_a_comment(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    make_topic(session, group, status="proposed", title="Reading bee dances", area="other")
    csrf = web_login(client, session, ta)
    page = text_of(client.get(f"/ui/groups/{group.id}").text)
    assert "Topic Reading bee dances other proposed Low-light image enhancement." in page

    refused = client.post(f"/ui/groups/{group.id}/topic", data={"csrf_token": csrf, "decision": "reject"})
    assert refused.status_code == 422
    assert "Say why the topic is rejected: a rejection needs a comment." in refused.text

    response = client.post(
        f"/ui/groups/{group.id}/topic",
        follow_redirects=False,
        data={"csrf_token": csrf, "decision": "approve", "comment": "Good scope.", "milestone": "proposal"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/groups/{group.id}?milestone=proposal&saved=topic#topic"
    page = text_of(client.get(response.headers["location"]).text)
    assert "Topic decision saved." in page
    assert "Topic Reading bee dances other approved Low-light image enhancement. Decision comment: Good scope." in page
    assert session.exec(select(Topic.status, Topic.decided_by)).one() == ("approved", ta.id)


@pytest.mark.postgres_only
def test_a_nul_in_a_form_gives_a_422_page_not_json(client: TestClient, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    group = make_group(session, course, size=3)
    sub = make_submission(session, group, "report", received_at=REPORT_DUE)
    csrf = web_login(client, session, ta)
    response = client.post(
        f"/ui/submissions/{sub.id}/review",
        data={"csrf_token": csrf, "points.overall": "70", "comment": "nul \x00 byte"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "must not contain control characters" in response.text  # refused by the form's schema now
    assert session.exec(select(Review)).all() == []
