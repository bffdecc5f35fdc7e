"""Shared pieces of the attack benchmarks: a database per backend, the real server on loopback, figures."""

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def database(backend: str, work: Path, name: str) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a throwaway PostgreSQL 15 from scripts/pg-test-server."""
    from alembic import command

    from app.db import alembic_config

    pg_dir = None
    if backend == "sqlite":
        url = f"sqlite:///{work / (name + '.sqlite')}"
    else:
        pg_dir = work / f"pg-{name}"
        admin_url = subprocess.run(
            [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)], check=True, capture_output=True, text=True
        ).stdout.strip()
        from sqlalchemy import create_engine

        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        if pg_dir is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False, capture_output=True
            )


def use_database(url: str, storage: Path) -> None:
    """Point this process's settings and engine at `url` (for setting up rows through the services)."""
    from app.config import get_settings
    from app.db import get_engine

    os.environ["TRACKER_DATABASE_URL"] = url
    os.environ["TRACKER_STORAGE_DIR"] = str(storage)
    get_settings.cache_clear()
    get_engine.cache_clear()


def wait_ready(base: str, process: "subprocess.Popen[bytes]", timeout: float = 60) -> None:
    """Poll the OpenAPI document until the server answers."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


@contextmanager
def server(url: str, storage: Path, **settings: str) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    """The real app under uvicorn (one worker) on a free loopback port; yields its base URL and process."""
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": url,
        "TRACKER_STORAGE_DIR": str(storage),
        **{f"TRACKER_{k.upper()}": v for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(base, process)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory (VmRSS) or its peak (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the inclusive method; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if q < 100 else max(values)
