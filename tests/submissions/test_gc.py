"""`tracker gc` on both store backends: only old files no version names go, never a referenced one."""

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.storage import FileStore, LocalFileStore
from app.storage.gc import storage_gc, stored_file_lock
from tests.factories import make_course, make_group, make_submission
from tests.stores import names, put


def _pdf(label: str) -> bytes:
    return b"%PDF-1.4 " + label.encode()


def _leftover(store: FileStore) -> str:
    """A staged file left by a crashed upload (received, never committed nor discarded)."""
    staged = store.stage(max_bytes=100)
    staged.write(_pdf("crashed"))
    staged.finish()
    return staged.path.name


def test_gc_removes_only_old_orphans_and_leftovers(store: FileStore, session: Session) -> None:
    group = make_group(session, make_course(session), size=3)
    kept, orphan = put(store, _pdf("kept")).sha256, put(store, _pdf("orphan")).sha256
    make_submission(session, group, "report", received_at=datetime(2026, 12, 1, tzinfo=UTC), sha256=kept)
    session.commit()
    crashed = _leftover(store)
    now = datetime.now(UTC)
    assert storage_gc(session, store=store, now=now + timedelta(minutes=59)) == []  # young: an upload may own them
    expected = sorted([crashed, orphan])
    assert storage_gc(session, store=store, now=now + timedelta(hours=1, seconds=5), dry_run=True) == expected
    assert names(store) == sorted([crashed, kept, orphan])
    assert storage_gc(session, store=store, now=now + timedelta(hours=1, seconds=5)) == expected
    assert names(store) == [kept]


@pytest.mark.postgres_only
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_gc_keeps_a_file_whose_row_commits_while_it_runs(store: FileStore, engine: Engine, outcome: str) -> None:
    sha = put(store, _pdf("raced")).sha256
    with Session(engine) as setup:
        group = make_group(setup, make_course(setup), size=3)
        setup.commit()
        group_id = group.id
    # An upload of the same bytes: it holds the hash's lock and has its row in, not yet committed.
    upload = Session(engine)
    stored_file_lock(upload, sha256=sha)
    make_submission(
        upload,
        upload.get(type(group), group_id),
        "report",  # type: ignore[arg-type]
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
        sha256=sha,
    )
    removed: list[list[str]] = []
    with Session(engine) as gc_session:
        worker = threading.Thread(
            target=lambda: removed.append(
                storage_gc(gc_session, store=store, now=datetime.now(UTC) + timedelta(hours=2))
            )
        )
        worker.start()
        with engine.connect() as probe:  # wait until gc waits for the lock (a state, not a time)
            waiting = 0
            for _ in range(2000):
                waiting = probe.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                ).scalar_one()
                probe.rollback()
                if waiting or not worker.is_alive():
                    break
                threading.Event().wait(0.005)
        assert waiting == 1
        getattr(upload, outcome)()
        upload.close()
        worker.join(timeout=30)
    assert removed == ([[]] if outcome == "commit" else [[sha]])
    assert names(store) == ([sha] if outcome == "commit" else [])


def test_gc_command(store: FileStore, session: Session) -> None:
    old, young = put(store, _pdf("old")).sha256, put(store, _pdf("young")).sha256
    session.commit()
    if isinstance(store, LocalFileStore):
        stamp = (datetime.now(UTC) - timedelta(hours=3)).timestamp()
        os.utime(Path(store.root) / old, (stamp, stamp))
        expected = f"removed {old}\nRemoved 1 orphaned file from {store.location}.\n"
        left = [young]
    else:  # S3 keeps its own LastModified: both are young
        expected = f"Removed 0 orphaned files from {store.location}.\n"
        left = sorted([old, young])
    result = CliRunner().invoke(cli, ["gc"])
    assert result.exit_code == 0, result.output
    assert result.output == expected
    assert names(store) == left
