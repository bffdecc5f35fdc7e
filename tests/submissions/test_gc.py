"""`tracker gc`: files no version names, older than an hour, are removed; nothing else is."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.storage import get_store
from app.submissions.service import storage_gc
from tests.factories import make_course, make_group, make_submission

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _file(root: Path, name: str, age: timedelta, now: datetime = NOW) -> None:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_bytes(b"%PDF-1.4 " + name.encode())
    stamp = (now - age).timestamp()
    os.utime(path, (stamp, stamp))


def test_gc_removes_only_old_orphans(session: Session) -> None:
    root = Path(get_settings().storage_dir)
    course = make_course(session)
    group = make_group(session, course, size=3)
    kept = "a" * 64
    make_submission(session, group, "report", received_at=NOW, sha256=kept)
    session.commit()
    _file(root, kept, timedelta(days=30))
    _file(root, "b" * 64, timedelta(hours=1, seconds=1))  # orphan, old: removed
    _file(root, "c" * 64, timedelta(minutes=59))  # orphan, young (an upload may be committing it): kept
    _file(root, ".upload-crashed", timedelta(hours=2))  # staged leftover of a crash: removed
    _file(root, "notes.txt", timedelta(days=9))  # not ours: never touched
    assert storage_gc(session, store=get_store(), now=NOW, dry_run=True) == [".upload-crashed", "b" * 64]
    assert len(list(root.iterdir())) == 5
    assert storage_gc(session, store=get_store(), now=NOW) == [".upload-crashed", "b" * 64]
    assert sorted(p.name for p in root.iterdir()) == sorted([kept, "c" * 64, "notes.txt"])


def test_gc_command(session: Session) -> None:
    root = Path(get_settings().storage_dir)
    now = datetime.now(UTC)
    _file(root, "d" * 64, timedelta(hours=3), now=now)
    _file(root, "e" * 64, timedelta(minutes=5), now=now)
    session.commit()
    result = CliRunner().invoke(cli, ["gc"])
    assert result.exit_code == 0, result.output
    assert result.output == f"removed {'d' * 64}\nRemoved 1 orphaned file from {root}.\n"
    assert sorted(p.name for p in root.iterdir()) == ["e" * 64]
