"""Annotated dependencies shared by every router, and the route class that ends transactions."""

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.clock import Clock, get_clock
from app.config import Settings, get_settings
from app.db import get_engine, get_session, run_transaction
from app.errors import NotAuthenticated
from app.models import User
from app.storage import FileStore, StagedFile, get_store
from app.storage.gc import stored_file_release
from app.tokens import user_from_token

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The session dependency runs on the event loop (no I/O, no worker thread); scope="function" closes it
# before the response is sent, so a unit of work left open is reported instead of silently dropped.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def user_for_token(session: Session, *, token: str | None, now: datetime) -> User:
    """The user of a bearer token, read in the caller's transaction; 401 when it is missing or dead."""
    if not token:
        raise NotAuthenticated("Log in first: send 'Authorization: Bearer <token>'.")
    return user_from_token(session, token=token, now=now, kind="api")


def get_current_user(
    session: SessionDep, clock: ClockDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The user behind the bearer token; 401 when it is missing, expired or revoked."""
    # Its own read transaction, ended in this thread: the route runs in another one.
    return run_transaction(session, user_for_token, write=False, token=token, now=clock())


CurrentUser = Annotated[User, Depends(get_current_user)]


async def bearer_token(token: Annotated[str | None, Depends(oauth2_scheme)]) -> str:
    """The bearer token, checked in the hot reads' own transaction; 401 at once when there is none."""
    if not token:
        raise NotAuthenticated("Log in first: send 'Authorization: Bearer <token>'.")
    return token


BearerToken = Annotated[str, Depends(bearer_token)]


async def read_as_user(session: Session, clock: Clock, token: str, work: Callable[..., T], /, **kwargs: Any) -> T:
    """`work(session, user=..., **kwargs)` for the token's user: one read transaction in one worker thread.

    For the hottest reads (async routes): CurrentUser costs a worker-thread hop and a transaction
    of its own, a sync route another hop and FastAPI's validation of its answer a third; on a
    burst those hops queue for the same 40 threads.
    """

    def unit(inner: Session, **unit_kwargs: Any) -> T:
        return work(inner, user=user_for_token(inner, token=token, now=clock()), **unit_kwargs)

    return await run_in_threadpool(run_transaction, session, unit, write=False, **kwargs)


def in_own_transaction(endpoint: Callable[..., Any], *, write: bool) -> Callable[..., Any]:
    """Wrap a sync endpoint so the session it is given commits or rolls back in the endpoint's own thread."""
    if inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return endpoint  # async routes end their units themselves (run_transaction in a thread)

    @functools.wraps(endpoint)
    def endpoint_in_transaction(*args: Any, **kwargs: Any) -> Any:
        sessions = {id(v): v for v in kwargs.values() if isinstance(v, Session)}
        if len(sessions) != 1:
            return endpoint(*args, **kwargs)
        (session,) = sessions.values()
        return run_transaction(session, lambda _session: endpoint(*args, **kwargs), write=write)

    return endpoint_in_transaction


class TransactionRoute(APIRoute):
    """A route whose sync endpoint ends its database transaction in the thread it ran in.

    FastAPI runs a sync endpoint in one worker thread, serialises its answer in another and tears
    dependencies down in a third; a transaction left for the teardown would hold the SQLite lock or
    a pooled connection while waiting for threads that may all be waiting for it. Every API and
    page router uses this class (a test checks each route of the app). Reads (GET, HEAD) begin
    without the SQLite write lock; other methods take it up front.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        super().__init__(path, in_own_transaction(endpoint, write=not methods <= READ_METHODS), **kwargs)


def client_address(request: Request) -> str | None:
    """The client's address (a trusted proxy's X-Forwarded-For is applied by the proxy middleware)."""
    return request.client.host if request.client else None


StoreDep = Annotated[FileStore, Depends(get_store)]


def _release_after_failure(store: FileStore, staged: StagedFile) -> None:
    """Delete the file a failed upload put in the store, unless a row (another upload's) names it."""
    try:
        with Session(get_engine()) as session:
            run_transaction(session, stored_file_release, write=True, store=store, sha256=staged.sha256)
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
