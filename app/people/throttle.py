"""Failed-login throttling per account name and per client address, kept in the database.

Each attempt is counted as a failure *before* its password is checked and forgiven when it
succeeds, so a burst of concurrent guesses cannot all slip past the counter while their
hashes are being compared. After the allowed number of failures a key is locked, and each
further failure doubles the lockout. Unknown account names are counted like real ones, so
the throttle tells nothing about which accounts exist.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, select

from app.audit.service import audit_record
from app.config import Settings
from app.errors import TooManyRequests
from app.models import LoginThrottle

ERR_LOCKED = "Too many failed logins; try again in {seconds} s."
# Locks this process already knows of, so that a flood of guesses against a locked key is
# answered without touching the database. Keyed by database URL as well: the store of record
# is the database, and tests run many databases in one process.
_known_locks: dict[tuple[str, str], datetime] = {}


@dataclass(frozen=True)
class ThrottleKey:
    """One counter: its key and how many failures it allows before a lockout."""

    key: str
    max_failures: int


def throttle_keys(*, username: str, address: str | None, settings: Settings) -> list[ThrottleKey]:
    """The counters a login attempt touches: its account name and, when known, its client address."""
    keys = [ThrottleKey(f"account:{username.strip().lower()[:150]}", settings.login_max_failures)]
    if address:
        keys.append(ThrottleKey(f"address:{address[:150]}", settings.login_max_failures_per_address))
    return keys


def _lockout(failures: int, max_failures: int, settings: Settings) -> timedelta:
    doublings = min(failures - max_failures, 30)
    return timedelta(seconds=min(settings.login_lockout_max_s, settings.login_lockout_s * 2**doublings))


def _refuse(until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, ceil((until - now).total_seconds()))
    return TooManyRequests(ERR_LOCKED.format(seconds=seconds), retry_after=seconds, code="too_many_logins")


def throttle_fast_check(*, database: str, keys: list[ThrottleKey], now: datetime) -> None:
    """429 from memory when this process already knows a key is locked (no database work)."""
    for k in keys:
        until = _known_locks.get((database, k.key))
        if until is not None and until > now:
            raise _refuse(until, now)


def _row_for_update(session: Session, key: str, now: datetime) -> LoginThrottle:
    table = SQLModel.metadata.tables[str(LoginThrottle.__tablename__)]
    values = {"key": key, "failures": 0, "last_failure_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # Two first attempts at once must not both insert the row: the second does nothing.
    session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    return session.exec(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()


def throttle_reserve(
    session: Session, *, database: str, keys: list[ThrottleKey], now: datetime, settings: Settings
) -> None:
    """Count this attempt as a failure on every key; 429 (nothing counted) while any key is locked."""
    rows = [(k, _row_for_update(session, k.key, now)) for k in keys]
    for k, row in rows:
        if row.locked_until is not None and row.locked_until > now:
            _known_locks[(database, k.key)] = row.locked_until
            raise _refuse(row.locked_until, now)
    window = timedelta(seconds=settings.login_failure_window_s)
    for k, row in rows:
        if row.last_failure_at + window < now:
            row.failures = 0  # a quiet hour forgives earlier failures
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= k.max_failures:
            row.locked_until = now + _lockout(row.failures, k.max_failures, settings)
            _known_locks[(database, k.key)] = row.locked_until
            audit_record(
                session,
                at=now,
                actor=None,
                action="login.lockout",
                entity="login_throttle",
                entity_id=row.id,
                course_id=None,
                after={"key": k.key, "failures": row.failures, "locked_until": row.locked_until.isoformat()},
            )
        session.add(row)


def throttle_forgive(session: Session, *, database: str, keys: list[ThrottleKey], now: datetime) -> None:
    """A successful login: the account starts afresh, and this attempt no longer counts for its address."""
    account, *others = keys
    row = session.exec(select(LoginThrottle).where(LoginThrottle.key == account.key).with_for_update()).first()
    if row is not None:
        session.delete(row)
    _known_locks.pop((database, account.key), None)
    for k in others:
        row = session.exec(select(LoginThrottle).where(LoginThrottle.key == k.key).with_for_update()).first()
        if row is None:
            continue
        row.failures = max(0, row.failures - 1)
        if row.failures < k.max_failures and row.locked_until is not None:
            row.locked_until = None
            _known_locks.pop((database, k.key), None)
        session.add(row)
