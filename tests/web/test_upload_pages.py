"""The pages' upload and check go through the API's check queue: the same per-user cap, no thread held."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Submission
from app.submissions.checkqueue import err_too_many_checks, get_check_queue
from tests.factories import make_course, make_group, make_student, make_topic
from tests.submissions.pdfs import tiny_pdf
from tests.web.helpers import text_of, web_login


@pytest.mark.parametrize("action", ["upload", "check"])
def test_a_student_with_two_checks_running_is_refused_next_to_the_file_field_and_nothing_is_stored(
    client: TestClient, session: Session, action: str
) -> None:
    course = make_course(session)
    ada = make_student(session, course, name="Ada")
    others = [make_student(session, course, name=name) for name in ("Bob", "Cy")]
    group = make_group(session, course, members=[ada, *others], name="Owls")
    make_topic(session, group)
    csrf = web_login(client, session, ada)
    queue = get_check_queue()
    # Two checks of Ada's already queued or running (say from the API, or another tab).
    queue.admit(ada.id or 0)
    queue.admit(ada.id or 0)
    try:
        refused = client.post(
            f"/ui/groups/{group.id}/milestones/proposal/{action}",
            params={"csrf_token": csrf},
            files={"file": ("proposal.pdf", tiny_pdf(), "application/pdf")},
        )
    finally:
        queue.leave(ada.id or 0)
        queue.leave(ada.id or 0)
    assert refused.status_code == 429
    assert err_too_many_checks(2) in text_of(refused.text)
    assert session.exec(select(Submission)).all() == []
    assert queue.in_progress(ada.id or 0) == 0
    # With her earlier checks over, the same request goes through the queue and is answered.
    again = client.post(
        f"/ui/groups/{group.id}/milestones/proposal/{action}",
        params={"csrf_token": csrf},
        files={"file": ("proposal.pdf", tiny_pdf(), "application/pdf")},
        follow_redirects=False,
    )
    assert again.status_code == (303 if action == "upload" else 200)
    stored = session.exec(select(Submission.version, Submission.filename)).all()
    assert stored == ([(1, "proposal.pdf")] if action == "upload" else [])
    assert queue.in_progress(ada.id or 0) == 0
