"""The notices API: what was sent to me, and who may see a course's outbox or retry its notices."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Notice
from app.outbox.events import notice_programme_placed
from tests.conftest import FakeClock
from tests.factories import auth
from tests.notify.helpers import cast, deliver
from tests.smtp import SmtpServer


def test_a_user_lists_and_reads_only_their_sent_notices(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    c.group.deliverable = "slides"
    notice_programme_placed(session, course=c.course, group=c.group, place="Slot 5", starts_at=None, now=clock())
    session.commit()
    ann, ben = auth(session, c.students[0]), auth(session, c.students[1])
    assert client.get("/api/v1/me/notices", headers=ann).json() == []  # written, not sent yet
    deliver(clock())
    [mine] = client.get("/api/v1/me/notices", headers=ann).json()
    assert mine == {
        "id": mine["id"],
        "kind": "programme_placed",
        "subject": "DL2026: your presentation slot",
        "to_address": "ann@dl2026.example.edu",
        "sent_at": "2026-09-01T08:00:00Z",
    }
    detail = client.get(f"/api/v1/me/notices/{mine['id']}", headers=ann).json()
    assert detail["body_text"].splitlines()[2] == "Night Owls's presentation slot in week 16: Slot 5"
    assert "<strong>Slot 5</strong>" in detail["body_html"]
    other = client.get(f"/api/v1/me/notices/{mine['id']}", headers=ben)
    assert (other.status_code, other.json()) == (404, {"error": "not_found", "detail": "No such notice."})
    assert client.get("/api/v1/me/notices/99999999999", headers=ann).status_code == 404
    assert client.get("/api/v1/me/notices").status_code == 401


def test_who_sees_the_outbox_and_retries(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    other = cast(session, code="CV2026")
    smtp.recorder.refuse.add("ann@dl2026.example.edu")
    c.group.deliverable = "poster"
    notice_programme_placed(session, course=c.course, group=c.group, place="Board 2", starts_at=None, now=clock())
    session.commit()
    deliver(clock())
    failed_id = session.exec(select(Notice.id).where(Notice.status == "failed")).one()
    session.rollback()
    url = f"/api/v1/courses/{c.course.id}/outbox"
    callers = {
        "anonymous": {},
        "member": auth(session, c.students[0]),
        "other staff": auth(session, other.ta),
        "ta": auth(session, c.ta),
        "lecturer": auth(session, c.lecturer),
    }
    assert {who: client.get(url, headers=h).status_code for who, h in callers.items()} == {
        "anonymous": 401,
        "member": 403,
        "other staff": 404,
        "ta": 200,
        "lecturer": 200,
    }
    assert client.get(url, headers=callers["ta"], params={"status": "lost"}).status_code == 422
    retry = f"/api/v1/notices/{failed_id}/retry"
    assert {
        who: client.post(retry, headers=callers[who]).status_code
        for who in ("anonymous", "member", "other staff", "lecturer")
    } == {"anonymous": 401, "member": 404, "other staff": 404, "lecturer": 200}
    assert session.exec(
        select(AuditEvent.action, AuditEvent.before).where(AuditEvent.action == "notice.retry")
    ).all() == [
        (
            "notice.retry",
            {"status": "failed", "attempts": 1, "last_error": "ann@dl2026.example.edu: 550 5.1.1 No such mailbox here"},
        )
    ]
