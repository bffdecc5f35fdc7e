"""An invitation in a real browser: a lecturer's roster line reaches another course's student, who sees it on
the start page and accepts it with the button (the form's CSRF token as every other form)."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.models import CourseMember
from app.roster.invitations import roster_import_for
from tests.conftest import FakeClock
from tests.factories import make_course, make_staff, make_student
from tests.web.conftest import screenshot
from tests.web.test_browser import PASSWORD, log_in

pytestmark = pytest.mark.browser


def test_the_invitee_sees_the_invitation_on_the_start_page_and_joins_by_accepting(
    page: Any, session: Session, clock: FakeClock
) -> None:
    ada = make_student(session, make_course(session), username="ada", name="Ada Lovelace", password=PASSWORD)
    course = make_course(session, code="DL2026")
    lecturer = make_staff(session, course, role="lecturer")
    roster_import_for(
        session,
        user=lecturer,
        course_id=course.id or 0,
        data=f"student_no,name,email\n{ada.student_no},Ada,x@y.org\n".encode(),
        now=clock(),
    )
    session.commit()
    log_in(page, "ada")
    section = page.locator("#invitations")
    expect(section.get_by_role("listitem")).to_have_text(
        re.compile(
            r"^\s*DL2026 — Deep Learning, as student\s+\(until 2026-09-15 16:00 \(UTC\+08:00\)\)\s+Accept\s+Decline\s*$"
        )
    )
    screenshot(page, "invitation")
    page.get_by_role("button", name="Accept the invitation to DL2026").click()
    expect(page.get_by_role("status")).to_have_text("You joined the course.")
    expect(page.locator("#invitations")).to_have_count(0)
    role = session.exec(
        select(CourseMember.role).where(CourseMember.course_id == course.id, CourseMember.user_id == ada.id)
    ).one()
    assert role == "student"
