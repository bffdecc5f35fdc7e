"""Annotated dependencies shared by every router."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.clock import Clock, get_clock
from app.config import Settings, get_settings
from app.db import get_session
from app.errors import NotAuthenticated
from app.models import User
from app.people.service import user_from_token

# scope="function": the session commits when the route returns, before the response
# is sent, so a failed commit reaches the client as an error instead of a false 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_current_user(session: SessionDep, clock: ClockDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user behind the bearer token; 401 when it is missing, expired or revoked."""
    if not token:
        raise NotAuthenticated("Log in first: send 'Authorization: Bearer <token>'.")
    user = user_from_token(session, token=token, now=clock(), kind="api")
    # End the read transaction here: on SQLite every transaction holds the write lock, and this
    # one would otherwise stay open across the thread hop to the route.
    session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def client_address(request: Request) -> str | None:
    """The client's address (a trusted proxy's X-Forwarded-For is applied by the proxy middleware)."""
    return request.client.host if request.client else None
