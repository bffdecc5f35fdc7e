"""The outbox and its sender: nothing sent for a rolled-back change, nothing lost while SMTP is down,
permanent refusals fail at once and can be retried, and two senders never send one notice twice."""

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import get_engine
from app.models import Notice, Topic
from app.notify.sender import BACKOFF_CAP, MAX_ATTEMPTS, SmtpTarget, backoff, notices_deliver, smtp_target
from app.outbox.events import notice_programme_placed
from app.topics.service import topic_decide
from tests.conftest import FakeClock
from tests.factories import auth, make_course, make_group, make_student, make_topic
from tests.notify.helpers import cast, deliver
from tests.smtp import SmtpServer


def _statuses(session: Session) -> list[tuple[str, int]]:
    session.expire_all()
    rows = [(n.status, n.attempts) for n in session.exec(select(Notice).order_by(col(Notice.id)))]
    session.rollback()  # SQLite: a transaction left open holds the write lock the sender needs
    return rows


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_everything(
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    make_topic(session, c.group, status="proposed")
    session.commit()
    topic_decide(session, user=c.ta, group_id=c.group.id or 0, decision="approve", comment="", now=clock())
    assert sum(isinstance(o, Notice) for o in session.new) == 3
    session.rollback()
    assert session.exec(select(Notice)).all() == []
    session.rollback()
    assert deliver(clock()).sent == 0
    assert smtp.messages == []
    assert session.exec(select(Topic.status)).one() == "proposed"

    topic_decide(session, user=c.ta, group_id=c.group.id or 0, decision="approve", comment="", now=clock())
    session.commit()
    assert deliver(clock()).sent == 3
    assert sorted(m.subject for m in smtp.messages) == ["DL2026: topic approved for Night Owls"] * 3


def test_a_failed_request_rolls_its_notices_back(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    make_topic(session, c.group, status="proposed")
    session.commit()
    # Rejecting needs a comment: the service refuses after nothing was written, the request rolls back.
    response = client.post(
        f"/api/v1/groups/{c.group.id}/topic/decision",
        headers=auth(session, c.ta),
        json={"decision": "reject", "comment": "  "},
    )
    assert response.status_code == 422
    assert session.exec(select(Notice)).all() == []
    session.rollback()
    assert deliver(clock()).sent == 0


def test_smtp_down_for_a_while_loses_nothing_and_sends_each_once(
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    c.group.deliverable = "slides"
    notice_programme_placed(session, course=c.course, group=c.group, place="Slot 2", starts_at=None, now=clock())
    session.commit()
    smtp.stop()
    first = deliver(clock())
    assert (first.sent, first.retrying, first.failed) == (0, 3, 0)
    assert _statuses(session) == [("pending", 1)] * 3
    errors = {n.last_error for n in session.exec(select(Notice))}
    session.rollback()
    assert len(errors) == 1 and "ConnectionRefusedError" in errors.pop()
    assert deliver(clock.advance(seconds=59)).retrying == 0  # back-off: not due for a minute
    assert deliver(clock.advance(seconds=1)).retrying == 3
    assert _statuses(session) == [("pending", 2)] * 3
    assert deliver(clock.advance(seconds=119)).retrying == 0  # then two minutes
    smtp.start()
    assert deliver(clock.advance(seconds=1)).sent == 3
    assert deliver(clock.advance(hours=1)).sent == 0
    assert _statuses(session) == [("sent", 3)] * 3
    assert sorted(m.notice_id for m in smtp.messages) == [
        n.id for n in session.exec(select(Notice).order_by(col(Notice.id)))
    ]


def test_backoff_doubles_up_to_a_cap_and_gives_up_after_the_last_attempt(
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(20) == BACKOFF_CAP == timedelta(hours=6)
    c = cast(session)
    notice_programme_placed(session, course=c.course, group=c.group, place="Slot 2", starts_at=None, now=clock())
    session.commit()
    smtp.stop()
    for _ in range(MAX_ATTEMPTS):
        deliver(clock.advance(hours=7))
    assert _statuses(session) == [("failed", MAX_ATTEMPTS)] * 3


def test_a_refused_mailbox_fails_at_once_and_staff_retry_it(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    smtp.recorder.refuse.add("ben@dl2026.example.edu")
    c.group.deliverable = "poster"
    notice_programme_placed(session, course=c.course, group=c.group, place="Board 1", starts_at=None, now=clock())
    session.commit()
    stats = deliver(clock())
    assert (stats.sent, stats.retrying, stats.failed) == (2, 0, 1)
    outbox = client.get(
        f"/api/v1/courses/{c.course.id}/outbox", params={"status": "failed"}, headers=auth(session, c.ta)
    ).json()
    assert outbox["smtp_configured"] is True
    assert outbox["counts"] == {"pending": 0, "sending": 0, "sent": 2, "failed": 1, "skipped": 0}
    [failed] = outbox["notices"]
    assert (failed["to_address"], failed["status"], failed["attempts"]) == ("ben@dl2026.example.edu", "failed", 1)
    assert failed["last_error"] == "ben@dl2026.example.edu: 550 5.1.1 No such mailbox here"

    student = client.post(f"/api/v1/notices/{failed['id']}/retry", headers=auth(session, c.students[0]))
    assert (student.status_code, student.json()["error"]) == (404, "not_found")
    smtp.recorder.refuse.clear()
    retried = client.post(f"/api/v1/notices/{failed['id']}/retry", headers=auth(session, c.ta))
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/notices/{failed['id']}/retry", headers=auth(session, c.ta))
    assert again.status_code == 409
    assert again.json() == {
        "error": "notice_not_failed",
        "detail": "Only a failed notice can be retried; this one is pending.",
    }
    assert deliver(clock()).sent == 1
    assert [m.subject for m in smtp.to("ben@dl2026.example.edu")] == ["DL2026: your poster board"]


def test_without_an_smtp_url_notices_wait_in_the_outbox(
    client: TestClient,
    session: Session,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRACKER_SMTP_URL", raising=False)
    get_settings.cache_clear()
    c = cast(session)
    notice_programme_placed(session, course=c.course, group=c.group, place="Slot 2", starts_at=None, now=clock())
    session.commit()
    assert deliver(clock()).sent == 0
    assert _statuses(session) == [("pending", 0)] * 3
    outbox = client.get(f"/api/v1/courses/{c.course.id}/outbox", headers=auth(session, c.lecturer)).json()
    assert (outbox["smtp_configured"], outbox["counts"]["pending"]) == (False, 3)


def test_smtp_urls() -> None:
    assert smtp_target("smtp://me%40uni:p%3Ass@mail.uni.edu:2525") == SmtpTarget(
        host="mail.uni.edu", port=2525, implicit_tls=False, username="me@uni", password="p:ss"
    )
    assert smtp_target("smtps://mail.uni.edu") == SmtpTarget(
        host="mail.uni.edu", port=465, implicit_tls=True, username=None, password=None
    )
    assert smtp_target("smtp://mail.uni.edu").port == 587
    with pytest.raises(ValueError, match="must start with smtp:// or smtps://"):
        smtp_target("http://mail.uni.edu")


@pytest.mark.postgres_only
def test_two_senders_at_once_send_every_notice_exactly_once(
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
    backend: str,
) -> None:
    course = make_course(session)
    groups = []
    for g in range(50):
        members = [make_student(session, course, email=f"g{g}m{m}@example.edu") for m in range(4)]
        group = make_group(session, course, members=members)
        group.deliverable = "poster"
        groups.append(group)
    for group in groups:
        notice_programme_placed(session, course=course, group=group, place="Board", starts_at=None, now=clock())
    session.commit()
    smtp.recorder.delay_s = 0.002  # a slow server: the two senders' batches overlap
    start = threading.Barrier(2)
    results = []

    def sender() -> None:
        start.wait()
        results.append(notices_deliver(get_engine(), settings=get_settings(), clock=clock, batch_size=10))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    ids = [m.notice_id for m in smtp.messages]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert sorted(r.sent for r in results) == sorted([len(results[0].sent_ids), len(results[1].sent_ids)])
    assert sum(r.sent for r in results) == 200
    assert all(r.sent > 0 for r in results)  # both took part
    assert not set(results[0].sent_ids) & set(results[1].sent_ids)
    assert _statuses(session) == [("sent", 1)] * 200
