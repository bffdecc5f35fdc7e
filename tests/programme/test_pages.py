"""The week-16 pages without a browser: building the programme, the board list, a student's slot or board."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from tests.conftest import FakeClock
from tests.factories import member_ids
from tests.programme.helpers import PUBLISHED_AT, week16_course
from tests.web.helpers import hidden_csrf, text_of, web_login


def test_staff_build_the_programme_on_its_page_and_a_student_sees_their_slot(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    w = week16_course(session, presenting=3, posters=2)
    course_id = w.course.id or 0
    speaker = session.get(User, member_ids(w.presenting[1], session)[0])
    poster_student = session.get(User, member_ids(w.posters[0], session)[0])
    clock.set(PUBLISHED_AT)
    csrf = web_login(client, session, w.lecturer)
    base = f"/ui/courses/{course_id}/programme"
    added = client.post(
        f"{base}/sessions",
        data={
            "csrf_token": csrf,
            "day": "2026-12-22",
            "start_time": "14:00",
            "room": "Hall 1",
            "talk_minutes": "10",
            "changeover_minutes": "2",
            "break_after": "2",
            "break_minutes": "15",
        },
        follow_redirects=False,
    )
    assert (added.status_code, added.headers["location"]) == (303, f"{base}?saved=session")
    client.post(f"{base}/place", data={"csrf_token": csrf, "order": "ranking"})
    page = text_of(client.get(base).text)
    assert "1 2026-12-22 14:00 (UTC+08:00) – 2026-12-22 14:10 (UTC+08:00) P01 Topic of P01" in page
    assert "3 2026-12-22 14:37 (UTC+08:00) – 2026-12-22 14:47 (UTC+08:00) P03" in page
    assert "draft: students do not see it yet" in page
    slot_form = client.get(base).text
    assert hidden_csrf(slot_form) == csrf
    client.post(f"{base}/publish", data={"csrf_token": csrf})
    boards = text_of(client.get(f"/ui/courses/{course_id}/boards").text)
    assert "1 P04 Topic of P04" in boards
    assert "2 P05 Topic of P05" in boards
    timer = client.get(f"{base}/timer")
    assert (timer.status_code, '<script src="/ui/static/timer.js" defer></script>' in timer.text) == (200, True)
    assert 'data-talk-seconds="600"' in timer.text
    client.cookies.clear()

    web_login(client, session, speaker)  # type: ignore[arg-type]
    status = text_of(client.get(f"/ui/groups/{w.presenting[1].id}/status").text)
    assert (
        "Your talk: 2026-12-22 14:12 (UTC+08:00) to 2026-12-22 14:22 (UTC+08:00), session in room Hall 1 (talk 2 of 3)."
    ) in status
    student_csrf = web_login(client, session, speaker)  # type: ignore[arg-type]
    student_refused = client.post(f"{base}/place", data={"csrf_token": student_csrf, "order": "random"})
    assert student_refused.status_code == 403
    client.cookies.clear()
    web_login(client, session, poster_student)  # type: ignore[arg-type]
    status = text_of(client.get(f"/ui/groups/{w.posters[0].id}/status").text)
    assert "Week 16 Your poster: board 1 . The whole programme · Poster boards" in status


def test_a_student_scores_a_poster_on_the_board_page_and_sees_only_their_own_ballot(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    from datetime import timedelta

    from app.programme.flows import programme_publish
    from app.programme.service import programme_update

    w = week16_course(session, presenting=1, posters=3)
    course_id = w.course.id or 0
    programme_update(
        session, user=w.lecturer, course_id=course_id, now=PUBLISHED_AT, values={"ballots_open": True, "max_ballots": 1}
    )
    programme_publish(session, user=w.lecturer, course_id=course_id, now=PUBLISHED_AT)
    session.commit()
    voter = session.get(User, member_ids(w.posters[0], session)[0])
    clock.set(PUBLISHED_AT + timedelta(hours=1))
    csrf = web_login(client, session, voter)  # type: ignore[arg-type]
    page = text_of(client.get(f"/ui/courses/{course_id}/boards").text)
    assert "You may score 1 more poster (1 to 5; never your own; one ballot per poster)." in page
    assert "1 P02 Topic of P02" in page
    assert "your group" in page
    board_of = {b.group_id: b.id for b in _boards(session, course_id)}
    cast = client.post(
        f"/ui/courses/{course_id}/boards/{board_of[w.posters[1].id]}/ballot",
        data={"csrf_token": csrf, "score": "4"},
        follow_redirects=False,
    )
    assert (cast.status_code, cast.headers["location"]) == (303, f"/ui/courses/{course_id}/boards?saved=ballot")
    page = text_of(client.get(f"/ui/courses/{course_id}/boards").text)
    assert "2 P03 Topic of P03" in page
    assert "4 / 5" in page
    assert "no ballots left" in page
    again = client.post(
        f"/ui/courses/{course_id}/boards/{board_of[w.posters[2].id]}/ballot", data={"csrf_token": csrf, "score": "5"}
    )
    assert again.status_code == 409
    client.cookies.clear()
    web_login(client, session, session.get(User, member_ids(w.posters[1], session)[0]))  # type: ignore[arg-type]
    assert "4 / 5" not in text_of(client.get(f"/ui/courses/{course_id}/boards").text)


def _boards(session: Session, course_id: int) -> list:  # type: ignore[type-arg]
    from sqlmodel import select

    from app.models import PosterBoard

    rows = list(session.exec(select(PosterBoard).where(PosterBoard.course_id == course_id)))
    session.commit()
    return rows
