"""Stored files and the rows that name them: the lock that keeps gc and uploads apart, release, gc.

A stored file may be deleted only while no row names it. Uploads and deleters meet on a lock
per hash, held by the upload from before its file is committed to the store until its row
commits: a deleter that takes the lock and then finds no row can delete safely, because an
upload of the same bytes that comes later commits its file again (it finds it missing).
"""

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.models import Submission
from app.storage import ORPHAN_MIN_AGE, FileStore, check_name


def stored_file_lock(session: Session, *, sha256: str) -> None:
    """Hold the hash's lock until the session's transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the hash. SQLite: every transaction
    already holds the database's write lock (BEGIN IMMEDIATE), which serialises the same way.
    """
    check_name(sha256)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # 60 bits of the hash: a bigint key; a rare collision only makes two hashes share a lock.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(sha256[:15], 16)})
    elif bind.dialect.name == "sqlite":
        session.connection()  # begins the transaction, and with it takes the write lock


def stored_file_referenced(session: Session, *, sha256: str) -> bool:
    """Whether any version names this file (committed rows, and this session's own)."""
    return session.exec(select(Submission.id).where(Submission.sha256 == sha256).limit(1)).first() is not None


def stored_file_release(session: Session, *, store: FileStore, sha256: str) -> bool:
    """Delete the stored file unless a row names it, under the hash's lock; whether it was deleted.

    The caller ends the transaction right after, which releases the lock.
    """
    stored_file_lock(session, sha256=sha256)
    if stored_file_referenced(session, sha256=sha256):
        return False
    store.remove(sha256)
    return True


def storage_gc(session: Session, *, store: FileStore, now: datetime, dry_run: bool = False) -> list[str]:
    """Remove stored files no version names, and staged leftovers, older than an hour; returns their names.

    Each file is re-checked and removed in a transaction of its own, holding its lock, so an upload
    of the same bytes committing meanwhile keeps its file and no lock is held for long.
    """
    cutoff = now - ORPHAN_MIN_AGE
    old = sorted((o for o in store.stored_objects() if o.modified < cutoff), key=lambda o: o.name)
    names = [o.name for o in old if not o.staged]
    referenced: set[str] = set()
    for start in range(0, len(names), 500):  # bounded IN lists: drivers cap the parameters of a statement
        batch = names[start : start + 500]
        referenced.update(session.exec(select(Submission.sha256).where(col(Submission.sha256).in_(batch))))
    session.rollback()
    removed = []
    for obj in old:
        if obj.staged:
            if not dry_run:
                store.remove(obj.name)
            removed.append(obj.name)
        elif obj.name not in referenced:
            if dry_run:
                removed.append(obj.name)
                continue
            try:
                deleted = stored_file_release(session, store=store, sha256=obj.name)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            if deleted:
                removed.append(obj.name)
    return removed
