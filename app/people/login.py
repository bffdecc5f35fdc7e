"""The login flow: throttle, read the account, verify the password, issue a token.

Unlike the other use cases this flow ends its own transactions. The password hash is
compared (about a quarter of a second of CPU) between two short transactions, never inside
one: on SQLite every transaction holds the database's write lock, so a flood of wrong
passwords would otherwise stall every other request.
"""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session

from app.config import Settings
from app.errors import NotAuthenticated
from app.models import ApiToken
from app.people.service import ERR_BAD_LOGIN, login_account, login_issue
from app.people.throttle import throttle_fast_check, throttle_forgive, throttle_keys, throttle_reserve
from app.security import dummy_password_hash, verify_password

T = TypeVar("T")


def _in_transaction(session: Session, work: Callable[[], T]) -> T:
    try:
        result = work()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def login(session: Session, *, username: str, password: str, address: str | None, now: datetime,
          settings: Settings, kind: str = "api") -> tuple[str, ApiToken]:
    """Check the credentials under the throttle and issue a token; 401 with one message, or 429."""
    database = str(session.get_bind().url)
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
