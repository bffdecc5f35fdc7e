"""The permission matrix of every API endpoint: who gets which status, exactly.

Actors: anonymous, a student of the group, a student of another group of the course, a TA,
the lecturer, and the lecturer of another course. The rule (SPEC): a caller who may not see a
resource gets 404, so ids leak nothing; one who sees it (a member of its course, or of its
group) but may not do this gets 403; a student already in a group who tries to create or
join one gets 409. Reviews stay unseen (404) by students until marks are released.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.models import CourseInvitation, Extension, GradedPin, User
from app.selection.service import selection_run
from tests.factories import (
    T0,
    auth,
    make_course,
    make_group,
    make_staff,
    make_student,
    make_submission,
    make_topic,
)
from tests.submissions.pdfs import tiny_pdf

ACTORS = ("anonymous", "member", "other_student", "ta", "lecturer", "foreign_staff")
API = "/api/v1"
# The health probes live at the root, for load balancers, not under the API prefix.
ROOT_PATHS = ("/healthz", "/readyz")


@dataclass
class World:
    """One course with two groups, a loner, staff, a stored version, a draft selection run and an extension,
    and a second course with its own lecturer."""

    course_id: int
    group_id: int
    join_code: str
    other_member_id: int
    loner_id: int
    submission_id: int
    run_id: int
    other_group_id: int
    users: dict[str, User]
    invitation_id: int = 0


def _world(session: Session) -> World:
    lecturer = make_staff(session, course := make_course(session), role="lecturer")
    ta = make_staff(session, course)
    member, mate = make_student(session, course), make_student(session, course)
    group = make_group(session, course, members=[member, mate], size=1)
    make_topic(session, group, status="proposed")
    other_student = make_student(session, course)
    other_group = make_group(session, course, members=[other_student], size=2)
    loner = make_student(session, course)
    foreign_staff = make_staff(session, foreign_course := make_course(session), role="lecturer")
    pdf = tiny_pdf()
    sub = make_submission(session, group, "report", received_at=T0, sha256=hashlib.sha256(pdf).hexdigest())
    store = Path(get_settings().storage_dir)
    store.mkdir(parents=True, exist_ok=True)
    (store / sub.sha256).write_bytes(pdf)
    session.add(
        GradedPin(
            group_id=group.id,
            milestone_id=sub.milestone_id,
            submission_id=sub.id,  # type: ignore[arg-type]
            pinned_by=ta.id,
            pinned_at=T0,
        )
    )
    session.add(
        Extension(
            group_id=group.id,
            milestone_id=sub.milestone_id,
            due_at=T0 + timedelta(days=120),  # type: ignore[arg-type]
            reason="Illness",
            created_at=T0,
        )
    )
    run = selection_run(session, user=lecturer, course_id=course.id or 0, force=True, slots=1, now=T0)
    # The foreign course's lecturer invited the member: only the member may see or answer it.
    invitation = CourseInvitation(
        course_id=foreign_course.id or 0,
        user_id=member.id or 0,
        role="student",
        student_no="S1",
        email="member@uni.example",
        invited_by=foreign_staff.id,
        created_at=T0,
        expires_at=T0 + timedelta(days=3650),
    )
    session.add(invitation)
    session.flush()
    session.commit()
    return World(
        course_id=course.id or 0,
        group_id=group.id or 0,
        join_code=group.join_code,
        other_member_id=mate.id or 0,
        loner_id=loner.id or 0,
        submission_id=sub.id or 0,
        run_id=run.id or 0,
        other_group_id=other_group.id or 0,
        invitation_id=invitation.id or 0,
        users={
            "member": member,
            "other_student": other_student,
            "ta": ta,
            "lecturer": lecturer,
            "foreign_staff": foreign_staff,
        },
    )


def _request(w: World, endpoint: str, caller_id: int) -> tuple[str, str, dict[str, Any]]:
    c, g, s, r = w.course_id, w.group_id, w.submission_id, w.run_id
    roster = {"files": {"file": ("r.csv", b"student_no,name,email\nN1,New,new@uni.example\n", "text/csv")}}
    marks = {"files": {"file": ("m.csv", b"student_no,assignment_mark\n", "text/csv")}}
    pdf = {"files": {"file": ("p.pdf", tiny_pdf(text="new"), "application/pdf")}}
    due = (T0 + timedelta(days=130)).isoformat()
    return {
        "login": ("POST", "/auth/token", {"data": {"username": "nobody", "password": "wrong password"}}),
        "logout": ("POST", "/auth/logout", {}),
        "activate": ("POST", "/auth/activate", {"json": {"code": "bogus", "password": "long enough"}}),
        "me": ("GET", "/me", {}),
        "password change": (
            "POST",
            "/me/password",
            {"json": {"current_password": "not it", "new_password": "a long new passphrase"}},
        ),
        "my invitations": ("GET", "/me/invitations", {}),
        "invitation accept": ("POST", f"/me/invitations/{w.invitation_id}/accept", {}),
        "invitation decline": ("POST", f"/me/invitations/{w.invitation_id}/decline", {}),
        "members list": ("GET", f"/courses/{c}/members", {}),
        "activation reissue": ("POST", f"/courses/{c}/members/{w.loner_id}/activation", {}),
        "account disable": ("POST", f"/users/{w.loner_id}/disable", {}),
        "account enable": ("POST", f"/users/{w.loner_id}/enable", {}),
        "page picture": ("GET", f"/submissions/{s}/pages/1.png", {}),
        "course create": (
            "POST",
            "/courses",
            {"json": {"code": f"NEW{caller_id}", "title": "New", "start_date": "2026-09-07"}},
        ),
        "course get": ("GET", f"/courses/{c}", {}),
        "course patch": ("PATCH", f"/courses/{c}", {"json": {"title": "Renamed"}}),
        "audit": ("GET", f"/courses/{c}/audit", {}),
        "group create": ("POST", f"/courses/{c}/groups", {"json": {"name": "Brand new"}}),
        "groups list": ("GET", f"/courses/{c}/groups", {}),
        "group join": ("POST", f"/courses/{c}/groups/join", {"json": {"code": w.join_code}}),
        "formation lock": ("POST", f"/courses/{c}/groups/lock", {}),
        "formation unlock": ("POST", f"/courses/{c}/groups/unlock", {}),
        "group get": ("GET", f"/groups/{g}", {}),
        "member add": ("POST", f"/groups/{g}/members", {"json": {"user_id": w.loner_id}}),
        "group leave": ("DELETE", f"/groups/{g}/members/{caller_id}", {}),
        "member remove": ("DELETE", f"/groups/{g}/members/{w.other_member_id}", {}),
        "topic get": ("GET", f"/groups/{g}/topic", {}),
        "topic put": ("PUT", f"/groups/{g}/topic", {"json": {"title": "T", "area": "nlp", "summary": ""}}),
        "topic decision": ("POST", f"/groups/{g}/topic/decision", {"json": {"decision": "approve", "comment": "ok"}}),
        "roster import": ("POST", f"/courses/{c}/roster", roster),
        "milestones list": ("GET", f"/courses/{c}/milestones", {}),
        "milestone patch": ("PATCH", f"/courses/{c}/milestones/report", {"json": {"page_limit": 7}}),
        "extensions list": ("GET", f"/groups/{g}/extensions", {}),
        "extension grant": (
            "POST",
            f"/groups/{g}/extensions",
            {"json": {"milestone": "final", "due_at": due, "reason": "Illness"}},
        ),
        "extension revoke": ("DELETE", f"/groups/{g}/extensions/report", {}),
        "calendar": ("GET", f"/courses/{c}/calendar.ics", {}),
        "feed issue": ("POST", "/me/calendar-feed", {}),
        "feed revoke": ("DELETE", "/me/calendar-feed", {}),
        "feed read": ("GET", "/calendar/not-a-secret.ics", {}),
        "rubric put": (
            "PUT",
            f"/courses/{c}/milestones/report/rubric",
            {"json": {"criteria": [{"key": "overall", "label": "Overall", "max_points": 100}]}},
        ),
        "review post": ("POST", f"/submissions/{s}/reviews", {"json": {"score": 70}}),
        "reviews get": ("GET", f"/submissions/{s}/reviews", {}),
        "review assign": (
            "POST",
            f"/courses/{c}/milestones/report/assignments",
            {"json": {"reviewers_per_submission": 1}},
        ),
        "review queue": ("GET", "/me/reviews", {}),
        "selection run": ("POST", f"/courses/{c}/selections", {"json": {"force": True}}),
        "selections list": ("GET", f"/courses/{c}/selections", {}),
        "selection get": ("GET", f"/selections/{r}", {}),
        "selection override": (
            "POST",
            f"/selections/{r}/overrides",
            {"json": {"add_group_id": w.other_group_id, "remove_group_id": w.group_id, "reason": "Swap"}},
        ),
        "selection publish": ("POST", f"/selections/{r}/publish", {}),
        "selection in force": ("GET", f"/courses/{c}/selections/in-force", {}),
        "programme get": ("GET", f"/courses/{c}/programme", {}),
        "programme patch": ("PATCH", f"/courses/{c}/programme", {"json": {"poster_room": "Hall"}}),
        "programme publish": ("POST", f"/courses/{c}/programme/publish", {}),
        "session create": (
            "POST",
            f"/courses/{c}/programme/sessions",
            {"json": {"day": "2026-12-22", "start_time": "14:00", "room": "A"}},
        ),
        "session put": (
            "PUT",
            f"/courses/{c}/programme/sessions/999999",
            {"json": {"day": "2026-12-22", "start_time": "14:00", "room": "A"}},
        ),
        "session delete": ("DELETE", f"/courses/{c}/programme/sessions/999999", {}),
        "talks place": ("POST", f"/courses/{c}/programme/slots", {"json": {}}),
        "talk move": ("PATCH", f"/courses/{c}/programme/slots/999999", {"json": {"session_id": 1, "position": 1}}),
        "board renumber": ("PATCH", f"/courses/{c}/programme/boards/999999", {"json": {"number": 2}}),
        "ballot cast": ("POST", f"/courses/{c}/programme/boards/999999/ballot", {"json": {"score": 3}}),
        "my ballots": ("GET", f"/courses/{c}/programme/ballots/mine", {}),
        "programme csv": ("GET", f"/courses/{c}/programme/programme.csv", {}),
        "programme pdf": ("GET", f"/courses/{c}/programme/programme.pdf", {}),
        "marks release": ("POST", f"/courses/{c}/milestones/report/release", {}),
        "my marks": ("GET", f"/courses/{c}/my-marks", {}),
        "marks csv": ("GET", f"/courses/{c}/marks.csv", {}),
        "assignment marks": ("POST", f"/courses/{c}/assignment-marks", marks),
        "upload": ("POST", f"/groups/{g}/milestones/report/submissions", pdf),
        "versions": ("GET", f"/groups/{g}/milestones/report/submissions", {}),
        "file": ("GET", f"/submissions/{s}/file", {}),
        "pin": ("POST", f"/groups/{g}/milestones/report/graded", {"json": {"submission_id": s}}),
        "unpin": ("DELETE", f"/groups/{g}/milestones/report/graded", {}),
        "check": ("POST", "/check?ruleset=proposal", {"files": {"file": ("p.pdf", tiny_pdf(), "application/pdf")}}),
        "dashboard": ("GET", f"/courses/{c}/dashboard?milestone=report", {}),
        "my notices": ("GET", "/me/notices", {}),
        "my notice": ("GET", "/me/notices/999999", {}),
        "notice prefs get": ("GET", "/me/notice-preferences", {}),
        "notice prefs patch": ("PATCH", "/me/notice-preferences", {"json": {"reminder": False}}),
        "outbox": ("GET", f"/courses/{c}/outbox", {}),
        "notice retry": ("POST", "/notices/999999/retry", {}),
        "healthz": ("GET", "/healthz", {}),
        "readyz": ("GET", "/readyz", {}),
    }[endpoint]


def _url(path: str) -> str:
    return path if path.split("?")[0] in ROOT_PATHS else API + path


#                        anonymous member other_student ta  lecturer foreign_staff
MATRIX = {
    "login": (401, 401, 401, 401, 401, 401),
    "logout": (401, 204, 204, 204, 204, 204),
    "activate": (400, 400, 400, 400, 400, 400),
    "me": (401, 200, 200, 200, 200, 200),
    # Accounts, members and page pictures. The factories' users have no password, so a change is refused
    # as a wrong current password (422) once the caller is known; only admins (none here) disable accounts.
    "password change": (401, 422, 422, 422, 422, 422),
    # An invitation is the invitee's alone: everyone else, its inviter too, gets 404 as for no invitation.
    "my invitations": (401, 200, 200, 200, 200, 200),
    "invitation accept": (401, 200, 404, 404, 404, 404),
    "invitation decline": (401, 200, 404, 404, 404, 404),
    "members list": (401, 403, 403, 200, 200, 404),
    "activation reissue": (401, 403, 403, 201, 201, 404),
    "account disable": (401, 403, 403, 403, 403, 403),
    "account enable": (401, 403, 403, 403, 403, 403),
    "page picture": (401, 200, 404, 200, 200, 404),
    "course create": (401, 403, 403, 403, 201, 201),
    "course get": (401, 200, 200, 200, 200, 404),
    "course patch": (401, 403, 403, 200, 200, 404),
    "audit": (401, 403, 403, 200, 200, 404),
    "group create": (401, 409, 409, 403, 403, 404),
    "groups list": (401, 200, 200, 200, 200, 404),
    "group join": (401, 409, 409, 403, 403, 404),
    "formation lock": (401, 403, 403, 200, 200, 404),
    "formation unlock": (401, 403, 403, 200, 200, 404),
    "group get": (401, 200, 404, 200, 200, 404),
    "member add": (401, 403, 404, 201, 201, 404),
    "group leave": (401, 204, 404, 404, 404, 404),
    "member remove": (401, 403, 404, 204, 204, 404),
    "topic get": (401, 200, 404, 200, 200, 404),
    "topic put": (401, 200, 404, 403, 403, 404),
    "topic decision": (401, 403, 404, 200, 200, 404),
    "roster import": (401, 403, 403, 200, 200, 404),
    "milestones list": (401, 200, 200, 200, 200, 404),
    "milestone patch": (401, 403, 403, 403, 200, 404),
    "extensions list": (401, 200, 404, 200, 200, 404),
    "extension grant": (401, 403, 404, 200, 200, 404),
    "extension revoke": (401, 403, 404, 204, 204, 404),
    "calendar": (401, 200, 200, 200, 200, 404),
    "feed issue": (401, 201, 201, 201, 201, 201),
    "feed revoke": (401, 204, 204, 204, 204, 204),
    "feed read": (404, 404, 404, 404, 404, 404),
    "rubric put": (401, 403, 403, 403, 200, 404),
    "review post": (401, 403, 404, 201, 201, 404),
    "reviews get": (401, 404, 404, 200, 200, 404),
    "review assign": (401, 403, 403, 403, 201, 404),
    "review queue": (401, 200, 200, 200, 200, 200),
    "selection run": (401, 403, 403, 403, 201, 404),
    "selections list": (401, 403, 403, 200, 200, 404),
    "selection get": (401, 404, 404, 200, 200, 404),
    "selection override": (401, 404, 404, 403, 201, 404),
    "selection publish": (401, 404, 404, 403, 200, 404),
    "selection in force": (401, 403, 403, 404, 404, 404),
    "programme get": (401, 200, 200, 200, 200, 404),
    "programme patch": (401, 403, 403, 403, 200, 404),
    "programme publish": (401, 403, 403, 409, 409, 404),
    "session create": (401, 403, 403, 201, 201, 404),
    "session put": (401, 403, 403, 404, 404, 404),
    "session delete": (401, 403, 403, 404, 404, 404),
    "talks place": (401, 403, 403, 409, 409, 404),
    "talk move": (401, 403, 403, 404, 404, 404),
    "board renumber": (401, 403, 403, 404, 404, 404),
    "ballot cast": (401, 404, 404, 404, 404, 404),
    "my ballots": (401, 200, 200, 200, 200, 404),
    "programme csv": (401, 200, 200, 200, 200, 404),
    "programme pdf": (401, 200, 200, 200, 200, 404),
    "marks release": (401, 403, 403, 403, 200, 404),
    "my marks": (401, 200, 200, 403, 403, 404),
    "marks csv": (401, 403, 403, 200, 200, 404),
    "assignment marks": (401, 403, 403, 403, 422, 404),
    "upload": (401, 201, 404, 403, 403, 404),
    "versions": (401, 200, 404, 200, 200, 404),
    "file": (401, 200, 404, 200, 200, 404),
    "pin": (401, 403, 404, 200, 200, 404),
    "unpin": (401, 403, 404, 204, 204, 404),
    "check": (401, 200, 200, 200, 200, 200),
    "dashboard": (401, 403, 403, 200, 200, 404),
    "my notices": (401, 200, 200, 200, 200, 200),
    "my notice": (401, 404, 404, 404, 404, 404),
    "notice prefs get": (401, 200, 200, 200, 200, 200),
    "notice prefs patch": (401, 200, 200, 200, 200, 200),
    "outbox": (401, 403, 403, 200, 200, 404),
    "notice retry": (401, 404, 404, 404, 404, 404),
    "healthz": (200, 200, 200, 200, 200, 200),
    "readyz": (200, 200, 200, 200, 200, 200),
}
CASES = [(endpoint, actor, statuses[i]) for endpoint, statuses in MATRIX.items() for i, actor in enumerate(ACTORS)]


def test_the_matrix_covers_every_endpoint() -> None:
    from app.main import app

    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    world = World(
        course_id=1,
        group_id=2,
        join_code="x",
        other_member_id=3,
        loner_id=4,
        submission_id=5,
        run_id=6,
        other_group_id=7,
        users={},
    )
    covered = set()
    for endpoint in MATRIX:
        method, path, _ = _request(world, endpoint, 8)
        template = next(p for m, p in documented if m == method and _fits(p, _url(path).split("?")[0]))
        covered.add((method, template))
    assert documented - covered == set()


def _fits(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) is not None


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES, ids=[f"{e}-{a}" for e, a, _ in CASES])
def test_permission_matrix(client: TestClient, session: Session, endpoint: str, actor: str, expected: int) -> None:
    world = _world(session)
    caller = world.users.get(actor)
    headers = auth(session, caller) if caller else {}
    method, path, kwargs = _request(world, endpoint, caller.id or 0 if caller else world.users["member"].id or 0)
    response = client.request(method, _url(path), headers=headers, **kwargs)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()) >= {"error", "detail"}
