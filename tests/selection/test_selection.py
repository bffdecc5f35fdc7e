"""The presentation selection: ranking with tie-breaks, normalisation, refusal, overrides, publishing, races."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from app.models import AuditEvent, Course, ProjectGroup, SelectionRun, User
from app.selection.ranking import Candidate, RankRow, rank_reports
from app.selection.service import (
    ERR_ADD_NOT_ELIGIBLE,
    ERR_PUBLISHED,
    ERR_REASON,
    selection_get,
    selection_histogram,
    selection_run,
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
)

R0 = REPORT_DUE - timedelta(hours=24)
NOW = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)


def iso(instant: datetime) -> str:
    """How the API writes a UTC instant."""
    return instant.isoformat().replace("+00:00", "Z")


def _course(session: Session, **settings: object):
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer, **settings)
    tas = [make_staff(session, course) for _ in range(2)]
    return course, lecturer, [lecturer, *tas]


def _reviewed_group(
    session: Session,
    course,
    reviewers: list[User],
    name: str,
    scores: list[float],
    received_at: datetime = R0,
) -> ProjectGroup:
    group = make_group(session, course, size=3, name=name)
    sub = make_submission(session, group, "report", received_at=received_at)
    for reviewer, score in zip(reviewers, scores, strict=False):
        make_review(session, sub, reviewer, score)
    return group


# name, scores, receipt offset (hours after R0), in creation (= group id) order.
FIFTEEN = [
    ("A", [90, 90, 90], 0),
    ("B", [88, 86], 0),
    ("D", [95, 80, 80], 1),
    ("C", [80, 85, 90], 2),
    ("E", [82, 82], 3),
    ("F", [80, 84], 2),
    ("G", [78, 78], 5),
    ("H", [78, 78], 5),
    ("I", [75], 0),
    ("J", [70, 74], 0),
    ("K", [60, 70, 80], 1),
    ("L", [50, 80, 80], 4),
    ("M", [65], 0),
    ("N", [60, 60], 6),
    ("O", [50, 70], 5),
]
# rank order, score, median, reviews, receipt offset, tie-break that decided the place, presenting.
FIFTEEN_EXPECTED = [
    ("A", 90, 90, 3, 0, "score", True),
    ("B", 87, 87, 2, 0, "score", True),
    ("C", 85, 85, 3, 2, "median", True),
    ("D", 85, 80, 3, 1, "median", True),
    ("F", 82, 82, 2, 2, "received_at", True),
    ("E", 82, 82, 2, 3, "received_at", True),
    ("G", 78, 78, 2, 5, "group_id", True),
    ("H", 78, 78, 2, 5, "group_id", True),
    ("I", 75, 75, 1, 0, "score", True),
    ("J", 72, 72, 2, 0, "score", True),
    ("L", 70, 80, 3, 4, "median", False),
    ("K", 70, 70, 3, 1, "median", False),
    ("M", 65, 65, 1, 0, "score", False),
    ("O", 60, 60, 2, 5, "received_at", False),
    ("N", 60, 60, 2, 6, "received_at", False),
]


def test_fifteen_groups_rank_by_score_then_median_then_receipt_then_id(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    course, lecturer, reviewers = _course(session)
    groups = {
        name: _reviewed_group(session, course, reviewers, name, [float(s) for s in scores], R0 + timedelta(hours=hours))
        for name, scores, hours in FIFTEEN
    }
    clock.set(NOW)
    response = client.post(f"/api/v1/courses/{course.id}/selections", headers=auth(session, lecturer), json={})
    assert response.status_code == 201
    body = response.json()
    assert body["ranking"] == [
        {
            "rank": i + 1,
            "group_id": groups[name].id,
            "group_name": name,
            "score": float(score),
            "median": float(median),
            "reviews": reviews,
            "received_at": iso(R0 + timedelta(hours=hours)),
            "tie_break": rule,
            "presenting": presenting,
            "overridden": False,
        }
        for i, (name, score, median, reviews, hours, rule, presenting) in enumerate(FIFTEEN_EXPECTED)
    ]
    assert body["presenting"] == [groups[n].id for n in "ABCDFEGHIJ"]
    assert (body["status"], body["slots"], body["normalise"], body["forced"], body["created_at"]) == (
        "draft",
        10,
        False,
        False,
        "2026-12-28T02:00:00Z",
    )
    view = selection_get(session, user=lecturer, selection_id=body["id"])
    assert [b.count for b in selection_histogram(view)] == [0, 0, 0, 0, 0, 0, 3, 6, 5, 1]


def test_one_harsh_ta_changes_the_selection_unless_normalised(client: TestClient, session: Session) -> None:
    course, lecturer, (_, harsh, kind) = _course(session)
    # The harsh TA reviewed P, Q, R; the kind one S, T, U; one review per report.
    scores = {
        "P": (harsh, 40.0),
        "Q": (harsh, 50.0),
        "R": (harsh, 75.0),
        "S": (kind, 70.0),
        "T": (kind, 80.0),
        "U": (kind, 90.0),
    }
    groups = {n: _reviewed_group(session, course, [reviewer], n, [score]) for n, (reviewer, score) in scores.items()}
    headers = auth(session, lecturer)
    url = f"/api/v1/courses/{course.id}/selections"
    raw = client.post(url, headers=headers, json={"slots": 2}).json()
    normalised = client.post(url, headers=headers, json={"slots": 2, "normalise": True}).json()
    assert [(r["group_name"], r["score"]) for r in raw["ranking"]] == [
        ("U", 90.0),
        ("T", 80.0),
        ("R", 75.0),
        ("S", 70.0),
        ("Q", 50.0),
        ("P", 40.0),
    ]
    assert raw["presenting"] == [groups["U"].id, groups["T"].id]
    # Overall mean 67.5 and population sd sqrt(1787.5/6) = 17.2603; harsh: mean 55, sd 14.7196;
    # kind: mean 80, sd 8.1650. R: z = 20/14.7196 = 1.3587 -> 67.5 + 1.3587 * 17.2603 = 90.95.
    assert [(r["group_name"], round(r["score"], 2)) for r in normalised["ranking"]] == [
        ("R", 90.95),
        ("U", 88.64),
        ("T", 67.5),
        ("Q", 61.64),
        ("P", 49.91),
        ("S", 46.36),
    ]
    assert normalised["presenting"] == [groups["R"].id, groups["U"].id]
    assert (normalised["normalise"], normalised["inputs"]["normalise"]) == (True, True)


def test_refuses_with_unreviewed_reports_and_missing_reports_unless_forced(
    client: TestClient, session: Session
) -> None:
    course, lecturer, reviewers = _course(session)
    alpha = _reviewed_group(session, course, reviewers, "Alpha", [70.0])
    beta = _reviewed_group(session, course, reviewers, "Beta", [])
    gamma = make_group(session, course, size=3, name="Gamma")
    headers = auth(session, lecturer)
    url = f"/api/v1/courses/{course.id}/selections"
    response = client.post(url, headers=headers, json={})
    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "detail": (
            "Every report needs at least 1 review(s) before the selection runs (or force it). "
            "Short of reviews: Beta (0). No report: Gamma."
        ),
    }
    assert session.exec(select(SelectionRun)).all() == []
    session.commit()  # SQLite: end the read so the API can write
    response = client.post(url, headers=headers, json={"force": True})
    assert response.status_code == 201
    body = response.json()
    assert [
        (r["rank"], r["group_id"], r["score"], r["reviews"], r["tie_break"], r["presenting"]) for r in body["ranking"]
    ] == [
        (1, alpha.id, 70.0, 1, "score", True),
        (2, beta.id, None, 0, "unreviewed", True),
        (None, gamma.id, None, 0, "no_report", False),
    ]
    assert (body["forced"], body["inputs"]["short_of_reviews"], body["inputs"]["no_report"]) == (
        True,
        ["Beta"],
        ["Gamma"],
    )


def test_overrides_publish_twice_and_a_published_run_never_changes(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    course, lecturer, reviewers = _course(session)
    a, b, c, d = (
        _reviewed_group(session, course, reviewers, n, [s])
        for n, s in (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0))
    )
    headers = auth(session, lecturer)
    clock.set(NOW)
    run = client.post(f"/api/v1/courses/{course.id}/selections", headers=headers, json={"slots": 2}).json()
    url = f"/api/v1/selections/{run['id']}"
    assert run["presenting"] == [a.id, b.id]
    assert client.post(
        f"{url}/overrides", headers=headers, json={"add_group_id": c.id, "remove_group_id": b.id, "reason": "  "}
    ).json() == {"error": "invalid", "detail": ERR_REASON, "field": "reason"}
    assert client.post(
        f"{url}/overrides", headers=headers, json={"add_group_id": a.id, "remove_group_id": b.id, "reason": "x"}
    ).json() == {"error": "invalid", "detail": ERR_ADD_NOT_ELIGIBLE, "field": "add_group_id"}
    ta_headers = auth(session, reviewers[1])
    assert (
        client.post(
            f"{url}/overrides", headers=ta_headers, json={"add_group_id": c.id, "remove_group_id": b.id, "reason": "x"}
        ).status_code
        == 403
    )
    clock.advance(hours=1)
    response = client.post(
        f"{url}/overrides",
        headers=headers,
        json={"add_group_id": c.id, "remove_group_id": b.id, "reason": "B presented at the workshop already."},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["presenting"] == [a.id, c.id]
    assert [(r["group_id"], r["presenting"], r["overridden"]) for r in body["ranking"]] == [
        (a.id, True, False),
        (b.id, False, True),
        (c.id, True, True),
        (d.id, False, False),
    ]
    assert body["overrides"] == [
        {
            "id": body["overrides"][0]["id"],
            "add_group_id": c.id,
            "remove_group_id": b.id,
            "reason": "B presented at the workshop already.",
            "created_by": lecturer.id,
            "created_at": "2026-12-28T03:00:00Z",
        }
    ]
    clock.advance(hours=1)
    first = client.post(f"{url}/publish", headers=headers)
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["published_at"]) == ("published", "2026-12-28T04:00:00Z")
    clock.advance(hours=1)
    second = client.post(f"{url}/publish", headers=headers)
    assert second.json() == first.json()
    deliverables = dict(
        session.exec(select(ProjectGroup.id, ProjectGroup.deliverable).where(ProjectGroup.course_id == course.id)).all()
    )
    assert deliverables == {a.id: "slides", b.id: "poster", c.id: "slides", d.id: "poster"}
    published = session.exec(select(AuditEvent).where(AuditEvent.action == "selection.publish")).all()
    assert [(e.entity_id, e.after) for e in published] == [
        (
            run["id"],
            {
                "deliverables": {str(a.id): "slides", str(b.id): "poster", str(c.id): "slides", str(d.id): "poster"},
                "changed_groups": [],
                "supersedes": None,
                "reason": None,
                "forced_past_deadline": False,
                "rechecked_submissions": [],
            },
        )
    ]
    session.commit()  # SQLite: end the read so the API can write
    response = client.post(
        f"{url}/overrides",
        headers=headers,
        json={"add_group_id": b.id, "remove_group_id": c.id, "reason": "Changed my mind."},
    )
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": ERR_PUBLISHED}
    rerun = client.post(f"/api/v1/courses/{course.id}/selections", headers=headers, json={"slots": 2}).json()
    assert (rerun["id"] != run["id"], rerun["status"], rerun["presenting"]) == (True, "draft", [a.id, b.id])
    assert client.get(url, headers=headers).json() == first.json()
    listed = client.get(f"/api/v1/courses/{course.id}/selections", headers=headers).json()
    assert [(r["id"], r["status"]) for r in listed] == [(rerun["id"], "draft"), (run["id"], "published")]


def test_students_cannot_see_or_run_selections(client: TestClient, session: Session) -> None:
    course, lecturer, reviewers = _course(session)
    group = _reviewed_group(session, course, reviewers, "A", [80.0])
    student = session.get(User, session.exec(select(User.id).where(col(User.student_no).is_not(None))).first())
    assert student is not None
    assert group.id
    run = selection_run(session, user=lecturer, course_id=course.id or 0, now=NOW)
    session.commit()
    headers = auth(session, student)
    assert client.get(f"/api/v1/selections/{run.id}", headers=headers).status_code == 404
    # The course is theirs to see, so its staff-only actions are 403; a run itself they never see.
    assert client.get(f"/api/v1/courses/{course.id}/selections", headers=headers).status_code == 403
    assert client.post(f"/api/v1/courses/{course.id}/selections", headers=headers, json={}).status_code == 403


def test_rank_reports_puts_groups_without_report_last_and_never_presenting() -> None:
    rows = rank_reports(
        [Candidate(3, "C", [], None), Candidate(1, "A", [50.0], R0), Candidate(2, "B", [], None)], slots=5
    )
    assert rows == [
        RankRow(
            rank=1,
            group_id=1,
            group_name="A",
            score=50.0,
            median=50.0,
            reviews=1,
            received_at=R0,
            tie_break="score",
            presenting=True,
        ),
        RankRow(
            rank=None,
            group_id=2,
            group_name="B",
            score=None,
            median=None,
            reviews=0,
            received_at=None,
            tie_break="no_report",
            presenting=False,
        ),
        RankRow(
            rank=None,
            group_id=3,
            group_name="C",
            score=None,
            median=None,
            reviews=0,
            received_at=None,
            tie_break="no_report",
            presenting=False,
        ),
    ]


@pytest.mark.postgres_only
def test_concurrent_runs_each_see_one_consistent_state(engine: Engine, session: Session, backend: str) -> None:
    course, lecturer, reviewers = _course(session)
    for name, score in (("A", 90.0), ("B", 80.0), ("C", 70.0)):
        _reviewed_group(session, course, reviewers, name, [score])
    session.commit()
    before, after = ["A", "B", "C"], ["Y", "A", "B", "C"]
    # A third lecturer action creates group Y with a report reviewed 99 while both runs are between
    # their reads: each run must see Y completely or not at all.
    runs_reading = threading.Event()
    writer_done = threading.Event()
    errors: list[BaseException] = []
    run_ids: list[int] = []

    def widen_the_window(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name.startswith("run") and "FROM project_group" in statement:
            runs_reading.set()
            writer_done.wait(timeout=1.5)

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                r = selection_run(s, user=lecturer, course_id=course.id or 0, slots=2, force=True, now=NOW)
                s.commit()
                run_ids.append(r.id or 0)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    def create_reviewed_group() -> None:
        try:
            runs_reading.wait(timeout=10)
            with Session(engine, expire_on_commit=False) as s:
                _reviewed_group(s, s.get(Course, course.id), reviewers[1:2], "Y", [99.0])
                s.commit()
            writer_done.set()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    event.listen(engine, "after_cursor_execute", widen_the_window)
    try:
        threads = [
            threading.Thread(target=run, name="run-1"),
            threading.Thread(target=run, name="run-2"),
            threading.Thread(target=create_reviewed_group, name="writer"),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", widen_the_window)
    assert errors == []
    assert len(set(run_ids)) == 2
    with Session(engine) as s:
        for run_id in run_ids:
            stored = s.get(SelectionRun, run_id)
            assert stored is not None
            assert [r["group_name"] for r in stored.ranking] in (before, after)
            # The stored inputs are exactly the reports and reviews the ranking was computed from.
            scores = {r["group_id"]: [score for _, score in r["reviews"]] for r in stored.inputs["reports"]}
            assert [r["score"] for r in stored.ranking] == [scores[r["group_id"]][0] for r in stored.ranking]
            assert len(scores) == len(stored.ranking)


def test_selection_and_marks_take_a_fixed_number_of_queries(
    session: Session,
    count_queries,
    backend: str,
) -> None:
    from app.marks.service import marks_table

    counts = []
    for n in (2, 6):
        course, lecturer, reviewers = _course(session)
        for i in range(n):
            _reviewed_group(session, course, reviewers, f"G{i}", [70.0 + i, 60.0])
        session.commit()
        with count_queries() as selection:
            selection_run(session, user=lecturer, course_id=course.id or 0, now=NOW)
        with count_queries() as marks:
            marks_table(session, course=course)
        session.rollback()
        counts.append((selection.count, marks.count))
    # PostgreSQL adds the LOCK TABLE statement; marks read the programme's ballot rule once. The
    # course comes with the caller's role in one statement, even though this session already holds
    # the course (a request's fresh session needed two for them before).
    assert counts[0] == counts[1] == ((8 if backend == "sqlite" else 9), 19)


def test_a_ta_and_another_courses_lecturer_cannot_run_override_or_publish(client: TestClient, session: Session) -> None:
    course, lecturer, (_, ta, _) = _course(session)
    a, b = (_reviewed_group(session, course, [ta], n, [s]) for n, s in (("A", 90.0), ("B", 80.0)))
    other_lecturer = make_staff(session, make_course(session), role="lecturer")
    run = selection_run(session, user=lecturer, course_id=course.id or 0, slots=1, now=NOW)
    session.commit()
    override = {"add_group_id": b.id, "remove_group_id": a.id, "reason": "x"}
    for user, status in ((ta, 403), (other_lecturer, 404)):
        headers = auth(session, user)
        session.commit()
        assert client.post(f"/api/v1/courses/{course.id}/selections", headers=headers, json={}).status_code == status
        assert (
            client.post(f"/api/v1/selections/{run.id}/overrides", headers=headers, json=override).status_code == status
        )
        assert client.post(f"/api/v1/selections/{run.id}/publish", headers=headers).status_code == status
    assert client.get(f"/api/v1/selections/{run.id}", headers=auth(session, ta)).json()["status"] == "draft"
    session.commit()
    assert session.exec(select(SelectionRun.id)).all() == [run.id]
    assert session.exec(select(ProjectGroup.deliverable).where(ProjectGroup.course_id == course.id)).all() == [
        None,
        None,
    ]


def test_ids_beyond_the_id_column_are_404_not_a_crash(client: TestClient, session: Session) -> None:
    from app.reviews.service import ERR_NO_SUBMISSION
    from app.selection.service import ERR_NO_SELECTION

    course = make_course(session)
    headers = auth(session, make_staff(session, course, role="lecturer"))
    huge = 2**70  # SQLite cannot even bind it
    expected = {
        ("get", f"/selections/{huge}"): ERR_NO_SELECTION,
        ("post", f"/selections/{huge}/publish"): ERR_NO_SELECTION,
        ("get", f"/submissions/{huge}/reviews"): ERR_NO_SUBMISSION,
        ("post", f"/submissions/{huge}/reviews"): ERR_NO_SUBMISSION,
    }
    for (method, path), detail in expected.items():
        kwargs: dict[str, Any] = {"json": {"score": 50, "comment": ""}} if path.endswith("reviews") else {}
        response = client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        assert (response.status_code, response.json()) == (404, {"error": "not_found", "detail": detail}), path
