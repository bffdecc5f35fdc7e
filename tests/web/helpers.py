"""Signing a browser-less client in to the pages, and reading what they show."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.people.service import token_issue
from app.web.deps import SESSION_COOKIE, csrf_token_for
from tests.factories import FAR_FUTURE, T0


def web_login(client: TestClient, session: Session, user: User) -> str:
    """Give the client a web session cookie for `user` (no password hashing); returns the CSRF token."""
    secret, token = token_issue(session, user=user, now=T0, kind="web")
    token.expires_at = FAR_FUTURE
    session.add(token)
    session.commit()
    client.cookies.set(SESSION_COOKIE, secret)
    return csrf_token_for(secret)


def hidden_csrf(html: str) -> str:
    """The CSRF token in a page's first form."""
    match = re.search(r'name="csrf_token" value="([0-9a-zA-Z_-]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def text_of(html: str) -> str:
    """The page's visible text with tags removed and whitespace collapsed (for exact assertions)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
