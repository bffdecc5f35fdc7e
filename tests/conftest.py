"""Test fixtures: a fresh migrated database per test on each backend, a fake clock, an API client.

Every test that asks for a database runs once per backend named in TRACKER_TEST_BACKENDS
("sqlite,postgresql" by default); the PostgreSQL server comes from TRACKER_TEST_POSTGRES_URL,
which ./scripts/test sets after starting a throwaway server.
"""

import itertools
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.clock import get_clock
from app.config import get_settings
from app.db import alembic_config, get_engine, make_engine

BACKENDS = [b.strip() for b in os.environ.get("TRACKER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL")
_db_counter = itertools.count()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database backends this run covers."""
    where = f" ({make_url(POSTGRES_URL).render_as_string(hide_password=True)})" if POSTGRES_URL else ""
    return f"database backends: {', '.join(BACKENDS)}{where if 'postgresql' in BACKENDS else ''}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every database test once per backend; postgres_only tests on PostgreSQL alone."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = BACKENDS
    if metafunc.definition.get_closest_marker("postgres_only"):
        # Only a quick local run that leaves PostgreSQL out ends up with no parameter here.
        backends = [b for b in BACKENDS if b == "postgresql"]
    metafunc.parametrize("backend", backends)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once with `alembic upgrade head`, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the WAL in, so one file is a whole copy
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated once with `alembic upgrade head`, cloned for each test."""
    if not POSTGRES_URL:
        pytest.fail("TRACKER_TEST_POSTGRES_URL is not set: run ./scripts/test, or set TRACKER_TEST_BACKENDS=sqlite")
    name = f"tracker_template_{os.getpid()}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "head")
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@contextmanager
def _postgres_database(template: str) -> Iterator[str]:
    name = f"tracker_test_{os.getpid()}_{next(_db_counter)}"
    admin = make_engine(POSTGRES_URL or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield make_url(POSTGRES_URL or "").set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated database for this test; the app is configured to use it."""

    @contextmanager
    def sqlite_database() -> Iterator[str]:
        path = tmp_path / "test.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"

    database = (
        sqlite_database() if backend == "sqlite" else _postgres_database(request.getfixturevalue("postgres_template"))
    )
    with database as url:
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        monkeypatch.setenv("TRACKER_STORAGE_DIR", str(tmp_path / "files"))
        # The test client speaks plain HTTP; cookies marked Secure would never be sent back.
        monkeypatch.setenv("TRACKER_COOKIE_SECURE", "false")
        monkeypatch.setenv("TRACKER_PUBLIC_URL", "http://testserver")
        monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "cache"))
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            yield url
        finally:
            get_engine().dispose()
            get_engine.cache_clear()
            get_settings.cache_clear()


@pytest.fixture
def engine(db_url: str) -> Engine:
    """The engine the app uses for this test's database."""
    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for building rows; factories flush, tests commit before calling the API."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@dataclass
class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 9, 1, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, instant: datetime) -> None:
        """Jump to an instant."""
        self.now = instant

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta given as keywords (hours=1, seconds=5, ...)."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """The clock the app sees during this test."""
    return FakeClock()


@pytest.fixture
def client(db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    """An API client on this test's database and clock."""
    from app.main import app

    app.dependency_overrides[get_clock] = lambda: clock
    try:
        with TestClient(app) as test_client:
            yield test_client
    finally:
        app.dependency_overrides.pop(get_clock, None)


@dataclass
class QueryCounter:
    """Counts the SQL statements an engine runs inside a `with` block."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.statements)


@pytest.fixture
def count_queries(engine: Engine) -> Callable[[], Any]:
    """`with count_queries() as counter:` records every statement the app runs."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
                counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def smtp(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free loopback port; the app's TRACKER_SMTP_URL points at it."""
    from tests.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    monkeypatch.setenv("TRACKER_SMTP_URL", server.url)
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://tracker.example.edu")
    monkeypatch.setenv("TRACKER_MAIL_FROM", "DL Tracker <tracker@example.edu>")
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        get_settings.cache_clear()
