"""The presentation programme: exact slot times (also across a DST change), reordering, seeds, overlaps, calendars."""

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, col, select

from app.models import AuditEvent, Programme
from app.programme.service import ERR_SESSION_HAS_TALKS, ERR_STAFF_ONLY
from tests.conftest import FakeClock
from tests.factories import auth, make_user, member_ids
from tests.programme.helpers import PUBLISHED_AT, week16_course

TEN_TALKS_SHANGHAI = [
    ("14:00", "14:10"),
    ("14:12", "14:22"),
    ("14:24", "14:34"),
    ("14:36", "14:46"),
    ("14:48", "14:58"),
    ("15:13", "15:23"),
    ("15:25", "15:35"),
    ("15:37", "15:47"),
    ("15:49", "15:59"),
    ("16:01", "16:11"),
]


def _url(course_id: int, rest: str = "") -> str:
    return f"/api/v1/courses/{course_id}/programme{rest}"


def _session(client: TestClient, headers: dict[str, str], course_id: int, **fields: object) -> dict[str, object]:
    body = {
        "day": "2026-12-22",
        "start_time": "14:00",
        "room": "Lecture hall 1",
        "breaks": [{"after": 5, "minutes": 15}],
        **fields,
    }
    response = client.post(_url(course_id, "/sessions"), headers=headers, json=body)
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def _times(session_body: dict[str, object]) -> list[tuple[str, str]]:
    return [(t["starts_at"], t["ends_at"]) for t in session_body["talks"]]  # type: ignore[union-attr, index]


def test_ten_talks_with_changeovers_and_a_break_from_14_00_in_shanghai(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    created = _session(client, headers, course_id)
    assert (
        created["talk_minutes"],
        created["changeover_minutes"],
        created["starts_at"],
        created["ends_at"],
        created["talks"],
    ) == (10, 2, "2026-12-22T14:00:00+08:00", None, [])
    placed = client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"})
    assert placed.status_code == 200
    [talks] = placed.json()["sessions"]
    assert _times(talks) == [(f"2026-12-22T{a}:00+08:00", f"2026-12-22T{b}:00+08:00") for a, b in TEN_TALKS_SHANGHAI]
    assert [t["group"]["name"] for t in talks["talks"]] == [f"P{i:02d}" for i in range(1, 11)]
    assert talks["pauses"] == [{"starts_at": "2026-12-22T14:58:00+08:00", "ends_at": "2026-12-22T15:13:00+08:00"}]
    assert (talks["ends_at"], placed.json()["order"], placed.json()["seed"]) == (
        "2026-12-22T16:11:00+08:00",
        "ranking",
        None,
    )


def test_talks_keep_exact_lengths_across_the_berlin_autumn_clock_change(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    # 2026-10-25: at 03:00 CEST (+02:00) the clocks go back to 02:00 CET (+01:00).
    w = week16_course(session, timezone="Europe/Berlin")
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    night = _session(client, headers, course_id, day="2026-10-25", start_time="01:30", room="Night hall", max_talks=8)
    before = _session(client, headers, course_id, day="2026-10-24", start_time="14:00", room="A", max_talks=1)
    after = _session(client, headers, course_id, day="2026-10-26", start_time="14:00", room="A", max_talks=1)
    assert (before["starts_at"], night["starts_at"], after["starts_at"]) == (
        "2026-10-24T14:00:00+02:00",
        "2026-10-25T01:30:00+02:00",
        "2026-10-26T14:00:00+01:00",
    )
    placed = client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"}).json()
    by_id = {s["id"]: s for s in placed["sessions"]}
    assert _times(by_id[before["id"]]) == [("2026-10-24T14:00:00+02:00", "2026-10-24T14:10:00+02:00")]
    assert _times(by_id[night["id"]]) == [
        ("2026-10-25T01:30:00+02:00", "2026-10-25T01:40:00+02:00"),
        ("2026-10-25T01:42:00+02:00", "2026-10-25T01:52:00+02:00"),
        ("2026-10-25T01:54:00+02:00", "2026-10-25T02:04:00+02:00"),
        ("2026-10-25T02:06:00+02:00", "2026-10-25T02:16:00+02:00"),
        ("2026-10-25T02:18:00+02:00", "2026-10-25T02:28:00+02:00"),
        ("2026-10-25T02:43:00+02:00", "2026-10-25T02:53:00+02:00"),
        ("2026-10-25T02:55:00+02:00", "2026-10-25T02:05:00+01:00"),
        ("2026-10-25T02:07:00+01:00", "2026-10-25T02:17:00+01:00"),
    ]
    assert _times(by_id[after["id"]]) == [("2026-10-26T14:00:00+01:00", "2026-10-26T14:10:00+01:00")]
    # 02:30 on 2026-03-29 never happens in Berlin (the clocks jump from 02:00 to 03:00).
    gap = client.post(
        _url(course_id, "/sessions"), headers=headers, json={"day": "2026-03-29", "start_time": "02:30", "room": "A"}
    )
    assert (gap.status_code, gap.json()) == (
        422,
        {
            "error": "invalid",
            "field": "start_time",
            "detail": "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks skip it).",
        },
    )


def test_moving_talks_keeps_every_session_gap_free(client: TestClient, session: Session, clock: FakeClock) -> None:
    w = week16_course(session)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    first = _session(client, headers, course_id)
    second = _session(client, headers, course_id, day="2026-12-23", start_time="09:00", room="Room 2", breaks=[])
    client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"})
    programme = client.get(_url(course_id), headers=headers).json()
    slots = {t["group"]["name"]: t["slot_id"] for t in programme["sessions"][0]["talks"]}
    moved = client.patch(
        _url(course_id, f"/slots/{slots['P10']}"), headers=headers, json={"session_id": first["id"], "position": 0}
    )
    assert moved.status_code == 200
    moved = client.patch(
        _url(course_id, f"/slots/{slots['P03']}"), headers=headers, json={"session_id": second["id"], "position": 99}
    ).json()
    one, two = moved["sessions"]
    assert [t["group"]["name"] for t in one["talks"]] == ["P10", "P01", "P02", "P04", "P05", "P06", "P07", "P08", "P09"]
    assert [t["position"] for t in one["talks"]] == list(range(9))
    assert _times(one) == [(f"2026-12-22T{a}:00+08:00", f"2026-12-22T{b}:00+08:00") for a, b in TEN_TALKS_SHANGHAI[:9]]
    assert _times(two) == [("2026-12-23T09:00:00+08:00", "2026-12-23T09:10:00+08:00")]
    assert (two["talks"][0]["group"]["name"], two["talks"][0]["position"]) == ("P03", 0)
    emptied = client.delete(_url(course_id, f"/sessions/{second['id']}"), headers=headers)
    assert (emptied.status_code, emptied.json()) == (
        409,
        {"error": "session_not_empty", "detail": ERR_SESSION_HAS_TALKS},
    )
    session.commit()
    moves = session.exec(select(AuditEvent).where(AuditEvent.action == "programme.move")).all()
    assert [(e.before, e.after) for e in moves] == [
        ({"session_id": first["id"], "position": 9}, {"session_id": first["id"], "position": 0}),
        ({"session_id": first["id"], "position": 3}, {"session_id": second["id"], "position": 0}),
    ]
    session.commit()


def test_a_session_that_would_overlap_another_is_refused(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    first = _session(client, headers, course_id, max_talks=5)
    second = _session(client, headers, course_id, start_time="15:30", room="Room 2", breaks=[])
    client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"})
    # The first session now runs 14:00-14:58; the second starts at 15:30. Moving it to 14:30 clashes.
    clash = client.put(
        _url(course_id, f"/sessions/{second['id']}"),
        headers=headers,
        json={"day": "2026-12-22", "start_time": "14:30", "room": "Room 2"},
    )
    assert (clash.status_code, clash.json()) == (
        409,
        {"error": "sessions_overlap", "detail": f"Session {first['id']} and session {second['id']} would overlap."},
    )
    ok = client.put(
        _url(course_id, f"/sessions/{second['id']}"),
        headers=headers,
        json={"day": "2026-12-22", "start_time": "14:58", "room": "Room 2"},
    )
    assert (ok.status_code, ok.json()["talks"][0]["starts_at"]) == (200, "2026-12-22T14:58:00+08:00")


def test_a_random_order_repeats_exactly_with_its_stored_seed(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    _session(client, headers, course_id)

    def order(body: dict[str, object]) -> list[str]:
        return [t["group"]["name"] for t in body["sessions"][0]["talks"]]  # type: ignore[index]

    shuffled = client.post(_url(course_id, "/slots"), headers=headers, json={"order": "random"}).json()
    seed = shuffled["seed"]
    assert (shuffled["order"], isinstance(seed, int)) == ("random", True)
    assert sorted(order(shuffled)) == [f"P{i:02d}" for i in range(1, 11)]
    ranked = client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"}).json()
    assert (order(ranked), ranked["seed"]) == ([f"P{i:02d}" for i in range(1, 11)], None)
    again = client.post(_url(course_id, "/slots"), headers=headers, json={"order": "random", "seed": seed}).json()
    assert (order(again), again["seed"]) == (order(shuffled), seed)
    fixed = [
        client.post(_url(course_id, "/slots"), headers=headers, json={"order": "random", "seed": 7}).json()
        for _ in range(2)
    ]
    assert order(fixed[0]) == order(fixed[1])
    assert order(fixed[0]) != [f"P{i:02d}" for i in range(1, 11)]
    session.commit()
    stored = session.exec(select(Programme)).one()
    assert (stored.order_mode, stored.seed) == ("random", 7)
    session.commit()


def test_the_calendars_hold_each_talk_in_the_course_time_zone(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    speaker = session.get(type(w.lecturer), member_ids(w.presenting[2], session)[0])
    poster_member = session.get(type(w.lecturer), member_ids(w.posters[0], session)[0])
    outsider = make_user(session)
    speaker_headers, poster_headers, outsider_headers = (auth(session, u) for u in (speaker, poster_member, outsider))
    clock.set(PUBLISHED_AT)
    _session(client, headers, course_id)
    client.post(_url(course_id, "/slots"), headers=headers, json={"order": "ranking"})
    poster_session = client.patch(
        _url(course_id),
        headers=headers,
        json={
            "poster_starts_at": "2026-12-22T16:30:00+08:00",
            "poster_ends_at": "2026-12-22T18:00:00+08:00",
            "poster_room": "Atrium",
        },
    )
    assert poster_session.status_code == 200
    ics = f"/api/v1/courses/{course_id}/calendar.ics"

    def talks(body: bytes) -> list[tuple[str, str, str]]:
        cal = Calendar.from_ical(body)
        return [
            (str(e["summary"]), e["dtstart"].to_ical().decode(), e["dtstart"].params["TZID"])
            for e in cal.walk("VEVENT")
            if ": talk by " in str(e["summary"]) or ": poster session" in str(e["summary"])
        ]

    before = client.get(ics, headers=speaker_headers)
    assert talks(before.content) == []  # not published yet
    client.post(_url(course_id, "/publish"), headers=headers)
    code = w.course.code
    staff = client.get(ics, headers=headers).content
    assert talks(staff) == [
        (f"{code}: talk by P{i + 1:02d}", f"20261222T{a.replace(':', '')}00", "Asia/Shanghai")
        for i, (a, _) in enumerate(TEN_TALKS_SHANGHAI)
    ] + [(f"{code}: poster session", "20261222T163000", "Asia/Shanghai")]
    assert b"BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai" in staff
    assert b"DTEND;TZID=Asia/Shanghai:20261222T143400" in staff
    assert talks(client.get(ics, headers=speaker_headers).content) == [
        (f"{code}: talk by P03", "20261222T142400", "Asia/Shanghai")
    ]
    assert talks(client.get(ics, headers=poster_headers).content) == [
        (f"{code}: poster session (your board: 1)", "20261222T163000", "Asia/Shanghai")
    ]
    feed = client.post("/api/v1/me/calendar-feed", headers=speaker_headers).json()["url"]
    assert talks(client.get(feed).content) == [(f"{code}: talk by P03", "20261222T142400", "Asia/Shanghai")]
    assert client.get(ics, headers=outsider_headers).status_code == 404
    assert client.get(_url(course_id), headers=outsider_headers).status_code == 404


def test_students_read_the_published_programme_and_may_not_change_it(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=2, posters=2)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    student = session.get(type(w.lecturer), member_ids(w.posters[1], session)[0])
    student_headers = auth(session, student)
    clock.set(PUBLISHED_AT)
    _session(client, headers, course_id, breaks=[])
    client.post(_url(course_id, "/slots"), headers=headers, json={})
    draft = client.get(_url(course_id), headers=student_headers).json()
    assert (draft["published_at"], draft["sessions"], draft["boards"]) == (None, [], [])
    refused = client.post(_url(course_id, "/slots"), headers=student_headers, json={})
    assert (refused.status_code, refused.json()) == (403, {"error": "staff_only", "detail": ERR_STAFF_ONLY})
    client.post(_url(course_id, "/publish"), headers=headers)
    published = client.get(_url(course_id), headers=student_headers).json()
    assert published["published_at"] == "2026-12-21T10:00:00+08:00"
    assert [(b["number"], b["group"]["name"], b["ballots"]) for b in published["boards"]] == [
        (1, "P03", None),
        (2, "P04", None),
    ]
    assert [t["group"]["name"] for t in published["sessions"][0]["talks"]] == ["P01", "P02"]
    staff_view = client.get(_url(course_id), headers=headers).json()
    assert [(b["number"], b["ballots"]) for b in staff_view["boards"]] == [(1, 0), (2, 0)]
    first_talk = published["sessions"][0]["talks"][0]
    csv_text = client.get(_url(course_id, "/programme.csv"), headers=student_headers).text
    assert csv_text.splitlines()[:2] == [
        "kind,session,room,position,starts_at,ends_at,board,group,topic,members",
        f"talk,Session {published['sessions'][0]['id']},Lecture hall 1,1,2026-12-22T14:00:00+08:00,"
        f"2026-12-22T14:10:00+08:00,,P01,Topic of P01,{'; '.join(first_talk['group']['members'])}",
    ]
    pdf = client.get(_url(course_id, "/programme.pdf"), headers=student_headers)
    assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert client.get(f"/api/v1/courses/{course_id}/programme", headers=auth(session, w.ta)).status_code == 200


def test_boards_stay_put_when_a_run_is_superseded_and_staff_can_swap_them(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=2, posters=3)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    boards = client.get(_url(course_id), headers=headers).json()["boards"]
    assert [(b["number"], b["group"]["name"]) for b in boards] == [(1, "P03"), (2, "P04"), (3, "P05")]
    run = client.post(f"/api/v1/courses/{course_id}/selections", headers=headers, json={"slots": 2}).json()
    client.post(
        f"/api/v1/selections/{run['id']}/overrides",
        headers=headers,
        json={"add_group_id": w.posters[1].id, "remove_group_id": w.presenting[0].id, "reason": "P01 is away."},
    )
    in_force = client.get(f"/api/v1/courses/{course_id}/selections/in-force", headers=headers).json()
    client.post(
        f"/api/v1/selections/{run['id']}/publish",
        headers=headers,
        json={"supersedes": in_force["id"], "reason": "P01 is away."},
    )
    boards = client.get(_url(course_id), headers=headers).json()["boards"]
    assert [(b["number"], b["group"]["name"]) for b in boards] == [(1, "P03"), (2, "P01"), (3, "P05")]
    swapped = client.patch(_url(course_id, f"/boards/{boards[2]['id']}"), headers=headers, json={"number": 1})
    assert swapped.status_code == 200, swapped.json()
    assert [(b["number"], b["group"]["name"]) for b in swapped.json()["boards"]] == [(1, "P05"), (2, "P01"), (3, "P03")]
    moved = client.patch(_url(course_id, f"/boards/{boards[1]['id']}"), headers=headers, json={"number": 7})
    assert [(b["number"], b["group"]["name"]) for b in moved.json()["boards"]] == [(1, "P05"), (3, "P03"), (7, "P01")]
    assert client.patch(_url(course_id, "/boards/999999"), headers=headers, json={"number": 2}).status_code == 404


def test_the_first_publication_tells_each_group_its_slot_or_board(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    from app.models import Notice, User

    w = week16_course(session, presenting=1, posters=1)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    for user in session.exec(select(User).where(User.student_no != None)).all():  # noqa: E711
        user.email = f"{user.username}@example.org"
        session.add(user)
    session.commit()
    clock.set(PUBLISHED_AT)
    _session(client, headers, course_id, breaks=[])
    client.post(_url(course_id, "/slots"), headers=headers, json={})
    assert client.patch(_url(course_id), headers=headers, json={"poster_room": "Atrium"}).status_code == 200
    client.post(_url(course_id, "/publish"), headers=headers)
    client.post(_url(course_id, "/publish"), headers=headers)  # again: nobody is told twice
    notices = session.exec(select(Notice).where(Notice.kind == "programme_placed").order_by(col(Notice.user_id))).all()
    speakers, posters = set(member_ids(w.presenting[0], session)), set(member_ids(w.posters[0], session))
    assert sorted(n.user_id for n in notices) == sorted(speakers | posters)
    talk = next(n for n in notices if n.user_id in speakers)
    board = next(n for n in notices if n.user_id in posters)
    code = w.course.code
    assert (talk.subject, board.subject) == (f"{code}: your presentation slot", f"{code}: your poster board")
    assert "P01's presentation slot in week 16: talk 1 of the session in room Lecture hall 1" in talk.body_text
    assert "Starts: 2026-12-22 14:00 (UTC+08:00)" in talk.body_text
    assert "P02's poster board in week 16: board 1 in Atrium" in board.body_text
    session.commit()


def test_a_group_that_stops_presenting_leaves_its_slot_and_the_talks_close_up(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=3, posters=1)
    course_id, headers = w.course.id or 0, auth(session, w.lecturer)
    clock.set(PUBLISHED_AT)
    _session(client, headers, course_id, breaks=[])
    client.post(_url(course_id, "/slots"), headers=headers, json={})
    run = client.post(f"/api/v1/courses/{course_id}/selections", headers=headers, json={"slots": 3}).json()
    client.post(
        f"/api/v1/selections/{run['id']}/overrides",
        headers=headers,
        json={"add_group_id": w.posters[0].id, "remove_group_id": w.presenting[0].id, "reason": "P01 is away."},
    )
    in_force = client.get(f"/api/v1/courses/{course_id}/selections/in-force", headers=headers).json()
    replaced = client.post(
        f"/api/v1/selections/{run['id']}/publish",
        headers=headers,
        json={"supersedes": in_force["id"], "reason": "P01 is away."},
    )
    assert replaced.json()["changed_groups"] == [w.presenting[0].id, w.posters[0].id]
    programme = client.get(_url(course_id), headers=headers).json()
    assert [(t["group"]["name"], t["position"], t["starts_at"]) for t in programme["sessions"][0]["talks"]] == [
        ("P02", 0, "2026-12-22T14:00:00+08:00"),
        ("P03", 1, "2026-12-22T14:12:00+08:00"),
    ]
    assert [(b["number"], b["group"]["name"]) for b in programme["boards"]] == [(1, "P01")]
    placed = client.post(_url(course_id, "/slots"), headers=headers, json={}).json()
    assert [t["group"]["name"] for t in placed["sessions"][0]["talks"]] == ["P02", "P03", "P04"]
