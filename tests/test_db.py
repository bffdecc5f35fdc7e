"""Units of work end in their own thread; reads take no lock (SQLite) and no transaction (PostgreSQL)."""

import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

import app.db as app_db
from app.db import WriteLockNeeded, request_session, run_transaction
from app.deps import TransactionRoute
from app.models import User
from tests.factories import auth, make_user


def _begins(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_every_route_of_the_app_ends_its_transaction_in_its_own_thread() -> None:
    from app.main import app

    routes: list[APIRoute] = []
    for route in app.routes:  # included routers appear as one entry each, holding their routes
        contexts = getattr(route, "effective_route_contexts", None)
        routes.extend(c.original_route for c in contexts()) if contexts else routes.append(route)
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(routes) > 50
    assert [r.path for r in routes if not isinstance(r, TransactionRoute)] == []


def test_a_read_unit_begins_deferred_and_a_write_unit_immediate(backend: str, engine: Engine) -> None:
    begins = _begins(engine)
    with request_session() as session:
        run_transaction(session, lambda s: s.exec(select(User)).all(), write=False)
        run_transaction(session, lambda s: make_user(s, username="writer"), write=True)
    # PostgreSQL's BEGIN is issued by the driver itself, not as a statement.
    assert begins == (["BEGIN", "BEGIN IMMEDIATE"] if backend == "sqlite" else [])


def _autocommit(s: Session) -> bool:
    return bool(s.connection().connection.dbapi_connection.autocommit)  # type: ignore[union-attr]  # the pool may hand out None: not here, inside a unit


@pytest.mark.postgres_only
def test_a_postgresql_read_runs_in_autocommit_and_a_write_in_a_transaction(backend: str, engine: Engine) -> None:
    with request_session() as session:
        read = run_transaction(session, _autocommit, write=False)
        write = run_transaction(session, _autocommit, write=True)
        read_again = run_transaction(session, _autocommit, write=False)
    assert (read, write, read_again) == (True, False, True)


def _close_from_the_server(engine: Engine) -> int:
    """Close, from the server's side, every other connection to this database (as a restart does)."""
    other = create_engine(engine.url, poolclass=NullPool)
    with other.connect() as conn:
        closed = conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalar_one()
    other.dispose()
    return int(closed)


def _usernames(calls: list[str]) -> Callable[[Session], list[str]]:
    def work(s: Session) -> list[str]:
        calls.append("read")
        return list(s.exec(select(User.username)).all())

    return work


@pytest.mark.postgres_only
def test_a_read_that_meets_a_closed_connection_runs_again_on_a_new_one(
    backend: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_db, "IDLE_PING_S", 3600.0)  # no ping: the read meets the closed connection
    calls: list[str] = []
    with request_session() as request:
        run_transaction(request, lambda s: make_user(s, username="reader"), write=True)
    assert _close_from_the_server(engine) == 1  # the one pooled connection
    with request_session() as request:
        assert run_transaction(request, _usernames(calls), write=False) == ["reader"]
    assert calls == ["read", "read"]  # the first run failed on the closed connection; the second answered


@pytest.mark.postgres_only
def test_a_write_that_meets_a_closed_connection_is_not_repeated(
    backend: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_db, "IDLE_PING_S", 3600.0)
    calls: list[str] = []
    with request_session() as request:
        run_transaction(request, _usernames(calls), write=False)
    assert _close_from_the_server(engine) == 1

    def write(s: Session) -> None:
        calls.append("write")
        make_user(s, username="writer")

    with request_session() as request, pytest.raises(OperationalError) as failed:
        run_transaction(request, write, write=True)
    assert failed.value.connection_invalidated
    assert calls == ["read", "write"]  # had its commit reached the server, a second run would write twice
    with request_session() as request:  # the pool has opened a new connection
        assert run_transaction(request, _usernames(calls), write=False) == []


@pytest.mark.postgres_only
def test_an_idle_connection_is_pinged_and_replaced_before_a_write(
    backend: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_db, "IDLE_PING_S", 0.0)  # every returned connection counts as idle
    calls: list[str] = []
    with request_session() as request:
        run_transaction(request, _usernames(calls), write=False)
    assert _close_from_the_server(engine) == 1
    with request_session() as request:
        run_transaction(request, lambda s: make_user(s, username="writer"), write=True)
        assert run_transaction(request, _usernames(calls), write=False) == ["writer"]
    assert calls == ["read", "read"]


def test_a_read_unit_that_writes_is_rerun_with_the_write_lock(backend: str, engine: Engine, session: Session) -> None:
    calls: list[int] = []

    def work(s: Session) -> int:
        calls.append(1)
        return make_user(s, username=f"late-writer-{len(calls)}").id or 0

    with request_session() as request:
        user_id = run_transaction(request, work, write=False)
    names = session.exec(select(User.username)).all()
    assert names == [f"late-writer-{len(calls)}"]
    assert session.get(User, user_id) is not None
    assert len(calls) == 2  # the read stopped at its first write and ran again as a writer


def test_reads_answer_while_another_connection_holds_the_sqlite_write_lock(
    backend: str, client: TestClient, session: Session, db_url: str
) -> None:
    user = make_user(session)
    headers = auth(session, user)
    session.commit()  # before another connection takes the write lock
    if backend != "sqlite":
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        return
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=1, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # a writer holds the lock for as long as this block lasts
        response = client.get("/api/v1/me", headers=headers)
        other.execute("ROLLBACK")
    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_a_write_in_a_read_transaction_is_stopped_before_it_reaches_sqlite(backend: str, engine: Engine) -> None:
    with Session(engine.execution_options(tracker_write=False)) as session:
        session.exec(select(User)).all()
        if backend == "sqlite":
            with pytest.raises(WriteLockNeeded):
                make_user(session, username="reader")
            session.rollback()
            assert session.exec(select(User.username)).all() == []
        else:  # PostgreSQL has no deferred transactions: nothing to guard
            make_user(session, username="reader")
            assert session.exec(select(User.username)).all() == ["reader"]


def test_a_route_that_fails_rolls_back_in_its_own_thread(client: TestClient, session: Session) -> None:
    user = make_user(session)
    headers = auth(session, user)
    threads: dict[str, int] = {}
    original = Session.rollback

    def rollback(self: Session) -> None:
        threads.setdefault("rollback", threading.get_ident())
        original(self)

    Session.rollback = rollback  # type: ignore[method-assign]
    try:
        response = client.get("/api/v1/groups/999999/milestones/proposal/submissions", headers=headers)
    finally:
        Session.rollback = original  # type: ignore[method-assign]
    assert response.status_code == 404
    assert threads["rollback"] != threading.get_ident()
