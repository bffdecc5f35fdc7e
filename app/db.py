"""Engine, session and the column types shared by every table."""

import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from app.config import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_OPTION = "tracker_write"
_DEFERRED = "tracker_deferred"
_WROTE = "tracker_wrote"
_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_READ_UNIT = "tracker_read_unit"
_RETURNED_AT = "tracker_returned_at"
# A pooled PostgreSQL connection idle for longer than this is pinged before use; one in steady use
# is not (a dead one is then met by the unit's first statement: see run_transaction).
IDLE_PING_S = 1.0


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> "Config":
    """The Alembic configuration of this project, optionally for another database URL."""
    from alembic.config import Config

    # A source checkout keeps alembic.ini beside app/; an installed package finds it in the working folder.
    root = PROJECT_ROOT if (PROJECT_ROOT / "alembic.ini").exists() else Path.cwd()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


_generation = 0


class WriteLockNeeded(Exception):
    """A unit of work begun as a read (SQLite DEFERRED, PostgreSQL autocommit) tried to write."""


@event.listens_for(OrmSession, "after_flush")
def _note_write(session: OrmSession, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(OrmSession, "after_commit")
def _note_committed(session: OrmSession) -> None:
    global _generation
    if session.info.get(_WROTE):
        _generation += 1
    session.info[_WROTE] = False


@event.listens_for(OrmSession, "after_rollback")
def _note_rolled_back(session: OrmSession) -> None:
    session.info[_WROTE] = False


def write_generation() -> int:
    """A number that changes whenever a transaction of this process commits a write (for caches)."""
    return _generation


# Deterministic constraint names, so Alembic revisions stay reviewable and portable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware instants as UTC and always returns them aware (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; instants must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON


def _prepare_sqlite(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _refuse_write_in_read(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    """Stop a write inside a unit begun as a read; run_transaction re-runs the unit as a writer.

    SQLite: upgrading a DEFERRED transaction to a writer fails outright (SQLITE_BUSY_SNAPSHOT) when
    another writer committed meanwhile, and would dodge the lock the race rules rely on.
    PostgreSQL: a read runs in autocommit (no BEGIN or COMMIT round trips; at READ COMMITTED every
    statement takes its own snapshot inside a transaction too), where a write would commit
    statement by statement.
    """
    read = conn.info.get(_DEFERRED) or conn.get_execution_options().get(_READ_UNIT)
    if read and _WRITE_STATEMENT.match(statement):
        raise WriteLockNeeded(statement.split(None, 1)[0])


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, locked writes and lock-free reads."""
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front: SQLite's stand-in for row locks, so "count
            # then insert" rules (group size, version numbers) cannot race. A unit of work that
            # declared itself a read begins DEFERRED instead and takes no lock, so reads never
            # queue behind writes (WAL readers see a snapshot).
            write = conn.get_execution_options().get(WRITE_OPTION, True)
            conn.info[_DEFERRED] = not write
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        event.listen(engine, "before_cursor_execute", _refuse_write_in_read)

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _on_end(conn: Connection) -> None:
            conn.info.pop(_DEFERRED, None)

        return engine
    return _postgres_engine(url, **kwargs)


def _postgres_engine(url: str, **kwargs: Any) -> Engine:
    """A PostgreSQL engine whose pool pings only idle connections and whose reads may run in autocommit."""
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A ping on every checkout (pool_pre_ping) is a round trip per request, a fifth of a short
        # read's; a connection that was just returned is as alive as the request that used it.
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the database closed an idle connection") from exc  # the pool opens another

    event.listen(engine, "before_cursor_execute", _refuse_write_in_read)
    return engine


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        return make_engine(settings.database_url)
    return make_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)


def set_write_mode(session: Session, write: bool) -> None:
    """Declare whether the session's next transaction writes (SQLite: IMMEDIATE) or only reads (DEFERRED)."""
    session.execution_options = session.execution_options.union({WRITE_OPTION: write})


def _end(session: Session, *, commit: bool) -> None:
    if commit:
        session.commit()
        return
    try:
        session.rollback()
    except Exception:  # the connection may be gone (database down): the original error matters more
        logger.warning("rollback failed", exc_info=True)


def run_transaction(session: Session, work: Callable[..., T], /, *, write: bool, **kwargs: Any) -> T:
    """Run `work(session, **kwargs)` as one transaction that ends (commit, or rollback) in this thread.

    A transaction held across a hop to another worker thread holds the SQLite write lock or a
    pooled connection while it waits for a free thread; when every thread is itself waiting for
    that lock or a connection, nothing moves until the timeouts fire. Ended in the thread that
    began it, a transaction is only ever held by a thread that is running.

    `write=False` begins a read (DEFERRED on SQLite, autocommit on PostgreSQL); if the work writes
    after all, it is rolled back and run once more as a writer, so a wrong guess costs time, never
    correctness. A read that met a connection the database had closed (a restart) runs once more
    on a new one: it changed nothing.
    """
    for attempt in range(2):
        set_write_mode(session, write or attempt > 0)
        try:
            if not (write or attempt) and not session.in_transaction():
                _begin_read(session)
            result = work(session, **kwargs)
            _end(session, commit=True)
            return result
        except BaseException as exc:
            _end(session, commit=False)
            if attempt == 0 and not write and (_needs_write_lock(exc) or _connection_lost(exc)):
                continue
            raise
        finally:
            set_write_mode(session, False)
    raise AssertionError("unreachable")


def _begin_read(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT", _READ_UNIT: True})


def _connection_lost(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _needs_write_lock(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, WriteLockNeeded):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def request_session() -> Iterator[Session]:
    """A request's session: its units of work go through run_transaction; it is closed at the end.

    Creating and closing it does no I/O when every unit has ended, so the request dependency can
    run on the event loop and needs no worker thread for its set-up or teardown.
    """
    session = Session(get_engine(), expire_on_commit=False)
    session.info[_WROTE] = False
    set_write_mode(session, False)
    try:
        yield session
    finally:
        wrote = session.info.get(_WROTE, False) and session.in_transaction()
        # A transaction still open here was begun outside run_transaction (a lazy load while the
        # response was serialised, or a route that forgot): reads are dropped, writes are a bug.
        session.close()
        if wrote:
            raise RuntimeError("a request wrote outside run_transaction; its changes were rolled back")


async def get_session() -> AsyncIterator[Session]:
    """One session per request; each unit of work commits or rolls back in its own thread."""
    with request_session() as session:
        yield session


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)
