"""Week 16 in a real browser: the lecturer publishes, supersedes with a reason, builds the programme and runs the
timer by keyboard; students see their slot or their board. Screenshots under test-artifacts/screenshots/."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.models import User
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


def _course(session: Session) -> tuple[int, dict[str, User]]:
    lecturer = make_user(session, username="lecturer", name="Lena Lecturer", password=PASSWORD, admin=True)
    course = make_course(session, lecturer=lecturer, code="DL2026", presentation_slots=3)
    ta = make_staff(session, course, name="Tess Assistant")
    people = {"lecturer": lecturer}
    for i, (name, score) in enumerate((("Ants", 91), ("Bees", 85), ("Cats", 80), ("Dogs", 70), ("Eels", 60))):
        first = make_student(session, course, username=f"s{i + 1:02d}", name=f"{name} Lead", password=PASSWORD)
        group = make_group(
            session,
            course,
            name=name,
            members=[first, *(make_student(session, course, name=f"{name} {j}") for j in (2, 3))],
        )
        make_review(
            session,
            make_submission(session, group, "report", received_at=REPORT_DUE - timedelta(hours=5)),
            ta,
            float(score),
        )
        people[name] = first
    session.commit()
    return course.id or 0, people


def _run(page: Any, course_id: int) -> None:
    page.goto(f"/ui/courses/{course_id}/selection")
    page.get_by_label("Presenting groups").fill("3")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("status")).to_have_text("The selection ran; this is its ranking.")


def test_the_lecturer_supersedes_builds_the_programme_and_times_talks_and_students_see_slot_and_board(
    page: Any, session: Session, clock: FakeClock
) -> None:
    course_id, _people = _course(session)
    clock.set(datetime(2026, 12, 21, 2, 0, tzinfo=UTC))
    log_in(page, "lecturer")
    _run(page, course_id)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile(r"^Publish run")).click()
    expect(page.locator("#in-force")).to_contain_text("In force: run 1")

    _run(page, course_id)
    page.get_by_label("Group to add").select_option(label="4. Dogs")
    page.get_by_label("Group to remove").select_option(label="3. Cats")
    page.get_by_label("Reason", exact=True).fill("Cats present at NeurIPS that week.")
    page.get_by_role("button", name="Swap").click()
    expect(page.locator("#would-change")).to_have_text("Cats, Dogs")
    page.get_by_label("Reason for replacing run 1").fill("Cats present at NeurIPS that week.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Replace run 1 with run 2").click()
    expect(page.locator("#supersedes")).to_have_text(
        "Replaced run 1: Cats present at NeurIPS that week.. Deliverable changed for: Cats, Dogs."
    )
    expect(page.locator("#in-force")).to_contain_text("In force: run 2")
    assert page.get_by_role("navigation", name="Runs").inner_text().split("\n") == [
        "Run 2 · in force",
        "Run 1 · superseded",
    ]
    screenshot(page, "selection-superseded")

    page.get_by_role("link", name="Week-16 programme").first.click()
    page.get_by_label("Date").fill("2026-12-22")
    page.get_by_label("Start (Asia/Shanghai)").fill("14:00")
    page.get_by_label("Room").fill("Hall 1")
    page.get_by_role("button", name="Add session").click()
    expect(page.get_by_role("status")).to_have_text("Session added.")
    page.get_by_role("button", name="Place the talks").click()
    page.get_by_role("button", name="Move Ants later").click()
    expect(page.get_by_role("status")).to_have_text("Talk moved.")
    rows = [r.split("\t")[:3] for r in page.locator("table.talks tbody tr").all_inner_texts()]
    assert rows == [
        ["1", "2026-12-22 14:00 (UTC+08:00) – 2026-12-22 14:10 (UTC+08:00)", "Bees"],
        ["2", "2026-12-22 14:12 (UTC+08:00) – 2026-12-22 14:22 (UTC+08:00)", "Ants"],
        ["3", "2026-12-22 14:24 (UTC+08:00) – 2026-12-22 14:34 (UTC+08:00)", "Dogs"],
    ]
    page.get_by_role("button", name="Publish the programme").click()
    expect(page.get_by_role("status")).to_contain_text("Published: students see their slot or board")
    screenshot(page, "programme")
    page.get_by_role("link", name="Poster boards").click()
    assert [r.split("\t")[:2] for r in page.locator("#boards tbody tr").all_inner_texts()] == [
        ["1", "Cats"],
        ["2", "Eels"],
    ]
    screenshot(page, "boards")

    page.goto(f"/ui/courses/{course_id}/programme")
    page.clock.install()  # the page's timers and performance.now() run on Playwright's clock
    page.get_by_role("link", name="Talk timer").click()
    expect(page.locator("#talk-group")).to_have_text("Bees")
    expect(page.locator("#clock")).to_have_text("10:00")
    page.keyboard.press("Space")
    expect(page.locator("#state")).to_have_text("Running")
    page.clock.run_for("08:30")
    expect(page.locator("#clock")).to_have_text("01:30")
    expect(page.locator("#clock")).to_have_attribute("data-phase", "warning")
    page.clock.run_for("01:40")
    expect(page.locator("#clock")).to_have_text("−00:10")
    expect(page.locator("#state")).to_have_text("Time is up")
    screenshot(page, "timer-over")
    page.keyboard.press("r")
    expect(page.locator("#clock")).to_have_text("10:00")
    page.keyboard.press("Space")
    page.clock.run_for("00:05")
    page.keyboard.press("Space")
    expect(page.locator("#state")).to_have_text("Paused")
    expect(page.locator("#clock")).to_have_text("09:55")
    page.clock.run_for("01:00")
    expect(page.locator("#clock")).to_have_text("09:55")  # paused: the countdown waits
    page.keyboard.press("n")
    expect(page.locator("#talk-group")).to_have_text("Ants")
    expect(page.locator("#talk-index")).to_have_text("2")
    expect(page.locator("#clock")).to_have_text("10:00")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#talk-group")).to_have_text("Dogs")
    page.keyboard.press("ArrowRight")  # past the last talk: stays
    expect(page.locator("#talk-index")).to_have_text("3")
    page.keyboard.press("p")
    expect(page.locator("#talk-group")).to_have_text("Ants")
    screenshot(page, "timer")

    page.goto("/ui")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "s01")
    page.get_by_role("link", name="Ants", exact=True).click()
    expect(page.locator("#your-slot")).to_have_text(
        "Your talk: 2026-12-22 14:12 (UTC+08:00) to 2026-12-22 14:22 (UTC+08:00), session in room Hall 1 (talk 2 of 3)."
    )
    screenshot(page, "student-slot")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "s03")
    page.get_by_role("link", name="Cats", exact=True).click()
    expect(page.locator("#your-board")).to_have_text("Your poster: board 1.")
    expect(page.locator("#deliverable-changed")).to_have_count(0)  # nothing was uploaded before the change
    screenshot(page, "student-board")
