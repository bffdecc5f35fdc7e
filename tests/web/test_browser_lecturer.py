"""The lecturer runs the course in a real browser: create it, import the roster, re-issue a code, move a
deadline and see the multiplier change, release marks; and a password change ends the other sessions."""

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.models import Course, Milestone, User
from tests.conftest import FakeClock
from tests.factories import (
    REPORT_DUE,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_user,
)
from tests.web.conftest import screenshot
from tests.web.test_browser import PASSWORD, log_in

pytestmark = pytest.mark.browser

ROSTER = (
    "student_no,name,email\nS2026001,Ada Lovelace,ada@example.org\nS2026002,Bo Chen,bo@example.org\n"
    "S2026003,Cy Diaz,cy@example.org\nS2026004,Dee Evans,dee@example.org\nS2026005,Eve Fox,eve@example.org\n"
    "S2026006,Fay Gil,fay@example.org\n"
)


def read_download(download: Any) -> str:
    """A downloaded text file exactly as saved (line ends kept)."""
    with open(download.path(), encoding="utf-8", newline="") as handle:
        return handle.read()


def test_the_lecturer_creates_a_course_imports_the_roster_moves_a_deadline_and_releases_marks(
    page: Any,
    session: Session,
    clock: FakeClock,
    tmp_path: Any,
) -> None:
    clock.set(REPORT_DUE + timedelta(days=3))  # web sessions last 12 hours: the whole story happens now
    make_user(session, username="lecturer", name="Lena Lecturer", password=PASSWORD, admin=True)
    session.commit()
    log_in(page, "lecturer")
    page.get_by_role("link", name="Create a course").click()
    page.get_by_label("Course code").fill("DL 2026")
    page.get_by_label("Title").fill("Deep Learning")
    page.get_by_label(re.compile("^First day of week 1")).fill("2026-09-08")
    page.get_by_role("button", name="Create course").click()
    expect(page.locator("#f-code-error")).to_have_text("Use letters, digits, '.', '_' and '-' only.")
    screenshot(page, "lecturer-new-course-errors")
    page.get_by_label("Course code").fill("DL2026")
    page.get_by_role("button", name="Create course").click()
    expect(page.locator("#f-start_date-error")).to_have_text("The start date must be a Monday; 2026-09-08 is not.")
    page.get_by_label(re.compile("^First day of week 1")).fill("2026-09-07")
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_role("status")).to_have_text("The course is created. Import its roster next.")
    course = session.exec(select(Course).where(Course.code == "DL2026")).one()
    session.commit()

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    page.get_by_label(re.compile("^Roster CSV")).set_input_files(str(roster))
    page.get_by_role("button", name="Import roster").click()
    expect(page.get_by_role("status")).to_have_text(
        "6 new accounts, 0 existing user(s) enrolled, 0 already in the course."
    )
    assert page.locator("#codes tbody tr").count() == 6
    first_code = page.locator("#codes tbody tr").first.locator("code").inner_text()
    csv_link = page.get_by_role("link", name="Download CSV")
    with page.expect_download() as download:
        csv_link.click()
    text = read_download(download.value)
    assert text.startswith("\ufeffstudent_no,name,email,username,activation_code\r\nS2026001,Ada Lovelace,")
    assert first_code in text
    screenshot(page, "lecturer-codes")

    page.get_by_role("link", name="Back to the people").click()
    assert page.locator("#members tbody tr").count() == 7
    screenshot(page, "lecturer-people")
    page.get_by_role("button", name="New activation code for s2026001").click()
    expect(page.get_by_role("status")).to_have_text("A new code for Ada Lovelace; earlier unused codes no longer work.")
    new_code = page.locator("#codes tbody code").inner_text()
    assert new_code != first_code

    students = {u.username: u for u in session.exec(select(User).where(User.username.startswith("s2026")))}
    ta = make_staff(session, course, name="Tess Assistant")
    owls = make_group(session, course, name="Owls", members=[students[f"s202600{i}"] for i in (1, 2, 3)])
    bats = make_group(session, course, name="Bats", members=[students[f"s202600{i}"] for i in (4, 5, 6)])
    late = make_submission(session, owls, "report", received_at=REPORT_DUE + timedelta(hours=30))
    on_time = make_submission(session, bats, "report", received_at=REPORT_DUE - timedelta(hours=1))
    make_review(session, late, ta, 80)
    session.commit()

    page.goto(f"/ui/courses/{course.id}/milestones/report")
    assert page.locator("tr[data-group] td:nth-child(7)").all_inner_texts() == ["1.00", "0.70"]  # Bats, Owls
    page.goto(f"/ui/courses/{course.id}/settings")
    page.get_by_label(re.compile("^Smallest group")).fill("6")
    page.get_by_label(re.compile("^Late tiers")).fill("24 0.9\n72 nine tenths\nany 0.5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#f-late_tiers-error")).to_have_text(
        "Line 2: write the hours late (or 'any') and the multiplier, e.g. '24 0.9' (a multiplier between 0 and 1)."
    )
    assert page.get_by_label(re.compile("^Late tiers")).input_value() == "24 0.9\n72 nine tenths\nany 0.5"
    page.get_by_label(re.compile("^Late tiers")).fill("24 0.9\n72 0.7\nany 0.5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#f-min_group_size-error")).to_have_text("The minimum group size exceeds the maximum.")
    page.get_by_label(re.compile("^Smallest group")).fill("3")
    page.locator("#f-report\\.due_at").fill("2026-12-22T23:59")
    screenshot(page, "lecturer-settings")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    assert page.locator("#f-report\\.due_at").input_value() == "2026-12-22T23:59"

    page.goto(f"/ui/courses/{course.id}/milestones/report")
    assert page.locator("tr[data-group] td:nth-child(7)").all_inner_texts() == ["1.00", "1.00"]

    page.goto(f"/ui/courses/{course.id}/marking")
    expect(page.get_by_test_id("release-warning-report")).to_have_text("Reviews missing for 1 group: Bats.")
    screenshot(page, "lecturer-marking")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#ms-report").get_by_role("button", name=re.compile("^Release marks")).click()
    expect(page.get_by_role("status")).to_have_text("Marks released: students now see their marks and reviews.")
    released = session.exec(
        select(Milestone.marks_released_at).where(Milestone.course_id == course.id, Milestone.key == "report")
    ).one()
    assert released == REPORT_DUE + timedelta(days=3)
    session.commit()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download marks.csv").click()
    marks = read_download(download.value)
    assert marks.startswith("\ufeffstudent_no,name,group,")
    assert "\nS2026001,Ada Lovelace,Owls,,,0.00,80.00,1.00,80.00," in marks
    del on_time

    page.goto(f"/ui/courses/{course.id}/audit")
    page.get_by_label("Action").select_option("activation.reissue")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("#audit tbody tr").count() == 1
    assert page.locator("#audit tbody tr td").nth(1).inner_text() == "lecturer"
    screenshot(page, "lecturer-audit")


def test_a_password_change_ends_the_other_session(page: Any, chromium: Any, live_server: str, session: Session) -> None:
    course = make_course(session, code="DL2026")
    make_student(session, course, username="s01", name="Ada Student", password=PASSWORD)
    session.commit()
    other = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    phone = other.new_page()
    log_in(phone, "s01")
    log_in(page, "s01")
    page.get_by_role("link", name=re.compile("change the password")).click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label(re.compile("^New password \\(")).fill("a-much-better-one")
    page.get_by_label("New password again").fill("a-different-one")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#repeat_password-error")).to_have_text(
        "The two new passwords differ; type the same one twice."
    )
    screenshot(page, "account-errors")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label(re.compile("^New password \\(")).fill("a-much-better-one")
    page.get_by_label("New password again").fill("a-much-better-one")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your password is changed. Every other session and token of yours has ended."
    )
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Ada Student"  # this session goes on
    phone.reload()
    assert re.search(r"/ui/login\?next=/ui$", phone.url)  # the other one has ended
    phone.get_by_role("link", name="Activate your account").click()
    phone.get_by_label("Activation code").fill("not-a-code")
    phone.get_by_label(re.compile("^New password")).fill("long enough pw")
    phone.get_by_role("button", name="Activate").click()
    expect(phone.locator("#code-error")).to_have_text("The activation code is unknown, used or expired.")
    screenshot(phone, "activate")
    other.close()
