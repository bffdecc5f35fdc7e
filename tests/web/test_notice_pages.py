"""The notice pages without a browser: preferences, what was sent, the outbox and its retry button."""

from html import unescape

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, NoticeOptOut
from app.notify.service import MSG_NO_SMTP
from app.outbox.events import notice_programme_placed
from tests.conftest import FakeClock
from tests.notify.helpers import cast, deliver
from tests.smtp import SmtpServer
from tests.web.helpers import text_of, web_login


def test_a_student_turns_reminders_off_and_reads_what_was_sent(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    c.group.deliverable = "slides"
    notice_programme_placed(session, course=c.course, group=c.group, place="Slot 4", starts_at=None, now=clock())
    session.commit()
    assert deliver(clock()).sent == 3
    csrf = web_login(client, session, c.students[0])
    page = client.get("/ui/account/notices")
    assert page.status_code == 200
    text = unescape(text_of(page.text))
    assert "DL2026: your presentation slot" in text
    assert "Night Owls's presentation slot in week 16: Slot 4" in text
    assert page.text.count('type="checkbox" name="kinds"') == 2
    assert page.text.count(" checked>") == 2
    saved = client.post("/ui/account/notices", data={"csrf_token": csrf, "kinds": ["digest"]}, follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, "/ui/account/notices?saved=preferences")
    assert session.exec(select(NoticeOptOut.user_id, NoticeOptOut.kind)).all() == [(c.students[0].id, "reminder")]
    assert session.exec(select(AuditEvent.action)).all()[-1] == "notice.preferences"
    session.rollback()
    assert "Your email preferences are saved." in client.get("/ui/account/notices?saved=preferences").text
    forged = client.post("/ui/account/notices", data={"csrf_token": "x", "kinds": []})
    assert forged.status_code == 403


def test_staff_see_the_outbox_and_retry_a_failed_notice(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    smtp.recorder.refuse.add("cai@dl2026.example.edu")
    c.group.deliverable = "poster"
    notice_programme_placed(session, course=c.course, group=c.group, place="Board 9", starts_at=None, now=clock())
    session.commit()
    assert deliver(clock()).failed == 1
    csrf = web_login(client, session, c.ta)
    page = client.get(f"/ui/courses/{c.course.id}/outbox?status=failed")
    assert page.status_code == 200
    text = unescape(text_of(page.text))
    assert "Failed (1)" in text and "Sent (2)" in text
    assert (
        "Cai Gamma <cai@dl2026.example.edu> DL2026: your poster board failed 1 "
        "cai@dl2026.example.edu: 550 5.1.1 No such mailbox here Retry" in text
    )
    assert MSG_NO_SMTP not in text
    notice_id = int(page.text.split('action="/ui/notices/')[1].split("/")[0])
    smtp.recorder.refuse.clear()
    retried = client.post(f"/ui/notices/{notice_id}/retry", data={"csrf_token": csrf}, follow_redirects=False)
    assert (retried.status_code, retried.headers["location"]) == (303, f"/ui/courses/{c.course.id}/outbox?saved=retry")
    assert deliver(clock()).sent == 1
    assert [m.subject for m in smtp.to("cai@dl2026.example.edu")] == ["DL2026: your poster board"]
    web_login(client, session, c.students[0])
    assert client.get(f"/ui/courses/{c.course.id}/outbox").status_code == 403
    assert client.post(f"/ui/notices/{notice_id}/retry", data={"csrf_token": csrf}).status_code == 403


def test_the_outbox_page_says_when_email_is_not_configured(client: TestClient, session: Session) -> None:
    c = cast(session)
    web_login(client, session, c.lecturer)
    assert MSG_NO_SMTP in client.get(f"/ui/courses/{c.course.id}/outbox").text
