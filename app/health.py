"""Liveness and readiness for load balancers and orchestrators: /healthz and /readyz."""

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from app.clock import Clock, get_clock
from app.db import request_session
from app.deps import StoreDep, TransactionRoute, oauth2_scheme
from app.errors import AppError
from app.storage import FileStore
from app.tokens import user_from_token

router = APIRouter(tags=["health"], route_class=TransactionRoute)

MIGRATIONS_BEHIND = "the database is at {current}, the code expects {expected}"


@lru_cache
def expected_heads() -> tuple[str, ...]:
    """The Alembic head revisions of this code (read once per process)."""
    from alembic.script import ScriptDirectory

    from app.db import alembic_config

    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


class Readiness(BaseModel):
    """The answer of /readyz; `checks` (each probe's result) only for an admin's token."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] | None = None


def _database(session: Session) -> str:
    session.execute(text("SELECT 1"))
    return "ok"


def _migrations(session: Session) -> str:
    current = tuple(sorted(session.execute(text("SELECT version_num FROM alembic_version")).scalars()))
    expected = expected_heads()
    if current != expected:
        return MIGRATIONS_BEHIND.format(current=", ".join(current) or "no revision", expected=", ".join(expected))
    return "ok"


def _store(store: FileStore) -> str:
    store.probe()
    return "ok"


def _checks(session: Session, store: FileStore) -> dict[str, str]:
    probes: dict[str, Callable[[], str]] = {
        "database": lambda: _database(session),
        "migrations": lambda: _migrations(session),
        "store": lambda: _store(store),
    }
    results: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            results[name] = probe()
        except Exception as exc:  # noqa: BLE001 - a readiness probe reports any failure, whatever raised it
            session.rollback()
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    session.rollback()
    return results


def _is_admin(session: Session, token: str | None, clock: Clock) -> bool:
    if not token:
        return False
    try:
        return user_from_token(session, token=token, now=clock(), kind="api").is_admin
    except AppError:
        return False
    finally:
        session.rollback()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive: the process answers (it checks nothing else)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_class=JSONResponse,
    responses={
        200: {"model": Readiness, "description": "Ready"},
        503: {"model": Readiness, "description": "Not ready: the database, its schema or the store fails."},
    },
)
def readyz(
    store: StoreDep, clock: Annotated[Clock, Depends(get_clock)], token: Annotated[str | None, Depends(oauth2_scheme)]
) -> JSONResponse:
    """Ready: database reachable, migrations at head, store writable; the details only for an admin's token."""
    # A read-only session of its own: on SQLite it takes no write lock, so probes never queue behind uploads.
    with request_session() as session:
        checks = _checks(session, store)
        admin = _is_admin(session, token, clock) if checks["database"] == "ok" else False
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable"}
    if admin:
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})
