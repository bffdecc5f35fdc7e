"""Units of work end in their own thread; on SQLite reads take no write lock and writes still do."""

import sqlite3
import threading
from contextlib import closing

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

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
    assert len(calls) == (2 if backend == "sqlite" else 1)


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
