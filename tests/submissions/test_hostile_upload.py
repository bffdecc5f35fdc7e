"""A hostile PDF is checked in a worker with limits while the service goes on answering."""

import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.formatcheck.isolate import default_pool
from tests.factories import auth, make_user
from tests.formatcheck.formatcheck_pdfs import bomb_pdf

TOO_MUCH_MEMORY = (
    "This file could not be checked: reading it needed more than 512 MB of memory. "
    "Export it again as a PDF and upload that."
)


def test_the_api_answers_while_a_decompression_bomb_is_checked(client: TestClient, session: Session) -> None:
    headers = auth(session, make_user(session))
    pool = default_pool()
    pool.warm()
    with ThreadPoolExecutor(max_workers=1) as executor:
        hostile = executor.submit(
            client.post,
            "/api/v1/check",
            params={"ruleset": "report"},
            headers=headers,
            files={"file": ("bomb.pdf", bomb_pdf(gigabytes=1), "application/pdf")},
        )
        while len(pool._idle) == pool.size and not hostile.done():  # until a worker has taken the bomb
            time.sleep(0.01)
        me = client.get("/api/v1/me", headers=headers)
        # /me was answered while the bomb was still being parsed.
        assert not hostile.done()
        assert me.status_code == 200
        response = hostile.result()
    assert response.status_code == 200
    body = response.json()
    assert (body["verdict"], body["errors"]) == (
        "reject",
        [{"code": "unreadable", "message": TOO_MUCH_MEMORY, "pages": [], "boxes": []}],
    )
