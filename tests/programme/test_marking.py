"""Week-16 marking with the milestone's rubric and balanced TA assignments; the API documents its errors."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import FakeClock
from tests.factories import auth, make_staff, make_submission, make_user
from tests.programme.helpers import PUBLISHED_AT, week16_course

RUBRIC = [
    {"key": "content", "label": "Content", "max_points": 10},
    {"key": "delivery", "label": "Delivery or layout", "max_points": 10},
]


def test_slides_and_posters_are_marked_with_the_rubric_and_spread_evenly_over_the_tas(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=3, posters=4)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    make_staff(session, w.course, name="Second TA")
    submissions = {
        g.name: make_submission(session, g, "final", received_at=PUBLISHED_AT + timedelta(days=2))
        for g in w.presenting + w.posters
    }
    session.commit()
    clock.set(PUBLISHED_AT + timedelta(days=8))
    assert (
        client.put(
            f"/api/v1/courses/{course_id}/milestones/final/rubric", headers=headers, json={"criteria": RUBRIC}
        ).status_code
        == 200
    )
    assigned = client.post(
        f"/api/v1/courses/{course_id}/milestones/final/assignments",
        headers=headers,
        json={"reviewers_per_submission": 1},
    ).json()
    # 7 pieces of work over 3 staff (lecturer, TA, second TA): 3, 2, 2.
    assert sorted(load["assigned"] for load in assigned["loads"]) == [2, 2, 3]
    assert len(assigned["created"]) == 7
    review = client.post(
        f"/api/v1/submissions/{submissions['P01'].id}/reviews",
        headers=auth(session, w.ta),
        json={"points": {"content": 9, "delivery": 7}, "comment": "Clear talk."},
    )
    assert (review.status_code, review.json()["score"]) == (201, 80.0)
    csv_lines = client.get(f"/api/v1/courses/{course_id}/marks.csv", headers=headers).text.splitlines()
    header = csv_lines[0].split(",")
    p01 = [line.split(",") for line in csv_lines[1:] if line.split(",")[2] == "P01"]
    assert {(row[header.index("final_score")], row[header.index("final_mark")]) for row in p01} == {("80.00", "80.00")}


def test_the_openapi_document_describes_the_programme_routes_and_their_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    base = "/api/v1/courses/{course_id}/programme"
    assert {p for p in paths if p.startswith(base)} == {
        base,
        f"{base}/publish",
        f"{base}/sessions",
        f"{base}/sessions/{{session_id}}",
        f"{base}/slots",
        f"{base}/slots/{{slot_id}}",
        f"{base}/boards/{{board_id}}",
        f"{base}/boards/{{board_id}}/ballot",
        f"{base}/ballots/mine",
        f"{base}/programme.csv",
        f"{base}/programme.pdf",
    }
    # Every operation documents the app-wide error set (app.errors.ERROR_RESPONSES) besides its own success.
    errors = ["400", "401", "403", "404", "405", "408", "409", "413", "415", "422", "429"]
    ballot = paths[f"{base}/boards/{{board_id}}/ballot"]["post"]["responses"]
    assert sorted(ballot) == ["201", *errors]
    assert ballot["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorPublic"}
    publish = paths["/api/v1/selections/{selection_id}/publish"]["post"]
    assert sorted(publish["responses"]) == ["200", *errors]
    csv = paths[f"{base}/programme.csv"]["get"]["responses"]
    assert (list(csv["200"]["content"]), sorted(csv)) == (["text/csv"], ["200", *errors])
    pdf = paths[f"{base}/programme.pdf"]["get"]["responses"]["200"]["content"]
    assert pdf == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert spec["components"]["schemas"]["ErrorPublic"]["required"] == ["error", "detail"]


def test_another_courses_staff_and_strangers_get_404_everywhere(client: TestClient, session: Session) -> None:
    w = week16_course(session, presenting=1, posters=1)
    course_id = w.course.id or 0
    stranger = auth(session, make_user(session))
    base = f"/api/v1/courses/{course_id}/programme"
    for method, path, body in (
        ("get", "", None),
        ("post", "/sessions", {"day": "2026-12-22", "start_time": "14:00", "room": "A"}),
        ("post", "/slots", {}),
        ("post", "/publish", None),
        ("get", "/programme.csv", None),
        ("get", "/ballots/mine", None),
        ("patch", "/boards/1", {"number": 2}),
        ("post", "/boards/1/ballot", {"score": 3}),
    ):
        response = client.request(method, base + path, headers=stranger, json=body)
        assert (path, response.status_code, response.json()["error"]) == (path, 404, "not_found")
