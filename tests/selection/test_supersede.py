"""One selection in force: superseding with a reason, rechecking week-16 files, the deadline lock."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, ProjectGroup, SelectionRun, Submission, User
from app.selection.publish import ERR_DELIVERABLES_LOCKED, ERR_IN_FORCE, ERR_NOTHING_IN_FORCE, ERR_SUPERSEDE_REASON
from app.selection.service import ERR_SUPERSEDED
from tests.conftest import FakeClock
from tests.factories import (
    FINAL_DUE,
    REPORT_DUE,
    auth,
    make_course,
    make_group,
    make_review,
    make_staff,
    make_submission,
    make_user,
    member_ids,
)
from tests.submissions.pdfs import A0_PORTRAIT_MM, tiny_pdf
from tests.web.helpers import text_of, web_login

RUN_AT = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)


def _course_of_four(session: Session) -> tuple[User, dict[str, ProjectGroup], dict[str, list[User | None]]]:
    """Groups A-D whose reports score 90, 80, 70, 60: with two places A and B present."""
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    ta = make_staff(session, course)
    groups, members = {}, {}
    for name, score in (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0)):
        group = make_group(session, course, size=3, name=name)
        make_review(session, make_submission(session, group, "report", received_at=REPORT_DUE), ta, score)
        groups[name] = group
        members[name] = [session.get(User, uid) for uid in member_ids(group, session)]
    session.commit()
    return lecturer, groups, members


def _run(client: TestClient, headers: dict[str, str], course_id: int, **body: object) -> dict[str, object]:
    response = client.post(f"/api/v1/courses/{course_id}/selections", headers=headers, json={"slots": 2, **body})
    assert response.status_code == 201
    return response.json()  # type: ignore[no-any-return]


def _deliverables(session: Session, groups: dict[str, ProjectGroup]) -> dict[str, str | None]:
    session.expire_all()
    by_id = dict(session.exec(select(ProjectGroup.id, ProjectGroup.deliverable)).all())
    result = {name: by_id[g.id] for name, g in groups.items()}
    session.commit()  # SQLite: end the read so the API can write
    return result


def _second_run_swapping_b_for_c(
    client: TestClient, headers: dict[str, str], course_id: int, groups: dict[str, ProjectGroup]
) -> dict[str, object]:
    run = _run(client, headers, course_id)
    response = client.post(
        f"/api/v1/selections/{run['id']}/overrides",
        headers=headers,
        json={"add_group_id": groups["C"].id, "remove_group_id": groups["B"].id, "reason": "B cannot come that day."},
    )
    assert response.status_code == 201
    return run


def test_a_second_run_needs_supersedes_and_a_reason_and_one_audit_event_lists_the_changes(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer, groups, _members = _course_of_four(session)
    course_id = groups["A"].course_id
    headers = auth(session, lecturer)
    clock.set(RUN_AT)
    first = _run(client, headers, course_id)
    nothing = client.post(
        f"/api/v1/selections/{first['id']}/publish", headers=headers, json={"supersedes": 12345, "reason": "x"}
    )
    assert nothing.json() == {"error": "invalid", "detail": ERR_NOTHING_IN_FORCE, "field": "supersedes"}
    published = client.post(f"/api/v1/selections/{first['id']}/publish", headers=headers)
    assert (published.status_code, published.json()["in_force"], published.json()["changed_groups"]) == (200, True, [])
    before_ranking = published.json()["ranking"]

    clock.advance(hours=1)
    second = _second_run_swapping_b_for_c(client, headers, course_id, groups)
    url = f"/api/v1/selections/{second['id']}/publish"
    refused = client.post(url, headers=headers)
    assert (refused.status_code, refused.json()) == (
        409,
        {"error": "selection_in_force", "detail": ERR_IN_FORCE.format(run=first["id"])},
    )
    wrong = client.post(url, headers=headers, json={"supersedes": second["id"], "reason": "Typo"})
    assert (wrong.status_code, wrong.json()["error"]) == (409, "selection_in_force")
    no_reason = client.post(url, headers=headers, json={"supersedes": first["id"], "reason": "  "})
    assert (no_reason.status_code, no_reason.json()) == (
        422,
        {"error": "invalid", "detail": ERR_SUPERSEDE_REASON, "field": "reason"},
    )
    not_strict = client.post(url, headers=headers, json={"supersedes": str(first["id"]), "reason": "x"})
    assert not_strict.status_code == 422
    assert _deliverables(session, groups) == {"A": "slides", "B": "slides", "C": "poster", "D": "poster"}
    session.commit()

    clock.advance(hours=1)
    done = client.post(url, headers=headers, json={"supersedes": first["id"], "reason": "B cannot come that day."})
    assert done.status_code == 200
    body = done.json()
    assert (
        body["status"],
        body["in_force"],
        body["supersedes_id"],
        body["supersede_reason"],
        body["changed_groups"],
        body["forced_past_deadline"],
        body["presenting"],
    ) == (
        "published",
        True,
        first["id"],
        "B cannot come that day.",
        [groups["B"].id, groups["C"].id],
        False,
        [groups["A"].id, groups["C"].id],
    )
    assert _deliverables(session, groups) == {"A": "slides", "B": "poster", "C": "slides", "D": "poster"}
    old = client.get(f"/api/v1/selections/{first['id']}", headers=headers).json()
    assert (old["status"], old["in_force"], old["superseded_at"], old["ranking"]) == (
        "superseded",
        False,
        "2026-12-21T04:00:00Z",
        before_ranking,
    )
    in_force = client.get(f"/api/v1/courses/{course_id}/selections/in-force", headers=headers).json()
    assert in_force["id"] == second["id"]
    again = client.post(
        f"/api/v1/selections/{first['id']}/publish",
        headers=headers,
        json={"supersedes": second["id"], "reason": "Back"},
    )
    assert (again.status_code, again.json()) == (409, {"error": "selection_superseded", "detail": ERR_SUPERSEDED})

    session.expire_all()
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action).in_(["selection.publish", "selection.supersede"]))
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(e.action, e.entity_id) for e in events] == [
        ("selection.publish", first["id"]),
        ("selection.supersede", second["id"]),
    ]
    assert events[1].after["changed_groups"] == [groups["B"].id, groups["C"].id]
    assert (events[1].after["supersedes"], events[1].after["reason"], events[1].before["in_force"]) == (
        first["id"],
        "B cannot come that day.",
        first["id"],
    )
    statuses = dict(session.exec(select(SelectionRun.id, SelectionRun.status)).all())
    assert statuses == {first["id"]: "superseded", second["id"]: "published"}


def test_an_uploaded_slides_file_is_checked_again_as_a_poster_and_the_group_is_flagged(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer, groups, members = _course_of_four(session)
    course_id = groups["A"].course_id
    headers = auth(session, lecturer)
    clock.set(RUN_AT)
    first = _run(client, headers, course_id)
    client.post(f"/api/v1/selections/{first['id']}/publish", headers=headers)
    b_headers = auth(session, members["B"][0])
    final_url = f"/api/v1/groups/{groups['B'].id}/milestones/final/submissions"
    clock.advance(days=1)
    uploaded = client.post(
        final_url, headers=b_headers, files={"file": ("slides.pdf", tiny_pdf(pages=12), "application/pdf")}
    )
    assert (uploaded.status_code, uploaded.json()["ruleset"], uploaded.json()["verdict"]) == (201, "slides", "accept")

    clock.advance(days=1)
    second = _second_run_swapping_b_for_c(client, headers, course_id, groups)
    done = client.post(
        f"/api/v1/selections/{second['id']}/publish",
        headers=headers,
        json={"supersedes": first["id"], "reason": "B cannot come that day."},
    )
    assert done.status_code == 200
    versions = client.get(final_url, headers=b_headers).json()
    assert len(versions) == 1
    recheck = versions[0]["recheck_report"]
    assert (versions[0]["ruleset"], versions[0]["verdict"], versions[0]["rechecked_at"]) == (
        "slides",
        "accept",
        "2026-12-23T10:00:00+08:00",
    )
    assert (recheck["ruleset"], recheck["verdict"], recheck["pages"], [e["code"] for e in recheck["errors"]]) == (
        "poster",
        "reject",
        12,
        ["poster-pages", "poster-size"],
    )
    session.expire_all()
    stored = session.exec(select(Submission).where(Submission.id == versions[0]["id"])).one()
    assert stored.recheck_report == recheck
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "selection.supersede")).one()
    assert audit.after["rechecked_submissions"] == [versions[0]["id"]]
    session.commit()

    dashboard = client.get(f"/api/v1/courses/{course_id}/dashboard?milestone=final", headers=headers).json()
    flags = {
        r["group_name"]: (r["deliverable"], r["deliverable_changed_at"], r["recheck_verdict"])
        for r in dashboard["rows"]
    }
    assert flags == {
        "A": ("slides", None, None),
        "B": ("poster", "2026-12-23T10:00:00+08:00", "reject"),
        "C": ("slides", None, None),
        "D": ("poster", None, None),
    }
    session.commit()
    b_id = groups["B"].id
    web_login(client, session, members["B"][1])
    page = text_of(client.get(f"/ui/groups/{b_id}/status").text)
    assert (
        "Your week-16 deliverable changed to poster on 2026-12-23 10:00 (UTC+08:00), after you had uploaded "
        "your week-16 file."
    ) in page
    assert "Checked again as poster reject" in page
    client.cookies.clear()

    clock.advance(hours=2)
    poster = client.post(
        final_url, headers=b_headers, files={"file": ("poster.pdf", tiny_pdf(size=A0_PORTRAIT_MM), "application/pdf")}
    )
    assert (poster.status_code, poster.json()["ruleset"], poster.json()["verdict"]) == (201, "poster", "accept")
    session.expire_all()
    assert session.get(ProjectGroup, b_id).deliverable_changed_at is None  # type: ignore[union-attr]
    session.commit()


def test_after_the_week16_deadline_deliverables_change_only_when_forced_with_a_reason(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    lecturer, groups, _ = _course_of_four(session)
    course_id = groups["A"].course_id
    headers = auth(session, lecturer)
    clock.set(RUN_AT)
    first = _run(client, headers, course_id)
    client.post(f"/api/v1/selections/{first['id']}/publish", headers=headers)
    clock.set(FINAL_DUE + timedelta(seconds=1))
    same = _run(client, headers, course_id)
    unchanged = client.post(
        f"/api/v1/selections/{same['id']}/publish",
        headers=headers,
        json={"supersedes": first["id"], "reason": "Rerun with the late review."},
    )
    assert (unchanged.status_code, unchanged.json()["changed_groups"]) == (200, [])

    second = _second_run_swapping_b_for_c(client, headers, course_id, groups)
    url = f"/api/v1/selections/{second['id']}/publish"
    locked = client.post(url, headers=headers, json={"supersedes": same["id"], "reason": "B cannot come."})
    assert (locked.status_code, locked.json()) == (
        409,
        {"error": "deliverables_locked", "detail": ERR_DELIVERABLES_LOCKED.format(groups="B, C")},
    )
    assert _deliverables(session, groups) == {"A": "slides", "B": "slides", "C": "poster", "D": "poster"}
    session.commit()
    forced = client.post(
        url, headers=headers, json={"supersedes": same["id"], "reason": "B cannot come.", "force": True}
    )
    assert forced.status_code == 200
    assert (forced.json()["forced_past_deadline"], forced.json()["changed_groups"]) == (
        True,
        [groups["B"].id, groups["C"].id],
    )
    assert _deliverables(session, groups) == {"A": "slides", "B": "poster", "C": "slides", "D": "poster"}
