"""Real-browser tests: Debian's Chromium driven by Playwright against a live server.

A TA filters the dashboard to late groups, opens one, grants an extension and sees the
multiplier change, and writes a review; the lecturer runs, overrides and publishes the
selection; a student reads their status page and is kept out of staff pages. Each page is
saved at 1280 px and 390 px under test-artifacts/screenshots/.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app.models import ProjectGroup, Review
from tests.factories import (
    REPORT_DUE,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_student,
    make_submission,
    make_topic,
    make_user,
)
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-1"
START_PAGE = re.compile(r"^http://[^/]+/ui$")


def log_in(page: Any, username: str, *, by_keyboard: bool = False) -> None:
    """Log in through the form (by keyboard alone when asked: the field has focus, Tab, Enter)."""
    page.goto("/ui")
    assert re.search(r"/ui/login\?next=/ui$", page.url)
    if by_keyboard:
        # Type only once the autofocus has put the caret in the username field.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
    # Not the glob "**/ui": it already matches the login page's own address (…/ui/login?next=/ui),
    # so the wait returned at once and the next assertion raced the login.
    page.wait_for_url(START_PAGE)


def test_a_ta_filters_to_late_groups_grants_an_extension_and_reviews(page: Any, session: Session) -> None:
    lecturer = make_user(session, admin=True, name="Lena Lecturer")
    course = make_course(session, lecturer=lecturer, code="DL2026")
    make_staff(session, course, username="ta1", name="Tess Assistant", password=PASSWORD)
    groups = {
        name: make_group(
            session, course, name=name, members=[make_student(session, course, name=f"{name} {i}") for i in (1, 2, 3)]
        )
        for name in ("Ants", "Bees", "Cats", "Dogs")
    }
    make_topic(session, groups["Ants"], title="Night vision")
    make_topic(session, groups["Bees"], title="Reading bee dances", area="other")
    make_submission(session, groups["Ants"], "report", received_at=REPORT_DUE - timedelta(hours=3))
    make_submission(
        session,
        groups["Bees"],
        "report",
        received_at=REPORT_DUE + timedelta(hours=30),
        verdict="reject",
        errors=["page-limit"],
    )
    make_submission(session, groups["Cats"], "report", received_at=REPORT_DUE + timedelta(seconds=90))
    session.commit()

    page.goto("/ui/login")
    screenshot(page, "login")
    log_in(page, "ta1", by_keyboard=True)
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Tess Assistant"
    page.get_by_role("link", name="DL2026 — Deep Learning").click()
    report_row = page.locator("#milestones tbody tr").nth(1)
    assert report_row.inner_text().split("\t") == [
        "Report",
        "15",
        "2026-12-20 23:59 (UTC+08:00)",
        "1",
        "2",
        "1",
        "1",
        "0 / 3",
    ]
    screenshot(page, "course")

    page.get_by_role("link", name="Report", exact=True).first.click()
    assert page.locator("#shown").inner_text() == "Showing 4 of 4 groups."
    page.get_by_label("Show").select_option("late")
    page.wait_for_timeout(300)
    assert "filter=late" not in page.url  # a choice alone changes nothing (WCAG 3.2.2): only "Apply" does
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"filter=late"))
    assert page.locator("#shown").inner_text() == "Showing 2 of 4 groups."
    assert page.locator("#dashboard tbody tr td:first-child a").all_inner_texts() == ["Bees", "Cats"]
    page.get_by_role("link", name="Late by").click()  # sort by lateness, longest first on the second click
    page.wait_for_url(re.compile(r"sort=late&order=asc"))  # else the second click may hit the page being left
    page.get_by_role("link", name=re.compile("Late by")).click()
    page.wait_for_url(re.compile(r"sort=late&order=desc"))
    assert page.locator("#dashboard tbody tr td:first-child a").all_inner_texts() == ["Bees", "Cats"]
    assert "filter=late" in page.url
    assert "order=desc" in page.url
    screenshot(page, "dashboard")

    page.get_by_role("link", name="Bees").click()
    back = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Report")
    assert back.get_attribute("href").endswith("/milestones/report?filter=late&sort=late&order=desc")
    assert page.get_by_test_id("multiplier").inner_text() == "0.70"
    assert page.get_by_test_id("late-by").inner_text() == "1 d 6 h 0 min"
    page.get_by_label("New deadline").fill("2026-12-21T08:00")
    page.get_by_label("Reason").fill("Medical certificate seen")
    page.get_by_role("button", name="Save extension").click()
    expect(page.get_by_role("status")).to_have_text("Extension saved.")
    assert page.get_by_test_id("multiplier").inner_text() == "0.90"
    assert page.get_by_test_id("late-by").inner_text() == "21 h 59 min"

    page.get_by_label("Overall (0–100 points)").fill("78.5")
    page.get_by_label("Review comment").fill("Clear experiments; the page limit is exceeded.")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_have_text("Review saved.")
    assert page.get_by_test_id("mean-score").inner_text() == "78.50"
    screenshot(page, "group")
    review = session.exec(select(Review)).one()
    assert (review.score, review.comment) == (78.5, "Clear experiments; the page limit is exceeded.")
    session.commit()

    page.goto("/ui/courses/999999")
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    screenshot(page, "not-found")


def test_the_lecturer_runs_overrides_and_publishes_the_selection(page: Any, session: Session) -> None:
    lecturer = make_user(session, username="lecturer", name="Lena Lecturer", password=PASSWORD, admin=True)
    course = make_course(session, lecturer=lecturer, code="DL2026", presentation_slots=3)
    tas = [make_staff(session, course, name=f"TA {i}") for i in (1, 2)]
    scores = {
        "Ants": (91, 85),
        "Bees": (80, 80),
        "Cats": (90, 70),
        "Dogs": (62, 70),
        "Eels": (55, 49),
        "Fish": (74, 81),
    }
    for i, (name, pair) in enumerate(scores.items()):
        group = make_group(session, course, name=name, size=3)
        sub = make_submission(session, group, "report", received_at=REPORT_DUE - timedelta(hours=10 - i))
        for ta, score in zip(tas, pair, strict=True):
            make_review(session, sub, ta, score)
    session.commit()

    log_in(page, "lecturer")
    page.goto(f"/ui/courses/{course.id}/selection")
    page.get_by_label("Presenting groups").fill("3")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("status")).to_have_text("The selection ran; this is its ranking.")
    rows = [r.split("\t") for r in page.locator("#ranking tbody tr").all_inner_texts()]
    assert [(r[0], r[1], r[2], r[6], r[7]) for r in rows] == [
        ("1", "Ants", "88.00", "mean score", "presents"),
        ("2", "Bees", "80.00", "tie on mean and median: earlier report", "presents"),
        ("3", "Cats", "80.00", "tie on mean and median: earlier report", "presents"),
        ("4", "Fish", "77.50", "mean score", "poster"),
        ("5", "Dogs", "66.00", "mean score", "poster"),
        ("6", "Eels", "52.00", "mean score", "poster"),
    ]
    assert page.locator("svg.histogram rect").count() == 10

    page.get_by_label("Group to add").select_option(label="4. Fish")
    page.get_by_label("Group to remove").select_option(label="3. Cats")
    page.get_by_label("Reason").fill("Cats present at NeurIPS that week.")
    page.get_by_role("button", name="Swap").click()
    expect(page.get_by_role("status")).to_have_text("Override saved.")
    assert page.locator("#ranking tbody tr").nth(3).inner_text().split("\t")[-1] == "presents override"
    screenshot(page, "selection-draft")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile(r"^Publish run")).click()
    expect(page.get_by_role("status")).to_have_text(
        "Published: this run is now in force and fixes the week-16 deliverable of every group."
    )
    assert page.get_by_role("button", name="Swap").count() == 0
    screenshot(page, "selection-published")
    deliverables = session.exec(
        select(ProjectGroup.name, ProjectGroup.deliverable).order_by(col(ProjectGroup.id))
    ).all()
    assert deliverables == [
        ("Ants", "slides"),
        ("Bees", "slides"),
        ("Cats", "poster"),
        ("Dogs", "poster"),
        ("Eels", "poster"),
        ("Fish", "slides"),
    ]
    session.commit()


def test_a_student_reads_their_status_and_is_kept_out_of_staff_pages(page: Any, session: Session) -> None:
    course = make_course(session, code="DL2026")
    ada = make_student(session, course, username="s01", name="Ada Student", password=PASSWORD)
    group = make_group(session, course, name="Owls", members=[ada, *(make_student(session, course) for _ in (1, 2))])
    make_topic(session, group)
    make_submission(session, group, "proposal", received_at=datetime(2026, 10, 30, 4, 0, tzinfo=UTC))
    session.commit()

    log_in(page, "s01")
    page.get_by_role("link", name="Owls").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Owls")  # the start page has an h1 too
    assert page.get_by_test_id("status-proposal").inner_text() == "on time (v1 counts)"
    screenshot(page, "student-status")
    response = page.goto(f"/ui/courses/{course.id}/milestones/report")
    assert response is not None
    assert response.status == 403  # the student sees the course, not its staff dashboard
