"""The OpenAPI document tells the truth about errors, media types and allowed methods."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import app
from tests.factories import auth, make_course, make_user

ERROR_STATUSES = {"400", "401", "403", "404", "405", "408", "409", "413", "415", "422", "429"}


def test_every_operation_documents_every_error_with_the_real_error_model() -> None:
    document = app.openapi()
    error_schema = document["components"]["schemas"]["ErrorPublic"]
    assert set(error_schema["properties"]) == {"error", "detail", "field", "errors"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert set(responses) >= ERROR_STATUSES, (method, path)
            for status in ERROR_STATUSES:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorPublic"}, (method, path, status)


def test_files_are_documented_with_their_media_types() -> None:
    paths = app.openapi()["paths"]
    assert list(paths["/api/v1/courses/{course_id}/marks.csv"]["get"]["responses"]["200"]["content"]) == ["text/csv"]
    assert list(paths["/api/v1/submissions/{submission_id}/file"]["get"]["responses"]["200"]["content"]) == [
        "application/pdf"
    ]
    assert list(paths["/api/v1/calendar/{secret}.ics"]["get"]["responses"]["200"]["content"]) == ["text/calendar"]


def test_a_405_allows_every_method_of_the_path(client: TestClient, session: Session) -> None:
    course = make_course(session)
    headers = auth(session, make_user(session))
    session.commit()
    response = client.put(f"/api/v1/courses/{course.id}", headers=headers, json={})
    assert (response.status_code, response.headers["allow"], response.json()) == (
        405,
        "GET, PATCH",
        {"error": "method_not_allowed", "detail": "Method Not Allowed"},
    )
