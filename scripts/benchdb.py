"""A fresh database per backend for the benchmark scripts: a SQLite file, or a throwaway PostgreSQL 15."""

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_database(backend: str, work: Path, name: str) -> Iterator[str]:
    """The URL of an empty database named `name`; a PostgreSQL server is started and stopped around it."""
    if backend == "sqlite":
        yield f"sqlite:///{work / f'{name}.sqlite'}"
        return
    # Its own folder under /tmp (the server runs as `postgres` when we are root).
    pg_dir = Path(tempfile.mkdtemp(prefix="tracker-pg."))
    admin_url = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server"), "start", str(pg_dir)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        from sqlalchemy import create_engine

        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop", str(pg_dir)], check=False)
