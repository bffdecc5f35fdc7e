"""Each event's notice through a real SMTP server: exact recipients, subject and body lines."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Notice
from app.notify.sender import SECRET_REMOVED
from app.outbox.events import (
    notice_account_disabled,
    notice_password_changed,
    notice_programme_placed,
    notice_selection_published,
)
from tests.conftest import FakeClock
from tests.factories import auth, make_group, make_review, make_student, make_submission, make_topic
from tests.notify.helpers import FOOTER, PUBLIC, cast, deliver
from tests.smtp import SmtpServer
from tests.submissions.pdfs import tiny_pdf

RECEIVED = datetime(2026, 10, 30, 4, 0, tzinfo=UTC)  # Friday 12:00 in Shanghai, before the proposal deadline
STUDENTS = ["ann@dl2026.example.edu", "ben@dl2026.example.edu", "cai@dl2026.example.edu"]


def _rcpts(smtp: SmtpServer) -> list[str]:
    return sorted(r for m in smtp.messages for r in m.rcpt_tos)


def test_upload_receipt_goes_to_every_member_with_hash_lateness_and_findings(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    make_topic(session, c.group)
    session.commit()
    clock.set(RECEIVED + timedelta(days=3))  # 12 h 1 min after the proposal deadline
    data = tiny_pdf()
    response = client.post(
        f"/api/v1/groups/{c.group.id}/milestones/proposal/submissions",
        headers=auth(session, c.students[1]),
        files={"file": ("p.pdf", data, "application/pdf")},
    )
    assert response.status_code == 201
    body = response.json()
    assert deliver(clock()).sent == 3
    assert _rcpts(smtp) == STUDENTS
    ann = smtp.to("ann@dl2026.example.edu")[0]
    assert ann.subject == "DL2026: receipt for Proposal version 1"
    assert str(ann.message["From"]) == "DL Tracker <tracker@example.edu>"
    findings = [f"Warning {w['code']}: {w['message']}" for w in body["format_report"]["warnings"]]
    assert len(findings) == 5
    assert ann.lines == [
        "Hello Ann Alpha,",
        "",
        "Night Owls uploaded Proposal. Keep this receipt.",
        "Version: 1",
        f"File: p.pdf ({len(data)} bytes)",
        f"SHA-256: {body['sha256']}",
        "Received: 2026-11-02 12:00 (UTC+08:00)",
        "Deadline: 2026-11-01 23:59 (UTC+08:00)",
        "Lateness: 12 h 1 min",
        "Multiplier: 0.9",
        "Format verdict: accept",
        *findings,
        f"Your group's page: {PUBLIC}/ui/groups/{c.group.id}/status",
        *FOOTER,
    ]
    html = ann.part("html")
    assert f"<code>{body['sha256']}</code>" in html
    assert '<tr><th align="left">Multiplier</th><td>0.9</td></tr>' in html


def test_topic_decision_with_its_comment(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    make_topic(session, c.group, status="proposed", title="Owls <at> night")
    session.commit()
    response = client.post(
        f"/api/v1/groups/{c.group.id}/topic/decision",
        headers=auth(session, c.ta),
        json={"decision": "reject", "comment": "Too broad; pick one dataset."},
    )
    assert response.status_code == 200
    assert deliver(clock()).sent == 3
    assert _rcpts(smtp) == STUDENTS
    ben = smtp.to("ben@dl2026.example.edu")[0]
    assert ben.subject == "DL2026: topic rejected for Night Owls"
    assert ben.lines == [
        "Hello Ben Beta,",
        "",
        'Your group\'s topic "Owls <at> night" is rejected.',
        "Comment: Too broad; pick one dataset.",
        "Revise the topic and propose it again.",
        f"Your group's page: {PUBLIC}/ui/groups/{c.group.id}/status",
        *FOOTER,
    ]
    assert "<strong>Owls &lt;at&gt; night</strong>" in ben.part("html")  # escaped in HTML, not in text


def test_extension_granted_changed_and_withdrawn(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    headers = auth(session, c.ta)
    url = f"/api/v1/groups/{c.group.id}/extensions"
    assert client.post(
        url, headers=headers, json={"milestone": "proposal", "due_at": "2026-11-03T23:59:00+08:00", "reason": "Illness"}
    ).status_code in (200, 201)
    assert client.post(
        url,
        headers=headers,
        json={"milestone": "proposal", "due_at": "2026-11-04T23:59:00+08:00", "reason": "Illness, longer"},
    ).status_code in (200, 201)
    assert client.delete(f"{url}/proposal", headers=headers).status_code in (200, 204)
    assert deliver(clock()).sent == 9
    cai = smtp.to("cai@dl2026.example.edu")
    assert [m.subject for m in cai] == [
        "DL2026: extension granted for Proposal",
        "DL2026: extension changed for Proposal",
        "DL2026: extension withdrawn for Proposal",
    ]
    page = f"Your group's page: {PUBLIC}/ui/groups/{c.group.id}/status"
    assert cai[0].lines == [
        "Hello Cai Gamma,",
        "",
        "Night Owls has an extension for Proposal until 2026-11-03 23:59 (UTC+08:00).",
        "Reason: Illness",
        "Your deadline is now 2026-11-03 23:59 (UTC+08:00).",
        page,
        *FOOTER,
    ]
    assert cai[1].lines == [
        "Hello Cai Gamma,",
        "",
        "The extension of Night Owls for Proposal now runs until 2026-11-04 23:59 (UTC+08:00) "
        "(it was 2026-11-03 23:59 (UTC+08:00)).",
        "Reason: Illness, longer",
        "Your deadline is now 2026-11-04 23:59 (UTC+08:00).",
        page,
        *FOOTER,
    ]
    assert cai[2].lines == [
        "Hello Cai Gamma,",
        "",
        "The extension of Night Owls for Proposal until 2026-11-04 23:59 (UTC+08:00) is withdrawn.",
        "Your deadline is now 2026-11-01 23:59 (UTC+08:00).",
        page,
        *FOOTER,
    ]


def test_marks_released_goes_to_every_student_once(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    headers = auth(session, c.lecturer)
    url = f"/api/v1/courses/{c.course.id}/milestones/proposal/release"
    assert client.post(url, headers=headers).status_code == 200
    assert client.post(url, headers=headers).status_code == 200  # releasing again tells nobody again
    assert deliver(clock()).sent == 3
    assert _rcpts(smtp) == STUDENTS
    ann = smtp.to("ann@dl2026.example.edu")[0]
    assert ann.subject == "DL2026: marks and reviews released for Proposal"
    assert ann.lines == [
        "Hello Ann Alpha,",
        "",
        "The marks and reviews for Proposal in DL2026 are released.",
        f"See your mark and your group's reviews: {PUBLIC}/ui",
        *FOOTER,
    ]


def test_selection_published_tells_each_group_its_deliverable(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    sub = make_submission(session, c.group, "report", received_at=RECEIVED)
    make_review(session, sub, c.ta, 80)
    session.commit()
    headers = auth(session, c.lecturer)
    run = client.post(
        f"/api/v1/courses/{c.course.id}/selections",
        headers=headers,
        json={"slots": 1, "normalise": False, "force": False},
    )
    assert run.status_code == 201, run.text
    assert deliver(clock()).sent == 0  # a draft run tells nobody
    assert client.post(f"/api/v1/selections/{run.json()['id']}/publish", headers=headers).status_code == 200
    assert deliver(clock()).sent == 3
    ann = smtp.to("ann@dl2026.example.edu")[0]
    assert ann.subject == "DL2026: presentation selection published"
    assert ann.lines == [
        "Hello Ann Alpha,",
        "",
        "The presentation selection of DL2026 is published.",
        "Night Owls gives a 10-minute presentation in week 16: upload the slides as a PDF.",
        f"Your group's page: {PUBLIC}/ui/groups/{c.group.id}/status",
        *FOOTER,
    ]


def test_superseded_selection_and_programme_place(session: Session, smtp: SmtpServer, clock: FakeClock) -> None:
    c = cast(session)
    c.group.deliverable = "poster"
    notice_selection_published(
        session,
        course=c.course,
        groups=[c.group],
        now=clock(),
        superseded=True,
        places={c.group.id or 0: "Board 7, Hall B"},
    )
    notice_programme_placed(
        session,
        course=c.course,
        group=c.group,
        place="Board 7, Hall B",
        starts_at=datetime(2026, 12, 24, 6, 0, tzinfo=UTC),
        now=clock(),
    )
    session.commit()
    assert deliver(clock()).sent == 6
    first, second = smtp.to("ben@dl2026.example.edu")
    page = f"Your group's page: {PUBLIC}/ui/groups/{c.group.id}/status"
    assert first.subject == "DL2026: presentation selection changed"
    assert first.lines == [
        "Hello Ben Beta,",
        "",
        "The published presentation selection of DL2026 was replaced by a new one.",
        "Night Owls makes a poster in week 16: one A0 portrait page, uploaded as a PDF.",
        "Your board: Board 7, Hall B",
        page,
        *FOOTER,
    ]
    assert second.subject == "DL2026: your poster board"
    assert second.lines == [
        "Hello Ben Beta,",
        "",
        "Night Owls's poster board in week 16: Board 7, Hall B",
        "Starts: 2026-12-24 14:00 (UTC+08:00)",
        page,
        *FOOTER,
    ]


def test_activation_codes_are_emailed_when_asked_and_blanked_once_sent(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    c = cast(session)
    roster = "student_no,name,email\nS9001,Dana Delta,dana@dl2026.example.edu\nS9002,Eli Eps,eli@dl2026.example.edu\n"
    url = f"/api/v1/courses/{c.course.id}/roster"
    response = client.post(
        url,
        params={"email_codes": "true"},
        content=roster.encode(),
        headers={**auth(session, c.lecturer), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["codes_emailed"]) == (2, 2)
    code = {a["username"]: a["code"] for a in body["activation_codes"]}["s9001"]
    assert deliver(clock()).sent == 2
    dana = smtp.to("dana@dl2026.example.edu")[0]
    assert dana.subject == "DL2026: activate your account"
    assert dana.lines == [
        "Hello Dana Delta,",
        "",
        "You are enrolled in DL2026 Deep Learning.",
        "Your username: s9001",
        f"Your activation code: {code}",
        "The code works once, until 2026-09-15 16:00 (UTC+08:00).",
        f'Choose your password with it: POST {PUBLIC}/api/v1/auth/activate with {{"code": "...", "password": "..."}}.',
        f"Then log in at {PUBLIC}/ui/login",
        *FOOTER,
    ]
    stored = session.exec(select(Notice).where(Notice.to_address == "dana@dl2026.example.edu")).one()
    assert code not in stored.body_text and code not in stored.body_html
    assert f"Your activation code: {SECRET_REMOVED}" in stored.body_text.splitlines()
    assert stored.secret is None


def test_an_import_without_the_flag_emails_nothing(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    c = cast(session)
    response = client.post(
        f"/api/v1/courses/{c.course.id}/roster",
        content=b"student_no,name,email\nS1,A,a@x.org\n",
        headers={**auth(session, c.lecturer), "Content-Type": "text/csv"},
    )
    assert (response.status_code, response.json()["codes_emailed"]) == (200, 0)
    assert deliver(clock()).sent == 0
    assert smtp.messages == []


def test_security_notices_go_even_to_a_disabled_account(session: Session, smtp: SmtpServer, clock: FakeClock) -> None:
    c = cast(session)
    ann = c.students[0]
    clock.set(datetime(2026, 10, 3, tzinfo=UTC))
    notice_password_changed(session, user=ann, now=datetime(2026, 10, 1, 9, 30, tzinfo=UTC))
    ann.is_active = False
    session.add(ann)
    notice_account_disabled(session, user=ann, now=datetime(2026, 10, 2, 9, 30, tzinfo=UTC))
    notice_password_changed(session, user=ann, now=clock())  # a disabled account gets nothing else
    session.commit()
    assert deliver(clock()).sent == 2
    changed, disabled = smtp.to("ann@dl2026.example.edu")
    assert changed.subject == "Your password was changed"
    assert changed.lines == [
        "Hello Ann Alpha,",
        "",
        f"The password of your account {ann.username} was changed at 2026-10-01 09:30 (UTC+00:00).",
        "Every other session of the account was ended.",
        "If you did not change it, contact your course staff at once.",
        *FOOTER,
    ]
    assert disabled.subject == "Your account was disabled"
    assert disabled.lines == [
        "Hello Ann Alpha,",
        "",
        f"Your account {ann.username} was disabled at 2026-10-02 09:30 (UTC+00:00); you can no longer log in.",
        "If you think this is a mistake, contact your course staff.",
        *FOOTER,
    ]


def test_users_without_an_address_are_left_out(session: Session, smtp: SmtpServer, clock: FakeClock) -> None:
    c = cast(session)
    nobody = make_student(session, c.course, name="No Mail")
    dora = make_student(session, c.course, name="Dora Delta", email="dora@dl2026.example.edu")
    group = make_group(session, c.course, members=[nobody, dora])
    group.deliverable = "slides"
    notice_programme_placed(session, course=c.course, group=group, place="Slot 3", starts_at=None, now=clock())
    session.commit()
    assert [n.to_address for n in session.exec(select(Notice))] == ["dora@dl2026.example.edu"]
