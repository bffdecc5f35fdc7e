"""Annotated dependencies shared by every router."""

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.clock import Clock, get_clock
from app.config import Settings, get_settings
from app.db import get_engine, get_session
from app.errors import NotAuthenticated
from app.models import User
from app.people.service import user_from_token
from app.storage import FileStore, StagedFile, get_store
from app.storage.gc import stored_file_release

logger = logging.getLogger(__name__)

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


StoreDep = Annotated[FileStore, Depends(get_store)]


def _release_after_failure(store: FileStore, staged: StagedFile) -> None:
    """Delete the file a failed upload put in the store, unless a row (another upload's) names it."""
    try:
        with Session(get_engine()) as session:
            stored_file_release(session, store=store, sha256=staged.sha256)
            session.commit()
    except Exception:  # the failure being reported matters more; gc removes the file later
        logger.exception("could not remove the stored file %s of a failed upload", staged.sha256)


def staged_upload(store: StoreDep, settings: SettingsDep) -> Iterator[StagedFile]:
    """A staged upload for one request; its temporary file is always removed, and the stored file too on failure.

    Declare it before SessionDep in a route: it is then torn down after the session, so it sees a
    failed commit too, and the row's transaction (with the hash's lock) has ended.
    """
    staged = store.stage(max_bytes=settings.max_upload_bytes)
    try:
        yield staged
    except BaseException:
        staged.discard()
        if staged.created:
            _release_after_failure(store, staged)
        raise
    staged.discard()


StagedUploadDep = Annotated[StagedFile, Depends(staged_upload, scope="function")]
