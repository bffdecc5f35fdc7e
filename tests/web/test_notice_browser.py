"""Real-browser test of the notice pages: a student sets their preferences, staff retry a failed notice."""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.models import Notice, NoticeOptOut
from app.outbox.events import notice_programme_placed
from tests.conftest import FakeClock
from tests.factories import make_course, make_group, make_staff, make_student, make_user
from tests.notify.helpers import deliver
from tests.smtp import SmtpServer
from tests.web.conftest import screenshot
from tests.web.test_browser import PASSWORD, log_in

pytestmark = pytest.mark.browser


def test_a_student_sets_preferences_and_staff_retry_a_failed_notice(
    page: Any,
    session: Session,
    smtp: SmtpServer,
    clock: FakeClock,
) -> None:
    lecturer = make_user(session, admin=True, name="Lena Lecturer")
    course = make_course(session, lecturer=lecturer, code="DL2026")
    make_staff(session, course, username="ta1", name="Tess Assistant", password=PASSWORD)
    ann = make_student(session, course, username="s01", name="Ann Alpha", email="ann@example.edu", password=PASSWORD)
    ben = make_student(session, course, name="Ben Beta", email="ben@example.edu")
    group = make_group(session, course, members=[ann, ben], name="Night Owls")
    group.deliverable = "poster"
    smtp.recorder.refuse.add("ben@example.edu")
    notice_programme_placed(session, course=course, group=group, place="Board 3", starts_at=None, now=clock())
    session.commit()
    stats = deliver(clock())
    assert (stats.sent, stats.failed) == (1, 1)

    log_in(page, "s01")
    page.get_by_role("link", name="Ann Alpha").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email notices")
    expect(page.locator("#sent tbody tr")).to_have_count(1)
    expect(page.locator("#sent tbody tr").first).to_contain_text("DL2026: your poster board")
    reminders = page.get_by_label("Deadline reminders (48 h and 24 h before a deadline)")
    expect(reminders).to_be_checked()
    reminders.uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_have_text("Your email preferences are saved.")
    expect(page.get_by_label("Deadline reminders (48 h and 24 h before a deadline)")).not_to_be_checked()
    expect(
        page.get_by_label("Weekly digest for staff (what arrived, what is late, what is unreviewed)")
    ).to_be_checked()
    screenshot(page, "account-notices")
    assert session.exec(select(NoticeOptOut.user_id, NoticeOptOut.kind)).all() == [(ann.id, "reminder")]
    session.rollback()

    page.context.clear_cookies()
    log_in(page, "ta1")
    page.get_by_role("link", name="DL2026 — Deep Learning").click()
    page.get_by_role("link", name="Email outbox").click()
    page.get_by_role("link", name="Failed (1)").click()
    row = page.locator("#outbox tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ben@example.edu: 550 5.1.1 No such mailbox here")
    screenshot(page, "outbox-failed")
    smtp.recorder.refuse.clear()
    page.get_by_role("button", name="Retry the notice to ben@example.edu").click()
    expect(page.get_by_role("status")).to_have_text(
        "The notice is queued again; the sender delivers it on its next round."
    )
    assert deliver(clock()).sent == 1
    page.reload()
    page.get_by_role("link", name="Sent (2)").click()
    expect(page.locator("#outbox tbody tr")).to_have_count(2)
    assert [m.rcpt_tos for m in smtp.messages] == [["ann@example.edu"], ["ben@example.edu"]]
    assert session.exec(select(Notice.status)).all() == ["sent", "sent"]
