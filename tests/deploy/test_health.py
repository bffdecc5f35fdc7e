"""/healthz and /readyz: alive; ready when the database answers at head and the store takes a write."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.config import get_settings
from app.health import expected_heads
from app.storage import FileStore
from tests.factories import auth, make_user

READY = {"status": "ok"}
UNAVAILABLE = {"status": "unavailable"}
ALL_OK = {"database": "ok", "migrations": "ok", "store": "ok"}


def test_healthz_answers_without_looking_at_anything(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ok_on_each_store_and_details_are_for_admins(
    client: TestClient, session: Session, store: FileStore
) -> None:
    admin, student = make_user(session, admin=True), make_user(session)
    session.commit()
    anonymous = client.get("/readyz")
    assert (anonymous.status_code, anonymous.json(), anonymous.headers["cache-control"]) == (200, READY, "no-store")
    assert client.get("/readyz", headers=auth(session, student)).json() == READY
    assert client.get("/readyz", headers=auth(session, admin)).json() == {**READY, "checks": ALL_OK}


def test_readyz_is_unavailable_when_migrations_are_behind(client: TestClient, session: Session) -> None:
    admin = make_user(session, admin=True)
    session.execute(text("UPDATE alembic_version SET version_num = '20261201_00'"))
    session.commit()
    anonymous = client.get("/readyz")
    assert (anonymous.status_code, anonymous.json()) == (503, UNAVAILABLE)
    expected = f"the database is at 20261201_00, the code expects {', '.join(expected_heads())}"
    assert client.get("/readyz", headers=auth(session, admin)).json() == {
        **UNAVAILABLE,
        "checks": {**ALL_OK, "migrations": expected},
    }


def test_readyz_is_unavailable_when_the_store_cannot_be_written(
    client: TestClient, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_user(session, admin=True)
    session.commit()
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setenv("TRACKER_STORAGE_URL", (blocker / "files").as_uri())
    get_settings.cache_clear()
    assert (client.get("/readyz").status_code, client.get("/readyz").json()) == (503, UNAVAILABLE)
    checks = client.get("/readyz", headers=auth(session, admin)).json()["checks"]
    assert (checks["database"], checks["migrations"], checks["store"].split(":")[0]) == (
        "ok",
        "ok",
        "NotADirectoryError",
    )
