"""The login flow: throttle, read the account, verify the password, issue a token.

Unlike the other use cases this flow ends its own transactions. The password hash is
compared (about a quarter of a second of CPU) between two short transactions, never inside
one: on SQLite every transaction holds the database's write lock, so a flood of wrong
passwords would otherwise stall every other request.
"""

import asyncio
import weakref
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from sqlmodel import Session

from app.config import Settings
from app.db import get_engine
from app.errors import NotAuthenticated
from app.models import ApiToken
from app.people.service import ERR_BAD_LOGIN, login_account, login_issue
from app.people.throttle import throttle_fast_check, throttle_forgive, throttle_keys, throttle_reserve
from app.security import dummy_password_hash, verify_password

T = TypeVar("T")
# Logins processed at once per process. The others wait in the event loop, holding no thread and no
# connection; once an account is locked they are answered 429 from memory. Without this bound a burst
# of guesses took every worker thread and queued on the database ahead of everyone else's requests.
LOGIN_CONCURRENCY = 2
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]" = weakref.WeakKeyDictionary()


def _in_transaction(session: Session, work: Callable[[], T]) -> T:
    try:
        result = work()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def login_verify(
    session: Session,
    *,
    username: str,
    password: str,
    address: str | None,
    now: datetime,
    settings: Settings,
    kind: str = "api",
) -> tuple[str, ApiToken]:
    """Check the credentials under the throttle and issue a token; 401 with one message, or 429."""
    database = str(get_engine().url)
    keys = throttle_keys(username=username, address=address, settings=settings)
    throttle_fast_check(database=database, keys=keys, now=now)

    def reserve() -> tuple[int | None, str | None]:
        throttle_reserve(session, database=database, keys=keys, now=now, settings=settings)
        return login_account(session, username=username)

    user_id, password_hash = _in_transaction(session, reserve)
    # Unknown and not-yet-activated accounts are compared against a dummy hash of the same
    # cost, so the answer takes as long as for a wrong password and names no account.
    matches = verify_password(password_hash or dummy_password_hash(), password)
    if user_id is None or not matches:
        raise NotAuthenticated(ERR_BAD_LOGIN)

    def issue() -> tuple[str, ApiToken]:
        throttle_forgive(session, database=database, keys=keys, now=now)
        return login_issue(session, user_id=user_id, now=now, kind=kind)

    return _in_transaction(session, issue)


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = CapacityLimiter(LOGIN_CONCURRENCY)
    return _limiters[loop]


def _login_in_own_session(
    *, username: str, password: str, address: str | None, now: datetime, settings: Settings, kind: str
) -> tuple[str, ApiToken]:
    with Session(get_engine(), expire_on_commit=False) as session:
        return login_verify(
            session, username=username, password=password, address=address, now=now, settings=settings, kind=kind
        )


async def login_bounded(
    *, username: str, password: str, address: str | None, now: datetime, settings: Settings, kind: str = "api"
) -> tuple[str, ApiToken]:
    """`login_verify` with its own session, at most LOGIN_CONCURRENCY at a time; a known lockout answers at once."""
    keys = throttle_keys(username=username, address=address, settings=settings)
    throttle_fast_check(database=str(get_engine().url), keys=keys, now=now)
    work = partial(
        _login_in_own_session,
        username=username,
        password=password,
        address=address,
        now=now,
        settings=settings,
        kind=kind,
    )
    return await to_thread.run_sync(work, limiter=_limiter())
