"""The two ways the sender runs: `tracker notify run` and the loop beside the web server."""

import time
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import get_engine
from app.models import Notice
from app.notify.service import MSG_NO_SMTP, SenderLoop
from app.outbox.events import notice_programme_placed
from tests.conftest import FakeClock
from tests.factories import make_course, make_group, make_student
from tests.smtp import SmtpServer


def _far_course_group(session: Session) -> None:
    # A course of 2099: whatever today's date, the real clock of the CLI finds no reminder or digest due.
    course = make_course(session)
    course.start_date = date(2099, 9, 7)
    session.add(course)
    group = make_group(
        session, course, members=[make_student(session, course, email=f"p{i}@example.edu") for i in range(3)]
    )
    group.deliverable = "slides"
    notice_programme_placed(
        session, course=course, group=group, place="Slot 1", starts_at=None, now=datetime(2026, 9, 1, tzinfo=UTC)
    )
    session.commit()


def test_tracker_notify_run_once_delivers_the_outbox(session: Session, smtp: SmtpServer) -> None:
    _far_course_group(session)
    result = CliRunner().invoke(cli, ["notify", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output == "reminders written 0, digests written 0; sent 3, to retry 0, failed 0\n"
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "p0@example.edu",
        "p1@example.edu",
        "p2@example.edu",
    ]


def test_tracker_notify_run_says_when_smtp_is_unset_or_wrong(
    session: Session,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _far_course_group(session)
    result = CliRunner().invoke(cli, ["notify", "run", "--once"])
    assert result.exit_code == 0
    assert result.output == f"{MSG_NO_SMTP}\nreminders written 0, digests written 0; sent 0, to retry 0, failed 0\n"
    monkeypatch.setenv("TRACKER_SMTP_URL", "http://mail.example.edu")
    get_settings.cache_clear()
    wrong = CliRunner().invoke(cli, ["notify", "run", "--once"])
    assert wrong.exit_code == 2
    assert wrong.output == "error: TRACKER_SMTP_URL must start with smtp:// or smtps://, not 'http'\n"
    assert [n.status for n in session.exec(select(Notice))] == ["pending"] * 3


def test_the_sender_loop_delivers_until_stopped(
    session: Session, smtp: SmtpServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_NOTIFY_INTERVAL_S", "0.05")
    get_settings.cache_clear()
    _far_course_group(session)
    loop = SenderLoop(get_engine(), settings=get_settings(), clock=clock)
    loop.start()
    try:
        waited = time.monotonic() + 20
        while len(smtp.messages) < 3 and time.monotonic() < waited:  # the thread's progress, not a deadline
            time.sleep(0.05)
    finally:
        loop.stop()
        loop.join(timeout=20)
    assert not loop.is_alive()
    assert len(smtp.messages) == 3
    assert session.exec(select(Notice.status).order_by(col(Notice.id))).all() == ["sent"] * 3
