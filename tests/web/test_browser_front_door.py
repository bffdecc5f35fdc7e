"""`/` leads to the login page, and /docs works with the network cut off (every non-local request blocked)."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_docs_load_offline_and_the_root_leads_to_the_login(page: Any) -> None:
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_local)
    page.goto("/")
    assert re.search(r"/ui/login\?next=/ui$", page.url)
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"

    page.goto("/docs")
    page.get_by_role("heading", name=re.compile("^Course Project Tracker")).wait_for()
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = set(operations.all_inner_texts())
    assert {
        "/api/v1/me/password",
        "/api/v1/courses/{course_id}/members",
        "/api/v1/submissions/{submission_id}/pages/{page}.png",
    } <= {p.replace("\u200b", "") for p in paths}
    assert blocked == []  # nothing even tried to leave the machine
