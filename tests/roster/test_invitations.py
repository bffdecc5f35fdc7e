"""Enrolment invitations: a non-admin's roster line for a non-member joins only by its person's own act.

Staff who are not admins get the same answer for a line that reaches an account of another course
as for a line that reaches nobody; the account's owner is emailed and accepts or declines; a new
person joins by activating with the emailed code; admins still enrol directly.
"""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent, CourseInvitation, CourseMember, Notice, User
from app.people.invitations import ERR_NO_INVITATION
from tests.conftest import FakeClock
from tests.factories import auth, make_course, make_staff, make_student, make_user
from tests.notify.helpers import FOOTER, PUBLIC, deliver
from tests.smtp import SmtpServer
from tests.web.helpers import hidden_csrf, text_of, web_login

PASSWORD = "a fine passphrase"
NOT_FOUND = {"error": "not_found", "detail": ERR_NO_INVITATION}


def _import(client: TestClient, course_id: int, headers: dict[str, str], data: str) -> dict[str, object]:
    response = client.post(
        f"/api/v1/courses/{course_id}/roster",
        content=data.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _member_role(session: Session, course_id: int | None, user_id: int | None) -> str | None:
    role = session.exec(
        select(CourseMember.role).where(CourseMember.course_id == course_id, CourseMember.user_id == user_id)
    ).first()
    session.commit()
    return role


def test_an_outside_account_is_emailed_an_invitation_and_joins_only_when_its_owner_accepts(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    other = make_course(session)
    ada = make_student(session, other, username="ada", name="Ada Lovelace", email="ada@uni.example", password=PASSWORD)
    course = make_course(session, code="DL2026")
    lecturer = make_staff(session, course, role="lecturer")
    headers = auth(session, lecturer)
    body = _import(client, course.id or 0, headers, "student_no,name,email,role\nS77,Ada L.,ada@uni.example,ta\n")
    assert body == {
        "created": 0,
        "enrolled_existing": 0,
        "already_enrolled": 0,
        "codes_emailed": 0,
        "invited": 1,
        "activation_codes": [],
    }
    assert _member_role(session, course.id, ada.id) is None
    assert deliver(clock()).sent == 1
    [mail] = smtp.to("ada@uni.example")
    assert mail.subject == "DL2026: you are invited to join as teaching assistant"
    assert mail.lines == [
        "Hello Ada Lovelace,",
        "",
        "The staff of DL2026 Deep Learning invite your account ada to join the course as teaching assistant.",
        f"You join only if you accept. Log in at {PUBLIC}/ui and choose Accept or Decline",
        f"(or use {PUBLIC}/api/v1/me/invitations).",
        "The invitation lapses at 2026-09-15 16:00 (UTC+08:00); if you do nothing, nothing changes.",
        "If you do not know this course, decline it or ignore this message.",
        *FOOTER,
    ]
    # The course's outbox would tell staff which lines reached an account: the notice is not in it.
    assert session.exec(select(Notice.course_id).where(Notice.kind == "invitation")).all() == [None]
    assert client.get(f"/api/v1/courses/{course.id}/outbox", headers=headers).json()["notices"] == []

    ada_headers = auth(session, ada)
    [invitation] = client.get("/api/v1/me/invitations", headers=ada_headers).json()
    assert invitation == {
        "id": invitation["id"],
        "course_id": course.id,
        "course_code": "DL2026",
        "course_title": "Deep Learning",
        "role": "ta",
        "invited_at": "2026-09-01T08:00:00Z",
        "expires_at": "2026-09-15T08:00:00Z",
        "status": "open",
    }
    accept = f"/api/v1/me/invitations/{invitation['id']}/accept"
    # Nobody else answers it, not even the lecturer who made it: the same 404 as for no such invitation.
    for intruder in (make_student(session, other), lecturer):
        response = client.post(accept, headers=auth(session, intruder))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert _member_role(session, course.id, ada.id) is None

    clock.advance(hours=2)
    accepted = client.post(accept, headers=ada_headers)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert _member_role(session, course.id, ada.id) == "ta"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.accept")).one()
    assert (event.course_id, event.actor_id, event.after) == (
        course.id,
        ada.id,
        {"username": "ada", "role": "ta", "line_student_no": "S77"},
    )
    session.commit()
    again = client.post(accept, headers=ada_headers)
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    assert client.get("/api/v1/me/invitations", headers=ada_headers).json() == []


def test_the_answer_for_lines_that_reach_outside_accounts_equals_the_answer_for_lines_that_reach_nobody(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    elsewhere = make_course(session)
    make_student(session, elsewhere, username="ada", student_no="S1", email="ada@uni.example", password=PASSWORD)
    make_student(session, elsewhere, username="bob", student_no="S9", email="bob@uni.example")  # never activated
    make_user(session, username="s3", email="sam-other@uni.example")
    make_user(session, username="cy", student_no="S4", email="cy@uni.example")
    reaching = (
        "student_no,name,email\n"
        "S1,Ada,new1@uni.example\n"  # another course's student, by number
        "S2,Bob,bob@uni.example\n"  # another course's (pending) student, by email
        "S3,Sam,sam@uni.example\n"  # the username s3 is another account's
        "S4,Dee,ada@uni.example\n"  # the number is cy's, the email ada's
    )
    nobody = (
        "student_no,name,email\n"
        "N1,Ada,n1@uni.example\n"
        "N2,Bob,n2@uni.example\n"
        "N3,Sam,n3@uni.example\n"
        "N4,Dee,n4@uni.example\n"
    )
    answers, courses = [], []
    for data in (reaching, nobody):
        course = make_course(session, code=f"C{len(answers)}")
        courses.append(course.id)
        lecturer = make_staff(session, course, role="lecturer", username=f"lecturer{len(answers)}", name="Lena")
        headers = auth(session, lecturer)
        api = _import(client, course.id or 0, headers, data)
        csrf = web_login(client, session, lecturer)  # the page's import of the same file: a re-import
        page = client.post(
            f"/ui/courses/{course.id}/roster",
            data={"csrf_token": csrf},
            files={"file": ("roster.csv", data.encode(), "text/csv")},
        )
        client.cookies.clear()
        members = client.get(f"/api/v1/courses/{course.id}/members", headers=headers).json()
        outbox = client.get(f"/api/v1/courses/{course.id}/outbox", headers=headers).json()["notices"]
        audit = client.get(f"/api/v1/courses/{course.id}/audit", headers=headers).json()
        answers.append(
            (
                api,
                page.status_code,
                re.sub(r"\bC\d\b", "COURSE", text_of(page.text)),
                sorted(m["role"] for m in members),  # the course's creator and its lecturer: nobody joined
                outbox,
                [(e["action"], len(e["after"]["invited"])) for e in audit if e["action"] == "roster.import"],
            )
        )
    assert answers[0] == answers[1]
    api, status, text, members, outbox, imports = answers[0]
    assert api == {
        "created": 0,
        "enrolled_existing": 0,
        "already_enrolled": 0,
        "codes_emailed": 0,
        "invited": 4,
        "activation_codes": [],
    }
    assert status == 200
    assert "4 invited by email (each joins on activating or accepting), 0 already in the course." in text
    assert (members, outbox, imports) == (["lecturer", "lecturer"], [], [("roster.import", 4), ("roster.import", 4)])
    # Behind the identical answers: two outside accounts invited (S4's line reaches ada again, one invitation
    # for both lines), one new account under a free username (s3 is taken); the re-import added nothing.
    invited = session.exec(
        select(User.username, CourseInvitation.role, CourseInvitation.student_no)
        .join(CourseInvitation, col(CourseInvitation.user_id) == col(User.id))
        .where(CourseInvitation.course_id == courses[0])
    ).all()
    assert sorted(invited) == [("ada", "student", "S1"), ("bob", "student", "S2"), ("s3.2", "student", "S3")]
    kinds = session.exec(select(Notice.kind, User.username).join(User, col(User.id) == col(Notice.user_id))).all()
    # bob never activated, so his notice carries a fresh code (activating is his consent); ada's is an invitation.
    assert sorted(k for k in kinds if k[1] in {"ada", "bob", "s3.2"}) == [
        ("activation", "bob"),
        ("activation", "s3.2"),
        ("invitation", "ada"),
    ]
    session.commit()


def test_a_new_person_joins_by_activating_with_the_code_emailed_to_them(
    client: TestClient, session: Session, smtp: SmtpServer, clock: FakeClock
) -> None:
    course = make_course(session, code="DL2026")
    headers = auth(session, make_staff(session, course, role="lecturer"))
    _import(client, course.id or 0, headers, "student_no,name,email\nS9001,Dana Delta,dana@uni.example\n")
    dana = session.exec(select(User).where(User.username == "s9001")).one()
    assert _member_role(session, course.id, dana.id) is None
    assert deliver(clock()).sent == 1
    [mail] = smtp.to("dana@uni.example")
    assert mail.subject == "DL2026: activate your account"
    code = mail.lines[4].removeprefix("Your activation code: ")
    assert mail.lines[:4] == [
        "Hello Dana Delta,",
        "",
        "You are invited to DL2026 Deep Learning; you join it when you activate your account.",
        "Your username: s9001",
    ]
    activated = client.post("/api/v1/auth/activate", json={"code": code, "password": PASSWORD})
    assert activated.status_code == 200
    assert _member_role(session, course.id, dana.id) == "student"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.accept")).one()
    assert (event.course_id, event.actor_id, event.after) == (
        course.id,
        dana.id,
        {"username": "s9001", "role": "student", "line_student_no": "S9001"},
    )
    session.commit()


def test_declining_or_letting_an_invitation_lapse_leaves_no_membership_and_nothing_in_the_course_log(
    client: TestClient, session: Session, clock: FakeClock
) -> None:
    other = make_course(session)
    ada = make_student(session, other, username="ada", email="ada@uni.example", password=PASSWORD)
    bob = make_student(session, other, username="bob", email="bob@uni.example", password=PASSWORD)
    course = make_course(session)
    headers = auth(session, make_staff(session, course, role="lecturer"))
    data = "student_no,name,email\nS1,Ada,ada@uni.example\nS2,Bob,bob@uni.example\n"
    assert _import(client, course.id or 0, headers, data)["invited"] == 2
    ada_headers, bob_headers = auth(session, ada), auth(session, bob)
    [ada_invitation] = client.get("/api/v1/me/invitations", headers=ada_headers).json()
    declined = client.post(f"/api/v1/me/invitations/{ada_invitation['id']}/decline", headers=ada_headers)
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    late = client.post(f"/api/v1/me/invitations/{ada_invitation['id']}/accept", headers=ada_headers)
    assert (late.status_code, late.json()) == (404, NOT_FOUND)
    assert client.get("/api/v1/me/invitations", headers=ada_headers).json() == []

    [bob_invitation] = client.get("/api/v1/me/invitations", headers=bob_headers).json()
    clock.set(clock() + timedelta(days=14))  # the invitation lapses at exactly 14 days
    assert client.get("/api/v1/me/invitations", headers=bob_headers).json() == []
    lapsed = client.post(f"/api/v1/me/invitations/{bob_invitation['id']}/accept", headers=bob_headers)
    assert (lapsed.status_code, lapsed.json()) == (404, NOT_FOUND)

    assert (_member_role(session, course.id, ada.id), _member_role(session, course.id, bob.id)) == (None, None)
    actions = [e["action"] for e in client.get(f"/api/v1/courses/{course.id}/audit", headers=headers).json()]
    assert "invitation.decline" not in actions
    decline = session.exec(select(AuditEvent).where(AuditEvent.action == "invitation.decline")).one()
    assert (decline.course_id, decline.actor_id, decline.after) == (None, ada.id, {"course_id": course.id})
    session.commit()


def test_an_admin_import_enrols_an_outside_account_directly(client: TestClient, session: Session) -> None:
    other = make_course(session)
    ada = make_student(session, other, username="ada", student_no="S1", email="ada@uni.example")
    course = make_course(session)
    body = _import(
        client,
        course.id or 0,
        auth(session, make_user(session, admin=True)),
        "student_no,name,email\nS1,Ada,ada@uni.example\n",
    )
    assert body == {
        "created": 0,
        "enrolled_existing": 1,
        "already_enrolled": 0,
        "codes_emailed": 0,
        "invited": 0,
        "activation_codes": [],
    }
    assert _member_role(session, course.id, ada.id) == "student"
    assert session.exec(select(CourseInvitation)).all() == []
    session.commit()


def test_the_home_page_lists_an_invitation_and_its_buttons_answer_it_with_the_csrf_token(
    client: TestClient, session: Session
) -> None:
    other = make_course(session)
    ada = make_student(session, other, username="ada", email="ada@uni.example", password=PASSWORD)
    course = make_course(session, code="DL2026")
    _import(
        client,
        course.id or 0,
        auth(session, make_staff(session, course, role="lecturer")),
        "student_no,name,email\nS1,Ada,ada@uni.example\n",
    )
    invitation = session.exec(select(CourseInvitation)).one()
    session.commit()
    csrf = web_login(client, session, ada)
    home = client.get("/ui")
    assert (
        "Invitations to join a course Course staff imported a roster line that reached your account. You join only "
        "if you accept. DL2026 — Deep Learning, as student (until 2026-09-15 16:00 (UTC+08:00)) Accept Decline"
    ) in text_of(home.text)
    assert hidden_csrf(home.text) == csrf
    forged = client.post(f"/ui/invitations/{invitation.id}/accept", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert _member_role(session, course.id, ada.id) is None
    joined = client.post(f"/ui/invitations/{invitation.id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert (joined.status_code, joined.headers["location"]) == (303, "/ui?saved=joined")
    assert _member_role(session, course.id, ada.id) == "student"
    after = text_of(client.get("/ui?saved=joined").text)
    assert "You joined the course." in after
    assert "Invitations to join a course" not in after
    again = client.post(f"/ui/invitations/{invitation.id}/decline", data={"csrf_token": csrf})
    assert again.status_code == 404
