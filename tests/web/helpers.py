"""Signing a browser-less client in to the pages, and reading what they show."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.tokens import token_issue
from app.web.deps import SESSION_COOKIE, csrf_token_derive
from tests.factories import FAR_FUTURE, T0


def web_login(client: TestClient, session: Session, user: User) -> str:
    """Give the client a web session cookie for `user` (no password hashing); returns the CSRF token."""
    secret, token = token_issue(session, user=user, now=T0, kind="web")
    token.expires_at = FAR_FUTURE
    session.add(token)
    session.commit()
    client.cookies.set(SESSION_COOKIE, secret)
    return csrf_token_derive(secret)


def hidden_csrf(html: str) -> str:
    """The CSRF token in a page's first form."""
    match = re.search(r'name="csrf_token" value="([0-9a-zA-Z_-]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def text_of(html: str) -> str:
    """The page's visible text with tags removed and whitespace collapsed (for exact assertions)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def staff_forms(*, course_id: int, group_id: int, submission_id: int, run_id: int) -> dict[str, dict[str, str]]:
    """Every staff form post of the pages with valid fields (CSRF token left to the caller)."""
    return {
        f"/ui/groups/{group_id}/extension": {"milestone": "report", "due_at": "2026-12-30T08:00", "reason": "x"},
        f"/ui/submissions/{submission_id}/review": {"points.overall": "100"},
        f"/ui/groups/{group_id}/topic": {"decision": "approve"},
        f"/ui/groups/{group_id}/graded": {"milestone": "report", "submission_id": str(submission_id)},
        f"/ui/courses/{course_id}/selection": {"force": "true"},
        f"/ui/selections/{run_id}/overrides": {
            "add_group_id": str(group_id),
            "remove_group_id": str(group_id),
            "reason": "x",
        },
        f"/ui/selections/{run_id}/publish": {},
    }
