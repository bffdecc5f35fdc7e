"""Poster ballots: never one's own group, one per poster, at most N; exact counts; only the voter sees a ballot."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, User
from app.programme.ballots import ERR_ALREADY, ERR_CLOSED, ERR_LIMIT, ERR_OUTSIDE_SESSION, ERR_OWN_GROUP
from tests.conftest import FakeClock
from tests.factories import auth, make_review, make_submission, member_ids
from tests.programme.helpers import PUBLISHED_AT, week16_course

SESSION_START = datetime(2026, 12, 22, 8, 30, tzinfo=UTC)  # 16:30 Asia/Shanghai
SESSION_END = SESSION_START + timedelta(hours=2)


def _url(course_id: int, rest: str = "") -> str:
    return f"/api/v1/courses/{course_id}/programme{rest}"


def _open_ballots(client: TestClient, headers: dict[str, str], course_id: int, **extra: object) -> dict[str, int]:
    """Publish with the poster session set and ballots open (2 each); returns board ids by group name."""
    opened = client.patch(
        _url(course_id),
        headers=headers,
        json={
            "poster_starts_at": SESSION_START.isoformat(),
            "poster_ends_at": SESSION_END.isoformat(),
            "poster_room": "Atrium",
            "ballots_open": True,
            "max_ballots": 2,
            **extra,
        },
    )
    assert opened.status_code == 200
    body = client.post(_url(course_id, "/publish"), headers=headers).json()
    return {b["group"]["name"]: b["id"] for b in body["boards"]}


def _member(session: Session, group_index: int, posters: list, which: int = 0) -> User:  # type: ignore[type-arg]
    user = session.get(User, member_ids(posters[group_index], session)[which])
    assert user is not None
    return user


def test_own_poster_second_ballot_and_the_nth_plus_one_are_refused_and_counts_are_exact(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=1, posters=4)  # posters P02..P05
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    voter, other_voter = _member(session, 0, w.posters), _member(session, 1, w.posters)
    speaker = session.get(User, member_ids(w.presenting[0], session)[0])
    vh, oh, sh = auth(session, voter), auth(session, other_voter), auth(session, speaker)  # type: ignore[arg-type]
    clock.set(PUBLISHED_AT)
    boards = _open_ballots(client, headers, course_id)

    def cast(h: dict[str, str], name: str, score: int = 4) -> tuple[int, dict[str, object]]:
        response = client.post(_url(course_id, f"/boards/{boards[name]}/ballot"), headers=h, json={"score": score})
        return response.status_code, response.json()

    assert cast(vh, "P03") == (409, {"error": "ballots_closed", "detail": ERR_OUTSIDE_SESSION})
    clock.set(SESSION_START + timedelta(minutes=5))
    assert cast(vh, "P02") == (403, {"error": "own_group", "detail": ERR_OWN_GROUP})
    status, ballot = cast(vh, "P03", 5)
    assert (status, ballot) == (
        201,
        {
            "board_id": boards["P03"],
            "board_number": 2,
            "group_id": w.posters[1].id,
            "score": 5,
            "cast_at": "2026-12-22T08:35:00Z",
        },
    )
    assert cast(vh, "P03", 1) == (409, {"error": "already_voted", "detail": ERR_ALREADY})
    assert cast(vh, "P04", 3)[0] == 201
    assert cast(vh, "P05") == (409, {"error": "ballot_limit", "detail": ERR_LIMIT.format(n=2)})
    assert cast(oh, "P03") == (403, {"error": "own_group", "detail": ERR_OWN_GROUP})
    assert cast(oh, "P04", 2)[0] == 201
    assert cast(sh, "P04", 4)[0] == 201
    assert cast(headers, "P04")[1]["error"] == "students_only"
    bad = client.post(_url(course_id, f"/boards/{boards['P05']}/ballot"), headers=sh, json={"score": 6})
    assert bad.status_code == 422

    counts = client.get(_url(course_id), headers=headers).json()["boards"]
    assert [(b["group"]["name"], b["ballots"]) for b in counts] == [("P02", 0), ("P03", 1), ("P04", 3), ("P05", 0)]
    mine = client.get(_url(course_id, "/ballots/mine"), headers=vh).json()
    assert (mine["max_ballots"], mine["remaining"], [(b["board_number"], b["score"]) for b in mine["ballots"]]) == (
        2,
        0,
        [(2, 5), (3, 3)],
    )
    assert client.get(_url(course_id, "/ballots/mine"), headers=oh).json()["ballots"][0]["score"] == 2
    assert client.get(_url(course_id, "/ballots/mine"), headers=headers).json()["ballots"] == []
    student_view = client.get(_url(course_id), headers=oh).json()["boards"]
    assert {b["ballots"] for b in student_view} == {None}

    clock.set(SESSION_END + timedelta(seconds=1))
    assert cast(sh, "P05") == (409, {"error": "ballots_closed", "detail": ERR_OUTSIDE_SESSION})
    closed = client.patch(_url(course_id), headers=headers, json={"ballots_open": False, "poster_ends_at": None})
    assert closed.status_code == 200
    assert cast(sh, "P05") == (409, {"error": "ballots_closed", "detail": ERR_CLOSED})
    session.commit()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "ballot.cast").order_by(col(AuditEvent.id))
    ).all()
    assert [(e.actor_id, e.entity, e.entity_id, e.after) for e in events] == [
        (voter.id, "course", course_id, {"ballots_cast_by_voter": 1}),
        (voter.id, "course", course_id, {"ballots_cast_by_voter": 2}),
        (other_voter.id, "course", course_id, {"ballots_cast_by_voter": 1}),
        (speaker.id, "course", course_id, {"ballots_cast_by_voter": 1}),
    ]  # type: ignore[union-attr]
    session.commit()


def test_ballots_count_in_the_week16_mark_only_when_the_lecturer_says_so(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=1, posters=3)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    for group, score in zip(w.posters, (70.0, 60.0, 50.0), strict=True):
        final = make_submission(session, group, "final", received_at=PUBLISHED_AT + timedelta(days=1))
        make_review(session, final, w.ta, score)
    voters = [auth(session, _member(session, i, w.posters, j)) for i in (1, 2) for j in (0, 1)]
    session.commit()
    clock.set(PUBLISHED_AT)
    boards = _open_ballots(client, headers, course_id)
    clock.set(SESSION_START)
    for h, score in zip(voters, (5, 3, 4, 4), strict=True):  # P02 gets 5, 3, 4, 4: mean 4 -> 80
        assert (
            client.post(
                _url(course_id, f"/boards/{boards['P02']}/ballot"), headers=h, json={"score": score}
            ).status_code
            == 201
        )

    def final_columns() -> list[list[str]]:
        lines = client.get(f"/api/v1/courses/{course_id}/marks.csv", headers=headers).text.splitlines()
        header = lines[0].split(",")
        keep = [header.index(c) for c in header if c.startswith(("group", "final_", "poster_"))]
        return [[line.split(",")[i] for i in keep] for line in lines]

    plain = final_columns()
    assert plain[0] == ["group", "final_score", "final_multiplier", "final_mark"]
    assert sorted({tuple(r) for r in plain[1:] if r[0] == "P02"}) == [("P02", "70.00", "1.00", "70.00")]
    refused = client.patch(_url(course_id), headers=auth(session, w.ta), json={"ballots_count": True})
    assert (refused.status_code, refused.json()["error"]) == (403, "lecturer_only")
    counting = client.patch(_url(course_id), headers=headers, json={"ballots_count": True, "ballot_weight": 20})
    assert counting.status_code == 200
    counted = final_columns()
    assert counted[0] == [
        "group",
        "final_score",
        "final_multiplier",
        "final_mark",
        "poster_ballot_mark",
        "poster_ballot_weight",
    ]
    # 0.8 × 70 + 0.2 × 80 = 72; P03 and P04 have no ballots and keep their review score.
    assert sorted({tuple(r) for r in counted[1:] if r[0] in ("P02", "P03")}) == [
        ("P02", "72.00", "1.00", "72.00", "80.00", "20.00"),
        ("P03", "60.00", "1.00", "60.00", "", "20.00"),
    ]
