"""Rubrics, reviews of graded versions, who sees them, reviewer assignment and the review queue."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, Milestone, Review, User
from app.reviews.aggregate import ReviewStats
from app.reviews.service import (
    ERR_NO_SUBMISSION,
    ERR_NOT_GRADED,
    ERR_NOT_RELEASED,
    ERR_POINTS_OR_SCORE,
    ERR_RELEASED,
    ERR_RUBRIC_REVIEWED,
    ERR_SCORE_NEEDS_OVERALL,
    ERR_STAFF_REVIEW,
    review_stats,
)
from tests.conftest import FakeClock
from tests.factories import (
    REPORT_DUE,
    auth,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_submission,
    make_user,
    member_ids,
)

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
RUBRIC = [
    {"key": "clarity", "label": "Clarity", "max_points": 10.0},
    {"key": "method", "label": "Method", "max_points": 20.0},
    {"key": "results", "label": "Results", "max_points": 10.0},
]


def _setup(session: Session):
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course, name="Tess A")
    group = make_group(session, course, size=3)
    sub = make_submission(session, group, "report", received_at=REPORT_DUE - timedelta(hours=1))
    return course, lecturer, ta, group, sub


def test_review_with_points_is_scaled_to_100(client: TestClient, session: Session, clock: FakeClock) -> None:
    course, lecturer, ta, group, sub = _setup(session)
    lecturer_h, ta_h = auth(session, lecturer), auth(session, ta)
    clock.set(NOW)
    response = client.put(
        f"/api/v1/courses/{course.id}/milestones/report/rubric", headers=lecturer_h, json={"criteria": RUBRIC}
    )
    assert response.status_code == 200
    assert response.json() == {"milestone": "report", "criteria": RUBRIC}
    response = client.post(
        f"/api/v1/submissions/{sub.id}/reviews",
        headers=ta_h,
        json={"points": {"clarity": 8, "method": 15, "results": 7}, "comment": "Solid."},
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "submission_id": sub.id,
        "of_version": 1,
        "current": True,
        "group_id": group.id,
        "milestone": "report",
        "reviewer_id": ta.id,
        "reviewer_name": "Tess A",
        "points": {"clarity": 8.0, "method": 15.0, "results": 7.0},
        "score": 75.0,
        "comment": "Solid.",
        "created_at": "2026-12-22T09:00:00Z",
        "updated_at": "2026-12-22T09:00:00Z",
    }
    # The rubric cannot change under existing reviews, and only the lecturer may set it.
    response = client.put(
        f"/api/v1/courses/{course.id}/milestones/report/rubric", headers=lecturer_h, json={"criteria": RUBRIC[:2]}
    )
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": ERR_RUBRIC_REVIEWED}
    assert (
        client.put(
            f"/api/v1/courses/{course.id}/milestones/report/rubric", headers=ta_h, json={"criteria": RUBRIC}
        ).status_code
        == 403
    )


def test_points_out_of_bounds_missing_or_unknown_are_422_naming_the_criterion(
    client: TestClient, session: Session
) -> None:
    _course, _lecturer, ta, _group, sub = _setup(session)
    milestone = session.get(Milestone, sub.milestone_id)
    assert milestone is not None
    milestone.rubric = RUBRIC
    session.add(milestone)
    headers = auth(session, ta)
    url = f"/api/v1/submissions/{sub.id}/reviews"
    cases = [
        (
            {"points": {"clarity": 8, "method": 21, "results": 7}},
            "points.method",
            "Criterion 'method' takes 0 to 20 points.",
        ),
        (
            {"points": {"clarity": -1, "method": 2, "results": 7}},
            "points.clarity",
            "Criterion 'clarity' takes 0 to 10 points.",
        ),
        ({"points": {"clarity": 1, "method": 2}}, "points.results", "Criterion 'results' has no points."),
        (
            {"points": {"clarity": 1, "method": 2, "results": 3, "style": 1}},
            "points.style",
            "Unknown criterion 'style'.",
        ),
        ({"score": 70}, "score", ERR_SCORE_NEEDS_OVERALL),
        ({"comment": "no points"}, "points", ERR_POINTS_OR_SCORE),
    ]
    for body, field, detail in cases:
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.json() == {"error": "invalid", "detail": detail, "field": field}


def test_score_review_is_upserted_audited_and_frozen_by_release(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    course, _lecturer, ta, _group, sub = _setup(session)
    headers = auth(session, ta)
    url = f"/api/v1/submissions/{sub.id}/reviews"
    clock.set(NOW)
    first = client.post(url, headers=headers, json={"score": 80, "comment": "Good."})
    assert first.status_code == 201
    clock.advance(hours=2)
    second = client.post(url, headers=headers, json={"score": 64.5, "comment": "Weaker on reflection."})
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert (second.json()["score"], second.json()["points"], second.json()["updated_at"]) == (
        64.5,
        {"overall": 64.5},
        "2026-12-22T11:00:00Z",
    )
    assert client.post(url, headers=headers, json={"score": 101}).json() == {
        "error": "invalid",
        "detail": "score must be from 0 to 100.",
        "field": "score",
    }
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.course_id == course.id, col(AuditEvent.entity) == "review")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(e.action, e.before, e.after) for e in events] == [
        (
            "review.create",
            None,
            {"submission_id": sub.id, "points": {"overall": 80.0}, "score": 80.0, "comment": "Good."},
        ),
        (
            "review.update",
            {"submission_id": sub.id, "points": {"overall": 80.0}, "score": 80.0, "comment": "Good."},
            {"submission_id": sub.id, "points": {"overall": 64.5}, "score": 64.5, "comment": "Weaker on reflection."},
        ),
    ]
    milestone = session.get(Milestone, sub.milestone_id)
    assert milestone is not None
    milestone.marks_released_at = NOW
    session.add(milestone)
    session.commit()
    response = client.post(url, headers=headers, json={"score": 90})
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": ERR_RELEASED}


def test_a_new_version_leaves_earlier_reviews_as_of_an_older_version(client: TestClient, session: Session) -> None:
    _course, lecturer, ta, group, v1 = _setup(session)
    make_review(session, v1, ta, 50.0)
    make_review(session, v1, lecturer, 60.0)
    v2 = make_submission(session, group, "report", received_at=REPORT_DUE - timedelta(minutes=5))
    headers = auth(session, ta)
    response = client.post(f"/api/v1/submissions/{v1.id}/reviews", headers=headers, json={"score": 55})
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": ERR_NOT_GRADED}
    assert client.post(f"/api/v1/submissions/{v2.id}/reviews", headers=headers, json={"score": 90}).status_code == 201
    body = client.get(f"/api/v1/submissions/{v1.id}/reviews", headers=headers).json()
    assert (body["graded_submission_id"], body["graded_version"]) == (v2.id, 2)
    assert body["stats"] == {"count": 1, "mean": 90.0, "median": 90.0, "stdev": 0.0, "min": 90.0, "max": 90.0}
    assert [(r["of_version"], r["current"], r["reviewer_id"], r["score"]) for r in body["reviews"]] == [
        (2, True, ta.id, 90.0),
        (1, False, lecturer.id, 60.0),
        (1, False, ta.id, 50.0),
    ]


def test_students_see_only_their_own_groups_reviews_and_only_after_release(
    client: TestClient, session: Session
) -> None:
    course, _lecturer, ta, group, sub = _setup(session)
    make_review(session, sub, ta, 72.0, comment="Clear write-up.")
    other = make_group(session, course, size=3)
    other_sub = make_submission(session, other, "report", received_at=REPORT_DUE)
    make_review(session, other_sub, ta, 40.0)
    student = session.get(User, member_ids(group, session)[0])
    assert student is not None
    headers = auth(session, student)
    response = client.get(f"/api/v1/submissions/{sub.id}/reviews", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": ERR_NOT_RELEASED}
    milestone = session.get(Milestone, sub.milestone_id)
    assert milestone is not None
    milestone.marks_released_at = NOW
    session.add(milestone)
    session.commit()
    body = client.get(f"/api/v1/submissions/{sub.id}/reviews", headers=headers).json()
    assert [(r["score"], r["comment"], r["reviewer_id"], r["reviewer_name"]) for r in body["reviews"]] == [
        (72.0, "Clear write-up.", None, None)
    ]
    response = client.get(f"/api/v1/submissions/{other_sub.id}/reviews", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": ERR_NO_SUBMISSION}
    assert client.post(f"/api/v1/submissions/{sub.id}/reviews", headers=headers, json={"score": 100}).json() == {
        "error": "forbidden",
        "detail": ERR_STAFF_REVIEW,
    }


def test_assignment_balances_loads_never_repeats_and_is_idempotent(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer = make_user(session, admin=True, name="Lee")
    course = make_course(session, lecturer=lecturer)
    ta1 = make_staff(session, course, name="Ta One")
    ta2 = make_staff(session, course, name="Ta Two")
    groups = [make_group(session, course, size=3) for _ in range(5)]
    subs = [make_submission(session, g, "report", received_at=REPORT_DUE) for g in groups]
    make_group(session, course, size=3)  # submitted nothing: not assigned
    headers = auth(session, lecturer)
    clock.set(NOW)
    url = f"/api/v1/courses/{course.id}/milestones/report/assignments"
    response = client.post(url, headers=headers, json={"reviewers_per_submission": 2})
    assert response.status_code == 201
    body = response.json()
    # Least loaded first, ties to the lower id: lecturer < ta1 < ta2 by id.
    lec, a, b = lecturer.id, ta1.id, ta2.id
    assert [(c["group_id"], c["reviewer_id"]) for c in body["created"]] == [
        (groups[0].id, lec),
        (groups[0].id, a),
        (groups[1].id, b),
        (groups[1].id, lec),
        (groups[2].id, a),
        (groups[2].id, b),
        (groups[3].id, lec),
        (groups[3].id, a),
        (groups[4].id, b),
        (groups[4].id, lec),
    ]
    assert [c["submission_id"] for c in body["created"][::2]] == [s.id for s in subs]
    assert body["loads"] == [
        {"reviewer_id": lec, "name": "Lee", "assigned": 4},
        {"reviewer_id": a, "name": "Ta One", "assigned": 3},
        {"reviewer_id": b, "name": "Ta Two", "assigned": 3},
    ]
    again = client.post(url, headers=headers, json={"reviewers_per_submission": 2}).json()
    assert (again["created"], again["loads"]) == ([], body["loads"])
    response = client.post(url, headers=headers, json={"reviewers_per_submission": 4})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "field": "reviewers_per_submission",
        "detail": "reviewers_per_submission exceeds the course's 3 staff members.",
    }
    assert client.post(url, headers=auth(session, ta1), json={"reviewers_per_submission": 1}).status_code == 403

    # ta1's queue: groups 0, 2, 3; after one review, that one is done.
    ta_headers = auth(session, ta1)
    client.post(f"/api/v1/submissions/{subs[2].id}/reviews", headers=ta_headers, json={"score": 66})
    queue = client.get("/api/v1/me/reviews", headers=ta_headers).json()
    assert [(q["group_id"], q["milestone"], q["version"], q["done"], q["score"]) for q in queue] == [
        (groups[0].id, "report", 1, False, None),
        (groups[2].id, "report", 1, True, 66.0),
        (groups[3].id, "report", 1, False, None),
    ]


def test_review_stats_aggregates_many_submissions_in_one_query(session: Session, count_queries) -> None:
    _course, lecturer, ta, group, sub = _setup(session)
    make_review(session, sub, ta, 70.0)
    make_review(session, sub, lecturer, 85.0)
    bare = make_submission(session, group, "proposal", received_at=REPORT_DUE)
    session.commit()
    with count_queries() as counter:
        stats = review_stats(session, submission_ids=[sub.id, bare.id])
    assert counter.count == 1
    assert stats == {
        sub.id: ReviewStats(count=2, mean=77.5, median=77.5, stdev=7.5, min=70.0, max=85.0),
        bare.id: ReviewStats(count=0, mean=None, median=None, stdev=None, min=None, max=None),
    }


def test_scores_and_points_of_the_wrong_type_are_422_not_coerced(client: TestClient, session: Session) -> None:
    _course, _lecturer, ta, _group, sub = _setup(session)
    headers = auth(session, ta)
    url = f"/api/v1/submissions/{sub.id}/reviews"
    for body, field in (
        ({"score": True}, "score"),
        ({"score": "80"}, "score"),
        ({"points": {"overall": False}}, "points.overall"),
        ({"score": None, "points": None}, "points"),
    ):
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["field"] == field, body
    assert client.post(url, headers=headers, json={"points": {"overall": 80}}).json()["score"] == 80.0
    session.commit()
    assert session.exec(select(Review.score)).all() == [80.0]


def test_an_assignment_follows_its_group_to_a_new_graded_version(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer = make_user(session, admin=True, name="Lee")
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course, name="Ta One")
    g0, g1 = (make_group(session, course, size=3) for _ in range(2))
    first = make_submission(session, g0, "report", received_at=REPORT_DUE - timedelta(hours=2))
    make_submission(session, g1, "report", received_at=REPORT_DUE - timedelta(hours=2))
    headers, ta_headers = auth(session, lecturer), auth(session, ta)
    clock.set(NOW)
    url = f"/api/v1/courses/{course.id}/milestones/report/assignments"
    body = client.post(url, headers=headers, json={"reviewers_per_submission": 1}).json()
    assert [(c["group_id"], c["reviewer_id"]) for c in body["created"]] == [(g0.id, lecturer.id), (g1.id, ta.id)]
    # g1 uploads again after the assignment: the TA must review v2, and can.
    session.commit()
    second = make_submission(session, g1, "report", received_at=REPORT_DUE - timedelta(hours=1))
    session.commit()
    queue = client.get("/api/v1/me/reviews", headers=ta_headers).json()
    assert [(q["group_id"], q["submission_id"], q["version"], q["done"]) for q in queue] == [
        (g1.id, second.id, 2, False)
    ]
    # Running the assignment again neither adds a second reviewer for g1 nor counts the TA twice.
    again = client.post(url, headers=headers, json={"reviewers_per_submission": 1}).json()
    assert (again["created"], [load["assigned"] for load in again["loads"]]) == ([], [1, 1])
    assert (
        client.post(f"/api/v1/submissions/{second.id}/reviews", headers=ta_headers, json={"score": 70}).status_code
        == 201
    )
    queue = client.get("/api/v1/me/reviews", headers=ta_headers).json()
    assert [(q["group_id"], q["submission_id"], q["done"], q["score"]) for q in queue] == [
        (g1.id, second.id, True, 70.0)
    ]
    assert first.id not in {q["submission_id"] for q in queue}


def test_a_plain_score_is_stored_exactly_as_given(client: TestClient, session: Session) -> None:
    _course, _lecturer, ta, _group, sub = _setup(session)
    headers = auth(session, ta)
    url = f"/api/v1/submissions/{sub.id}/reviews"
    for given in (1.7, 3.3, 64.5, 99.9):
        body = client.post(url, headers=headers, json={"score": given}).json()
        # Not 1.7000000000000002: the score is not recomputed from points through float division.
        assert (body["score"], body["points"]) == (given, {"overall": given})
        body = client.post(url, headers=headers, json={"points": {"overall": given}}).json()
        assert (body["score"], body["points"]) == (given, {"overall": given})


def test_full_marks_on_an_odd_maximum_stay_within_bounds(client: TestClient, session: Session) -> None:
    _course, _lecturer, ta, _group, sub = _setup(session)
    milestone = session.get(Milestone, sub.milestone_id)
    assert milestone is not None
    milestone.rubric = [{"key": "overall", "label": "Overall", "max_points": 1.7}]
    session.add(milestone)
    headers = auth(session, ta)
    body = client.post(f"/api/v1/submissions/{sub.id}/reviews", headers=headers, json={"score": 100}).json()
    assert (body["score"], body["points"]) == (100.0, {"overall": 1.7})
