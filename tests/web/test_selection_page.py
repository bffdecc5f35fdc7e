"""The selection page: run, ranking with tie-breaks, overrides, publish, and the score histogram."""

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import ProjectGroup, SelectionOverride, SelectionRun
from tests.factories import make_course, make_group, make_review, make_staff, make_submission, make_user
from tests.web.helpers import text_of, web_login

RECEIVED = datetime(2026, 12, 19, 4, 0, tzinfo=UTC)


def _course_with_reports(session: Session) -> tuple[object, object, object, list[ProjectGroup]]:
    lecturer = make_user(session, admin=True, name="Lena")
    course = make_course(session, lecturer=lecturer, presentation_slots=2)
    ta = make_staff(session, course, name="Tess")
    groups = [make_group(session, course, size=3, name=name) for name in ("Ants", "Bees", "Cats", "Dogs")]
    # Bees and Cats tie on the mean (80); Bees wins on the median (80 against 75). Ants 90, Dogs 60.
    scores = {"Ants": [90], "Bees": [70, 80, 90, 80], "Cats": [100, 70, 70, 80], "Dogs": [60]}
    reviewers = [lecturer, ta] + [make_staff(session, course) for _ in range(2)]
    for i, group in enumerate(groups):
        sub = make_submission(session, group, "report", received_at=RECEIVED + timedelta(hours=i))
        for reviewer, score in zip(reviewers, scores[group.name], strict=False):
            make_review(session, sub, reviewer, score)
    return lecturer, ta, course, groups


def test_the_lecturer_runs_overrides_and_publishes(client: TestClient, session: Session) -> None:
    lecturer, _, course, groups = _course_with_reports(session)
    _, bees, _, dogs = groups
    csrf = web_login(client, session, lecturer)
    assert "Run the selection" in text_of(client.get(f"/ui/courses/{course.id}/selection").text)

    response = client.post(
        f"/ui/courses/{course.id}/selection", data={"csrf_token": csrf, "slots": "2"}, follow_redirects=False
    )
    assert response.status_code == 303
    run_id = session.exec(select(SelectionRun.id)).one()
    session.commit()  # end the read (objects stay loaded): SQLite takes its write lock at BEGIN
    assert response.headers["location"] == f"/ui/courses/{course.id}/selection?run={run_id}&saved=run"
    html = client.get(response.headers["location"]).text
    rows = re.findall(
        r"<tr>\s*(.*?)</tr>", html.split('<table id="ranking"')[1].split("<tbody>")[1].split("</tbody>")[0], re.S
    )
    assert [text_of(r) for r in rows] == [
        "1 Ants 90.00 90.00 1 2026-12-19 12:00 (UTC+08:00) mean score presents",
        "2 Bees 80.00 80.00 4 2026-12-19 13:00 (UTC+08:00) tie on mean: higher median presents",
        "3 Cats 80.00 75.00 4 2026-12-19 14:00 (UTC+08:00) tie on mean: higher median poster",
        "4 Dogs 60.00 60.00 1 2026-12-19 15:00 (UTC+08:00) mean score poster",
    ]
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert (
        "Histogram of report scores: 0–10: 0; 10–20: 0; 20–30: 0; 30–40: 0; 40–50: 0; "
        "50–60: 0; 60–70: 1; 70–80: 0; 80–90: 2; 90–100: 1"
    ) in svg
    assert svg.count("<rect") == 10

    response = client.post(
        f"/ui/selections/{run_id}/overrides",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "add_group_id": str(dogs.id),
            "remove_group_id": str(bees.id),
            "reason": "Bees present at a conference that week.",
        },
    )
    assert response.status_code == 303
    page = text_of(client.get(response.headers["location"]).text)
    assert "Override saved." in page
    assert "In: Dogs , out: Bees — Bees present at a conference that week." in page
    assert "2 Bees 80.00 80.00 4 2026-12-19 13:00 (UTC+08:00) tie on mean: higher median poster override" in page
    assert "4 Dogs 60.00 60.00 1 2026-12-19 15:00 (UTC+08:00) mean score presents override" in page

    response = client.post(f"/ui/selections/{run_id}/publish", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    page = text_of(client.get(response.headers["location"]).text)
    assert "Published: this run is now in force and fixes the week-16 deliverable of every group." in page
    assert f"Run {run_id} published" in page
    assert "Swap" not in page
    session.expire_all()
    deliverables = session.exec(
        select(ProjectGroup.name, ProjectGroup.deliverable).order_by(col(ProjectGroup.id))
    ).all()
    assert deliverables == [("Ants", "slides"), ("Bees", "poster"), ("Cats", "poster"), ("Dogs", "slides")]


def test_a_run_short_of_reviews_is_refused_with_the_groups_named(client: TestClient, session: Session) -> None:
    lecturer, _, course, _ = _course_with_reports(session)
    make_group(session, course, size=3, name="Eels")
    csrf = web_login(client, session, lecturer)
    response = client.post(f"/ui/courses/{course.id}/selection", data={"csrf_token": csrf})
    assert response.status_code == 409
    assert "Eels" in text_of(response.text)
    assert session.exec(select(SelectionRun)).all() == []


def test_a_ta_reads_the_selection_but_gets_no_forms(client: TestClient, session: Session) -> None:
    lecturer, ta, course, _ = _course_with_reports(session)
    lecturer_csrf = web_login(client, session, lecturer)
    client.post(f"/ui/courses/{course.id}/selection", data={"csrf_token": lecturer_csrf})
    run_id = session.exec(select(SelectionRun.id)).one()
    session.commit()
    csrf = web_login(client, session, ta)
    html = client.get(f"/ui/courses/{course.id}/selection").text
    assert "1 Ants 90.00" in text_of(html)
    assert 'action="/ui/selections/' not in html
    assert "Run the selection" not in html
    refused = client.post(f"/ui/selections/{run_id}/publish", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert session.exec(select(SelectionOverride)).all() == []


def test_the_page_reads_every_run_in_a_fixed_number_of_queries(
    client: TestClient,
    session: Session,
    count_queries,
) -> None:
    lecturer, _, course, _ = _course_with_reports(session)
    csrf = web_login(client, session, lecturer)
    counts = []
    for runs in (1, 5):
        while len(session.exec(select(SelectionRun.id)).all()) < runs:
            session.commit()
            client.post(f"/ui/courses/{course.id}/selection", data={"csrf_token": csrf})
        session.commit()
        with count_queries() as counter:
            assert client.get(f"/ui/courses/{course.id}/selection").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_a_run_of_another_course_is_not_shown_on_this_courses_page(client: TestClient, session: Session) -> None:
    lecturer, _, course, _ = _course_with_reports(session)
    other = make_course(session, lecturer=lecturer)
    csrf = web_login(client, session, lecturer)
    client.post(f"/ui/courses/{course.id}/selection", data={"csrf_token": csrf})
    run_id = session.exec(select(SelectionRun.id)).one()
    session.commit()
    assert client.get(f"/ui/courses/{course.id}/selection?run={run_id}").status_code == 200
    assert client.get(f"/ui/courses/{other.id}/selection?run={run_id}").status_code == 404
