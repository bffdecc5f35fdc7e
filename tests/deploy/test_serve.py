"""`tracker serve`: several worker processes only on PostgreSQL."""

import pytest
from typer.testing import CliRunner

from app.cli import ERR_SQLITE_WORKERS, cli
from app.config import get_settings


@pytest.mark.parametrize(("option", "env"), [(["--workers", "2"], "1"), ([], "3")])
def test_serve_refuses_several_workers_on_sqlite_and_says_why(
    monkeypatch: pytest.MonkeyPatch, option: list[str], env: str
) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///./var/never-created.db")
    monkeypatch.setenv("TRACKER_WORKERS", env)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "1", *option])
    finally:
        get_settings.cache_clear()
    assert (result.exit_code, result.output) == (2, ERR_SQLITE_WORKERS + "\n")
