"""The file store: uploaded files named by their SHA-256, written atomically, and its local-folder backend.

An upload is streamed into a staged temporary file inside the store's folder (so the final
rename stays on one file system), hashed and size-checked while it streams, then fsynced and
renamed to `<sha256>` just before the database row that names it is committed. A request
that fails removes its staged file, and the final file too when this request created it.
"""

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends

from app.config import get_settings
from app.errors import BadRequest, InsufficientStorage, PayloadTooLarge, UnsupportedMediaType

PDF_MAGIC = b"%PDF-"
STAGED_PREFIX = ".upload-"
STORED_NAME = re.compile(r"^[0-9a-f]{64}$")
# A staged file is named after the process receiving it, so a restart can tell a dead process's debris
# from a live upload of another server process sharing the folder.
STAGED_OWNER = re.compile(r"^\.upload-(\d+)-")
ORPHAN_MIN_AGE = timedelta(hours=1)

ERR_EMPTY = "The uploaded file is empty."
ERR_NOT_PDF = "The uploaded file is not a PDF (it does not start with %PDF-)."
ERR_DISK_FULL = "The file store is full, so the upload was not stored (nothing of it was kept). Try again later."


def _full_disk(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def err_too_large(limit_bytes: int) -> str:
    """The 413 message for a limit in bytes."""
    return f"The upload exceeds the limit of {limit_bytes // (1024 * 1024)} MiB."


class StagedFile(Protocol):
    """An upload being received: written in chunks, then published under its hash or discarded."""

    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    def write(self, chunk: bytes) -> None: ...
    def finish(self) -> None: ...
    def publish(self) -> None: ...
    def discard(self, *, failed: bool) -> None: ...


class FileStore(Protocol):
    """Where uploaded files live."""

    def stage(self, *, max_bytes: int) -> StagedFile: ...
    def path_of(self, sha256: str) -> Path: ...
    def stored_files(self) -> Iterator[tuple[str, datetime]]: ...
    def remove(self, name: str) -> None: ...


class LocalStagedFile:
    """A staged upload in the local folder: hashed, size-limited and magic-checked while it streams."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self._root = root
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""
        self._handle: "tempfile._TemporaryFileWrapper[bytes] | None" = None
        self._path: Path | None = None
        self._final: Path | None = None
        self._created_final = False

    @property
    def path(self) -> Path:
        """The file as received so far (the staged file, or the stored one once published)."""
        if self._final is not None:
            return self._final
        assert self._path is not None, "nothing was written"
        return self._path

    @property
    def size(self) -> int:
        """Bytes received."""
        return self._size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes received."""
        return self._hash.hexdigest()

    def _open(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=self._root, prefix=f"{STAGED_PREFIX}{os.getpid()}-",  # noqa: SIM115
                                             delete=False)
        self._handle = handle
        self._path = Path(handle.name)

    def write(self, chunk: bytes) -> None:
        """Append a chunk; 413 past the size limit, 415 as soon as the start is not %PDF-."""
        if not chunk:
            return
        if self._size + len(chunk) > self._max_bytes:
            raise PayloadTooLarge(err_too_large(self._max_bytes))
        if len(self._head) < len(PDF_MAGIC):
            self._head += chunk[: len(PDF_MAGIC) - len(self._head)]
            if not PDF_MAGIC.startswith(self._head[: len(PDF_MAGIC)]):
                raise UnsupportedMediaType(ERR_NOT_PDF)
        try:
            if self._handle is None:
                self._open()
            assert self._handle is not None
            self._handle.write(chunk)
        except OSError as exc:
            if _full_disk(exc):
                raise InsufficientStorage(ERR_DISK_FULL) from exc
            raise
        self._hash.update(chunk)
        self._size += len(chunk)

    def finish(self) -> None:
        """The whole body is in: 400 when empty, 415 when too short to be a PDF; flushed to disk."""
        if self._size == 0:
            raise BadRequest(ERR_EMPTY, code="empty_upload")
        if self._head != PDF_MAGIC:
            raise UnsupportedMediaType(ERR_NOT_PDF)
        assert self._handle is not None
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as exc:
            if _full_disk(exc):
                raise InsufficientStorage(ERR_DISK_FULL) from exc
            raise

    def publish(self) -> None:
        """Rename the staged file to its hash (the content is already there when an equal file is stored)."""
        assert self._path is not None and self._handle is not None and self._handle.closed
        final = self._root / self.sha256
        if final.exists():
            # Same bytes already stored; refresh its age so `gc` does not take it before our row commits.
            os.utime(final)
            self._path.unlink(missing_ok=True)
        else:
            os.replace(self._path, final)
            self._created_final = True
            _fsync_dir(self._root)
        self._final = final

    def discard(self, *, failed: bool) -> None:
        """Remove the staged file; after a failure also the stored file this upload created."""
        if self._handle is not None and not self._handle.closed:
            try:
                self._handle.close()
            except OSError:  # a full disk refuses the buffered tail; the file goes anyway
                pass
        if self._path is not None and self._final is None:
            self._path.unlink(missing_ok=True)
        if failed and self._created_final and self._final is not None:
            self._final.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LocalFileStore:
    """Files in one local folder, each named by its SHA-256."""

    root: Path

    def stage(self, *, max_bytes: int) -> LocalStagedFile:
        """A new staged upload (the temporary file appears with the first byte)."""
        return LocalStagedFile(self.root, max_bytes=max_bytes)

    def path_of(self, sha256: str) -> Path:
        """Where the file with this hash is stored."""
        if not STORED_NAME.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256

    def stored_files(self) -> Iterator[tuple[str, datetime]]:
        """Every stored or staged file's name and modification time."""
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            if entry.is_file() and (STORED_NAME.match(entry.name) or entry.name.startswith(STAGED_PREFIX)):
                yield entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC)

    def remove(self, name: str) -> None:
        """Delete one file by name."""
        (self.root / name).unlink(missing_ok=True)


def get_store() -> LocalFileStore:
    """The configured store (TRACKER_STORAGE_DIR)."""
    return LocalFileStore(Path(get_settings().storage_dir))


StoreDep = Annotated[LocalFileStore, Depends(get_store)]


def staged_upload(store: StoreDep) -> Iterator[LocalStagedFile]:
    """A staged upload for one request, removed (with any file it created) if the request fails.

    Declare it before SessionDep in a route: it is then torn down after the session, so it sees a
    failed commit too.
    """
    staged = store.stage(max_bytes=get_settings().max_upload_bytes)
    try:
        yield staged
    except BaseException:
        staged.discard(failed=True)
        raise
    staged.discard(failed=False)


StagedUploadDep = Annotated[LocalStagedFile, Depends(staged_upload, scope="function")]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def staged_debris_remove(store: LocalFileStore) -> list[str]:
    """Remove staged uploads no live request can own: their process is gone (killed, crashed); their names.

    Run at start-up, when this process owns no upload yet; other live server processes keep theirs.
    """
    if not store.root.is_dir():
        return []
    removed = []
    for entry in os.scandir(store.root):
        if not entry.name.startswith(STAGED_PREFIX) or not entry.is_file():
            continue
        owner = STAGED_OWNER.match(entry.name)
        pid = int(owner.group(1)) if owner else None
        if pid is None or pid == os.getpid() or not _process_alive(pid):
            store.remove(entry.name)
            removed.append(entry.name)
    return sorted(removed)


def orphan_files(store: FileStore, *, referenced: set[str], now: datetime) -> list[str]:
    """Stored files no row names and staged leftovers, older than an hour (a crash's debris)."""
    cutoff = now - ORPHAN_MIN_AGE
    return sorted(name for name, mtime in store.stored_files() if mtime < cutoff and name not in referenced)
