"""The whole student path in a real browser: form a group, join it, propose the topic, have it approved,
upload a failing PDF by drag and drop, see its report with the page picture, check and upload a fixed one."""

import base64
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app.groups.service import group_join
from app.models import ProjectGroup, Submission
from tests.conftest import FakeClock
from tests.factories import make_course, make_group, make_staff, make_student, make_user
from tests.formatcheck.formatcheck_pdfs import Paper, References, build_paper, filler, proposal_blocks
from tests.web.conftest import screenshot
from tests.web.test_browser import PASSWORD, log_in

pytestmark = pytest.mark.browser

BEFORE_PROPOSAL_DUE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)  # the proposal is due at 15:59 UTC (23:59 +08:00)


def failing_proposal() -> bytes:
    """A proposal whose plan runs onto page 3, where only references may stand: `body-pages`."""
    return build_paper(Paper([*proposal_blocks()[:-1], *filler(14, 6), References(8)]))


def drop_file(page: Any, selector: str, name: str, data: bytes) -> None:
    """Drop a PDF onto an element as a user dragging it from their files would."""
    page.evaluate(
        """([selector, name, b64]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: "application/pdf"}));
        const target = document.querySelector(selector);
        target.dispatchEvent(new DragEvent("dragenter", {bubbles: true, dataTransfer: transfer}));
        target.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: transfer}));
    }""",
        [selector, name, base64.b64encode(data).decode()],
    )


def picture_loaded(page: Any, test_id: str) -> bool:
    """Whether the picture was served and decoded (an image that failed to load has no natural width)."""
    image = page.get_by_test_id(test_id)
    image.scroll_into_view_if_needed()
    page.wait_for_function("id => document.querySelector(`[data-testid='${id}']`).complete", arg=test_id)
    return bool(image.evaluate("img => img.naturalWidth === 600"))


def test_students_form_a_group_propose_and_submit_with_a_fixed_second_version(
    page: Any,
    chromium: Any,
    live_server: str,
    session: Session,
    clock: FakeClock,
    tmp_path: Any,
) -> None:
    clock.set(BEFORE_PROPOSAL_DUE)
    course = make_course(session, lecturer=make_user(session, admin=True), code="DL2026")
    make_student(session, course, username="s01", name="Ada Student", password=PASSWORD)
    make_student(session, course, username="s02", name="Bob Student", password=PASSWORD)
    cy = make_student(session, course, name="Cy Student")
    make_staff(session, course, username="ta1", name="Tess Assistant", password=PASSWORD)
    session.commit()

    log_in(page, "s01")
    page.get_by_role("link", name=re.compile("create or join a group")).click()
    screenshot(page, "student-start")
    page.get_by_label("Group name").fill("Owls")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("status")).to_have_text("Your group is created. Share its join code with your team mates.")
    code = page.get_by_test_id("join-code").inner_text()
    group = session.exec(select(ProjectGroup).where(ProjectGroup.name == "Owls")).one()
    assert code == group.join_code
    session.commit()

    other = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    bob = other.new_page()
    log_in(bob, "s02")
    bob.get_by_role("link", name=re.compile("create or join a group")).click()
    bob.get_by_label("Join code").fill("WRONG123")
    bob.get_by_role("button", name="Join group").click()
    expect(bob.locator("#code-error")).to_have_text("No group of this course has this join code.")
    assert bob.get_by_label("Join code").get_attribute("aria-invalid") == "true"
    screenshot(bob, "student-join-error")
    bob.get_by_label("Join code").fill(code.lower())
    bob.get_by_role("button", name="Join group").click()
    expect(bob.get_by_role("status")).to_have_text("You joined the group.")
    assert bob.get_by_test_id("members").inner_text() == "Ada Student, Bob Student"
    other.close()
    group_join(session, user=cy, course_id=course.id or 0, code=code, now=BEFORE_PROPOSAL_DUE)
    session.commit()

    page.reload()
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save topic").click()
    expect(page.locator("#title-error")).to_have_text("The title may not be blank.")
    page.get_by_label("Title").fill("Counting owls in night-time camera traps")
    page.get_by_label("Area").select_option("computer vision")
    page.get_by_label(re.compile("^Summary")).fill("Detect and count owls in infrared video with a small CNN.")
    page.get_by_role("button", name="Save topic").click()
    expect(page.get_by_role("status")).to_have_text("Topic saved. The course staff will approve or reject it.")
    assert page.get_by_test_id("topic-status").inner_text() == "proposed"

    staff = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    tess = staff.new_page()
    log_in(tess, "ta1")
    tess.goto(f"/ui/groups/{group.id}?milestone=proposal")
    tess.get_by_label("Approve").check()
    tess.get_by_label(re.compile("^Decision comment")).fill("Good scope; mind the night-time label noise.")
    tess.get_by_role("button", name="Save decision").click()
    expect(tess.get_by_role("status")).to_have_text("Topic decision saved.")
    staff.close()

    page.reload()
    assert page.get_by_test_id("topic-status").inner_text() == "approved"
    # The deadline in course time, and in the reader's (the browser is in Berlin), written the same way.
    assert page.locator("#m-proposal dd").first.inner_text() == (
        "2026-11-01 23:59 (UTC+08:00) (your time: 2026-11-01 16:59 (UTC+01:00))"
    )
    assert "Good scope; mind the night-time label noise." in page.locator("#topic").inner_text()
    drop_file(page, "#m-proposal [data-drop]", "proposal.pdf", failing_proposal())
    assert page.locator("#file-proposal").evaluate("input => input.files[0].name") == "proposal.pdf"
    page.locator("#m-proposal").get_by_role("button", name="Upload as a new version").click()
    expect(page.get_by_role("status")).to_have_text("Upload stored. Its format report is below.")
    v1 = page.get_by_test_id("version-proposal-1")
    expect(v1).to_contain_text("body-pages Page 3 holds the Project Plan; only references may follow page 2.")
    assert picture_loaded(page, "picture-body-pages-3")
    assert page.get_by_test_id("status-proposal").inner_text() == "on time (v1 counts)"
    screenshot(page, "student-group")

    fixed = tmp_path / "proposal-v2.pdf"
    fixed.write_bytes(build_paper(Paper(proposal_blocks())))
    page.locator("#file-proposal").set_input_files(str(fixed))
    page.locator("#m-proposal").get_by_role("button", name="Check without submitting").click()
    expect(page.locator("#check-proposal")).to_contain_text("Check of proposal-v2.pdf accept")
    expect(page.locator("#check-proposal")).to_contain_text("No format problems found.")
    assert session.exec(select(Submission.version)).all() == [1]  # a check stores nothing
    session.commit()
    screenshot(page, "student-check")

    clock.set(datetime(2026, 11, 1, 15, 0, tzinfo=UTC))  # 59 minutes before the deadline
    page.locator("#file-proposal").set_input_files(str(fixed))
    with page.expect_navigation():
        page.locator("#m-proposal").get_by_role("button", name="Upload as a new version").click()
    expect(page.get_by_role("status")).to_have_text("Upload stored. Its format report is below.")
    assert page.get_by_test_id("status-proposal").inner_text() == "on time (v2 counts)"
    expect(page.get_by_test_id("version-proposal-2")).to_contain_text(
        "v2 · proposal-v2.pdf · 2026-11-01 23:00 (UTC+08:00) · accept · on time, × 1.00"
    )
    rows = session.exec(select(Submission.version, Submission.verdict).order_by(col(Submission.version))).all()
    assert rows == [(1, "reject"), (2, "accept")]


def test_a_refused_upload_says_why_next_to_the_field_and_keeps_nothing(
    page: Any,
    session: Session,
    clock: FakeClock,
) -> None:
    clock.set(BEFORE_PROPOSAL_DUE)
    course = make_course(session, code="DL2026")
    ada = make_student(session, course, username="s01", name="Ada Student", password=PASSWORD)
    group = make_group(
        session, course, name="Owls", members=[ada, make_student(session, course), make_student(session, course)]
    )
    session.commit()
    log_in(page, "s01")
    page.goto(f"/ui/groups/{group.id}/status")
    drop_file(page, "#m-proposal [data-drop]", "proposal.pdf", build_paper(Paper(proposal_blocks())))
    page.locator("#m-proposal").get_by_role("button", name="Upload as a new version").click()
    expect(page.locator("#file-proposal-error")).to_have_text(
        "The proposal can be submitted once the group's topic is approved."
    )
    page.locator("#file-proposal").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a pdf"}]
    )
    page.locator("#m-proposal").get_by_role("button", name="Upload as a new version").click()
    expect(page.locator("#file-proposal-error")).to_have_text("Only PDF files are accepted.")
    screenshot(page, "student-upload-refused")
    assert session.exec(select(Submission)).all() == []
