"""Reminders and digests the sender computes: moved deadlines move them, each is written once, opt-outs hold."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.db import get_engine
from app.models import Notice
from app.notify.schedule import digests_schedule, reminders_schedule
from tests.factories import PROPOSAL_DUE as DUE
from tests.factories import auth, make_group, make_review, make_student, make_submission
from tests.notify.helpers import FOOTER, PUBLIC, cast, deliver
from tests.smtp import SmtpServer


def remind(now: datetime) -> int:
    """One reminder pass of the sender at `now`, committed."""
    with Session(get_engine()) as s:
        written = reminders_schedule(s, now=now)
        s.commit()
    return written


def digest(now: datetime) -> int:
    """One digest pass of the sender at `now`, committed."""
    with Session(get_engine()) as s:
        written = digests_schedule(s, now=now)
        s.commit()
    return written


def _reminder_lines(name: str, deadline: str, group_id: int, *, extra: list[str]) -> list[str]:
    return [
        f"Hello {name},",
        "",
        f"Proposal for Night Owls is due {deadline}.",
        *extra,
        f"Your group's page: {PUBLIC}/ui/groups/{group_id}/status",
        "",
        f"You can turn these emails off on your account page: {PUBLIC}/ui/account/notices",
        *FOOTER,
    ]


def test_a_moved_deadline_moves_the_reminders(client: TestClient, session: Session, smtp: SmtpServer) -> None:
    c = cast(session)
    assert remind(DUE - timedelta(hours=49)) == 0
    moved = client.patch(
        f"/api/v1/courses/{c.course.id}/milestones/proposal",
        headers=auth(session, c.lecturer),
        json={"due_at": "2026-11-04T23:59:00+08:00"},
    )
    assert moved.status_code == 200
    new_due = DUE + timedelta(days=3)
    assert remind(DUE - timedelta(hours=47)) == 0  # the old 48 h reminder would be due now
    assert remind(new_due - timedelta(hours=47)) == 3
    assert remind(new_due - timedelta(hours=30)) == 0  # written once per group, milestone and threshold
    assert deliver(new_due - timedelta(hours=30)).sent == 3
    ann = smtp.to("ann@dl2026.example.edu")[0]
    assert ann.subject == "DL2026: Proposal due in 48 hours"
    assert ann.lines == _reminder_lines(
        "Ann Alpha",
        "2026-11-04 23:59 (UTC+08:00)",
        c.group.id or 0,
        extra=["Your group has not uploaded a version yet."],
    )
    assert str(ann.message["List-Unsubscribe"]) == f"<{PUBLIC}/ui/account/notices>"
    assert remind(new_due - timedelta(hours=23)) == 3
    assert deliver(new_due - timedelta(hours=23)).sent == 3
    assert [m.subject for m in smtp.to("cai@dl2026.example.edu")] == [
        "DL2026: Proposal due in 48 hours",
        "DL2026: Proposal due in 24 hours",
    ]
    assert remind(new_due + timedelta(minutes=1)) == 0


def test_an_extension_moves_its_groups_reminders_and_an_upload_stops_them(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
) -> None:
    c = cast(session)
    done = make_group(
        session,
        c.course,
        name="Early Birds",
        members=[make_student(session, c.course, email="early@dl2026.example.edu")],
    )
    make_submission(session, done, "proposal", received_at=DUE - timedelta(days=3))
    session.commit()
    granted = client.post(
        f"/api/v1/groups/{c.group.id}/extensions",
        headers=auth(session, c.ta),
        json={"milestone": "proposal", "due_at": "2026-11-03T23:59:00+08:00", "reason": "Ill"},
    )
    assert granted.status_code in (200, 201)
    assert remind(DUE - timedelta(hours=47)) == 0
    assert remind(DUE + timedelta(hours=2)) == 3  # 46 h before the extended deadline
    assert deliver(DUE + timedelta(hours=2)).sent == 3 + 3  # three extension notices, three reminders
    assert smtp.to("early@dl2026.example.edu") == []
    reminder = smtp.to("ben@dl2026.example.edu")[-1]
    assert reminder.lines[2] == "Proposal for Night Owls is due 2026-11-03 23:59 (UTC+08:00) (your group's extension)."


def test_a_rejected_graded_version_is_reminded_with_its_errors(session: Session, smtp: SmtpServer) -> None:
    c = cast(session)
    make_submission(
        session,
        c.group,
        "proposal",
        received_at=DUE - timedelta(days=3),
        verdict="reject",
        errors=["page-limit", "columns"],
    )
    session.commit()
    assert remind(DUE - timedelta(hours=20)) == 3
    assert deliver(DUE - timedelta(hours=20)).sent == 3
    ann = smtp.to("ann@dl2026.example.edu")[0]
    assert ann.subject == "DL2026: Proposal due in 24 hours"
    assert ann.lines == _reminder_lines(
        "Ann Alpha",
        "2026-11-01 23:59 (UTC+08:00)",
        c.group.id or 0,
        extra=[
            "Your graded version 1 has format errors: page-limit, columns.",
            "Upload a corrected version before the deadline.",
        ],
    )


def test_an_opt_out_is_respected_when_written_and_when_sent(
    client: TestClient,
    session: Session,
    smtp: SmtpServer,
) -> None:
    c = cast(session)
    ben, cai = (auth(session, s) for s in c.students[1:])
    assert client.get("/api/v1/me/notice-preferences", headers=ben).json() == {"reminder": True, "digest": True}
    off = client.patch("/api/v1/me/notice-preferences", headers=ben, json={"reminder": False})
    assert (off.status_code, off.json()) == (200, {"reminder": False, "digest": True})
    receipts = client.patch("/api/v1/me/notice-preferences", headers=ben, json={"receipt": False})
    assert (receipts.status_code, receipts.json()["error"], receipts.json()["field"]) == (422, "invalid", "receipt")
    assert remind(DUE - timedelta(hours=47)) == 2
    # Cai turns reminders off after the reminder was written: the sender skips it.
    assert client.patch("/api/v1/me/notice-preferences", headers=cai, json={"reminder": False}).status_code == 200
    assert deliver(DUE - timedelta(hours=47)).sent == 1
    assert [r for m in smtp.messages for r in m.rcpt_tos] == ["ann@dl2026.example.edu"]
    skipped = session.exec(
        select(Notice.to_address, Notice.status, Notice.last_error).where(Notice.status == "skipped")
    ).all()
    assert skipped == [("cai@dl2026.example.edu", "skipped", "Not sent: the user turned this kind of notice off.")]
    session.rollback()
    assert client.patch("/api/v1/me/notice-preferences", headers=ben, json={"reminder": True}).json() == {
        "reminder": True,
        "digest": True,
    }
    assert remind(DUE - timedelta(hours=23)) == 2  # Ann and Ben again; Cai still off


def test_a_reminder_for_a_passed_deadline_is_not_sent(session: Session, smtp: SmtpServer) -> None:
    cast(session)
    assert remind(DUE - timedelta(hours=5)) == 3
    assert deliver(DUE + timedelta(seconds=1)).sent == 0  # the sender was down until after the deadline
    assert session.exec(select(Notice.status).distinct()).all() == ["skipped"]


def test_the_weekly_digest_for_staff(client: TestClient, session: Session, smtp: SmtpServer) -> None:
    c = cast(session)
    larks = make_group(session, c.course, name="Larks", members=[make_student(session, c.course)])
    wrens = make_group(session, c.course, name="Wrens", members=[make_student(session, c.course)])
    make_submission(session, c.group, "proposal", received_at=DUE + timedelta(hours=12))  # late, unreviewed
    on_time = make_submission(session, wrens, "proposal", received_at=DUE - timedelta(days=5))
    make_review(session, on_time, c.ta, 70)
    session.commit()
    assert larks.id
    monday = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert digest(monday - timedelta(minutes=1)) == 2  # the week before's, late in that week
    assert deliver(monday - timedelta(minutes=1)).sent == 2
    assert (
        client.patch("/api/v1/me/notice-preferences", headers=auth(session, c.ta), json={"digest": False}).status_code
        == 200
    )
    assert digest(monday) == 1
    assert digest(monday + timedelta(days=3)) == 0
    assert deliver(monday + timedelta(days=3)).sent == 1
    lena = smtp.to("lena@dl2026.example.edu")[-1]
    assert lena.subject == "DL2026: weekly digest, 2026-11-02 08:00 (UTC+08:00) to 2026-11-09 08:00 (UTC+08:00)"
    base = f"{PUBLIC}/ui/courses/{c.course.id}/milestones"
    assert lena.lines == [
        "Hello Lena Lecturer,",
        "",
        "What happened in DL2026 in the last 7 days.",
        "",
        "Proposal (due 2026-11-01 23:59 (UTC+08:00)):",
        "  Arrived: 1 version(s) from 1 group(s)",
        f"  Late: 1 group(s): {base}/proposal?filter=late",
        f"  Missing after the deadline: 1 group(s): {base}/proposal?filter=missing",
        f"  Unreviewed: 1 group(s): {base}/proposal?filter=unreviewed",
        "",
        "Report (due 2026-12-20 23:59 (UTC+08:00)):",
        "  Arrived: 0 version(s) from 0 group(s)",
        "  Late: 0 group(s)",
        "  Missing after the deadline: 0 group(s)",
        "  Unreviewed: 0 group(s)",
        "",
        "Presentation or poster (due 2026-12-27 23:59 (UTC+08:00)):",
        "  Arrived: 0 version(s) from 0 group(s)",
        "  Late: 0 group(s)",
        "  Missing after the deadline: 0 group(s)",
        "  Unreviewed: 0 group(s)",
        "",
        f"You can turn these emails off on your account page: {PUBLIC}/ui/account/notices",
        *FOOTER,
    ]
    assert f'<a href="{base}/proposal?filter=late">1</a>' in lena.part("html")
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "lena@dl2026.example.edu",
        "lena@dl2026.example.edu",
        "tess@dl2026.example.edu",
    ]
    assert session.exec(select(Notice.kind).distinct().order_by(col(Notice.kind))).all() == ["digest"]
