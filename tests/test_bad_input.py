"""Bad input is a 4xx naming the problem, never a 500; and loose JSON types are refused, not coerced."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Course, GradedPin, ProjectGroup
from tests.factories import T0, auth, make_course, make_group, make_staff, make_student, make_submission, make_user
from tests.web.helpers import web_login


def test_an_id_beyond_64_bits_in_a_query_is_422(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    session.commit()
    response = client.get("/api/v1/me/reviews?course_id=9223372036854775808", headers=headers)
    assert (response.status_code, response.json()["field"]) == (422, "course_id")


def test_pinning_a_version_id_beyond_64_bits_on_the_page_is_refused(client: TestClient, session: Session) -> None:
    course = make_course(session)
    group = make_group(session, course, size=3)
    make_submission(session, group, "report", received_at=T0)
    csrf = web_login(client, session, make_staff(session, course))
    response = client.post(
        f"/ui/groups/{group.id}/graded", data={"csrf_token": csrf, "milestone": "report", "submission_id": str(2**70)}
    )
    assert response.status_code == 422
    assert "This version belongs to another group or milestone." in response.text
    assert session.exec(select(GradedPin)).all() == []


def test_a_csv_the_csv_module_refuses_is_422(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    make_student(session, course, student_no="S1")
    headers = auth(session, lecturer)
    session.commit()
    url = f"/api/v1/courses/{course.id}/assignment-marks"
    bare_cr = b"student_no,assignment_mark\nS1,8\r0\n"
    huge = b"student_no,assignment_mark\nS1," + b"9" * 140_000 + b"\n"
    cut = client.post(url, headers=headers, files={"file": ("m.csv", bare_cr, "text/csv")})
    assert (cut.status_code, cut.json()["detail"]) == (422, "line 3: expected 2 fields, found 1.")
    too_long = client.post(url, headers=headers, files={"file": ("m.csv", huge, "text/csv")})
    assert (too_long.status_code, too_long.json()["detail"]) == (
        422,
        "line 2: this line cannot be read as CSV: field larger than field limit (131072).",
    )


def test_json_types_are_not_coerced(client: TestClient, session: Session) -> None:
    lecturer = make_user(session, admin=True)
    course = make_course(session, lecturer=lecturer)
    headers = auth(session, lecturer)
    session.commit()
    cases = [
        ("POST", f"/api/v1/courses/{course.id}/selections", {"slots": True}, "slots"),
        ("POST", f"/api/v1/courses/{course.id}/selections", {"normalise": 1}, "normalise"),
        ("PATCH", f"/api/v1/courses/{course.id}", {"min_group_size": "3"}, "min_group_size"),
        ("PATCH", f"/api/v1/courses/{course.id}/milestones/report", {"due_at": 1767225600}, "due_at"),
        ("PATCH", f"/api/v1/courses/{course.id}", {"start_date": 1767225600}, "start_date"),
        ("POST", f"/api/v1/courses/{course.id}/groups", {"name": "Owls\x00"}, "name"),
        ("POST", f"/api/v1/courses/{course.id}/groups", {"name": "Owls\u0007"}, "name"),
        ("PATCH", f"/api/v1/courses/{course.id}", {"section_synonyms": {"plan": ["x"] * 31}}, "section_synonyms"),
        (
            "PATCH",
            f"/api/v1/courses/{course.id}",
            {"section_synonyms": {"plan": ["x" * 81]}},
            "section_synonyms.plan.0",
        ),
        (
            "PATCH",
            f"/api/v1/courses/{course.id}",
            {"required_sections": {"posterz": ["plan"]}},
            "required_sections.posterz.[key]",
        ),
        ("PATCH", f"/api/v1/courses/{course.id}", {"title": None}, "title"),
        ("PATCH", f"/api/v1/courses/{course.id}", {"colour": "red"}, "colour"),
    ]
    for method, url, body, field in cases:
        response = client.request(method, url, json=body, headers=headers)
        assert (response.status_code, response.json()["field"]) == (422, field), (body, response.text)
    session.expire_all()
    stored = session.get(Course, course.id)
    assert stored is not None
    assert (stored.min_group_size, stored.title) == (3, "Deep Learning")
    assert session.exec(select(ProjectGroup)).all() == []
