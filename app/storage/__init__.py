"""The file store: uploaded files named by their SHA-256, its interface and its local-folder backend.

An upload streams into a `StagedFile`: a temporary file on local disk, hashed, size-checked and
magic-checked while it streams, which the format checker reads. Just before the database row
that names it commits, `commit()` moves it into the store under its hash: a rename in the local
folder, an upload to S3 (see `app.storage.s3`). Equal bytes are stored once. Routes, services
and the checker only see the `FileStore` and `StagedFile` interfaces; `get_store()` picks the
backend from TRACKER_STORAGE_URL (`file:///path` or `s3://bucket/prefix`).
"""

import contextlib
import errno
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from app.config import Settings, get_settings
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
ERR_STORAGE_URL = "TRACKER_STORAGE_URL must be file:///path/to/folder or s3://bucket/prefix, not {url!r}."


def full_disk(exc: OSError) -> bool:
    """Whether an OS error means the disk (or the user's quota on it) is full."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def staged_prefix() -> str:
    """The name prefix of this process's staged files: `.upload-<pid>-`."""
    return f"{STAGED_PREFIX}{os.getpid()}-"


def err_too_large(limit_bytes: int) -> str:
    """The 413 message for a limit in bytes."""
    return f"The upload exceeds the limit of {limit_bytes // (1024 * 1024)} MiB."


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value naming the file (RFC 6266; a non-ASCII name as filename*)."""
    kind = "inline" if inline else "attachment"
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'


def check_name(sha256: str) -> str:
    """The name itself when it is a SHA-256 hex digest; ValueError otherwise (never a path)."""
    if not STORED_NAME.match(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


@dataclass(frozen=True)
class StoredObject:
    """One entry of a store listing: a stored file (named by its hash) or a staged leftover."""

    name: str
    modified: datetime
    staged: bool


class StagedFile(Protocol):
    """An upload being received: written in chunks, checked from local disk, then committed or discarded."""

    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def created(self) -> bool: ...
    def write(self, chunk: bytes) -> None: ...
    def finish(self) -> None: ...
    def commit(self) -> None: ...
    def discard(self) -> None: ...


class FileStore(Protocol):
    """Where uploaded files live, each under its SHA-256."""

    @property
    def location(self) -> str: ...
    @property
    def staging_folder(self) -> Path: ...
    def stage(self, *, max_bytes: int) -> StagedFile: ...
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> IO[bytes]: ...
    def local_copy(self, sha256: str) -> AbstractContextManager[Path]: ...
    def presigned_url(self, sha256: str, *, filename: str, inline: bool = False) -> str | None: ...
    def stored_objects(self) -> Iterator[StoredObject]: ...
    def remove(self, name: str) -> None: ...
    def probe(self) -> None: ...


class TempStagedFile:
    """The bytes of an upload in a local temporary file: hashed, size-limited and magic-checked as they stream.

    Backends subclass it and store the finished file in `_store()`.
    """

    fsync = True

    def __init__(self, folder: Path, *, max_bytes: int) -> None:
        self._folder = folder
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""
        self._handle: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._path: Path | None = None
        self._committed = False
        self._created = False

    @property
    def path(self) -> Path:
        """The local file holding the bytes received (what the format checker reads before commit)."""
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

    @property
    def created(self) -> bool:
        """Whether `commit()` stored new bytes (rather than finding them stored already)."""
        return self._created

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
                self._folder.mkdir(parents=True, exist_ok=True)
                self._handle = tempfile.NamedTemporaryFile(dir=self._folder, prefix=staged_prefix(), delete=False)  # noqa: SIM115
                self._path = Path(self._handle.name)
            self._handle.write(chunk)
        except OSError as exc:
            if full_disk(exc):
                raise InsufficientStorage(ERR_DISK_FULL) from exc
            raise
        self._hash.update(chunk)
        self._size += len(chunk)

    def finish(self) -> None:
        """The whole body is in: 400 when empty, 415 when too short to be a PDF; flushed (and fsynced locally)."""
        if self._size == 0:
            raise BadRequest(ERR_EMPTY, code="empty_upload")
        if self._head != PDF_MAGIC:
            raise UnsupportedMediaType(ERR_NOT_PDF)
        assert self._handle is not None
        try:
            self._handle.flush()
            if self.fsync:
                os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as exc:
            if full_disk(exc):
                raise InsufficientStorage(ERR_DISK_FULL) from exc
            raise

    def commit(self) -> None:
        """Put the finished file into the store under its hash (once; equal bytes stored already are kept)."""
        assert self._path is not None, "nothing was written"
        assert self._handle is not None, "nothing was written"
        assert self._handle.closed, "finish() first"
        if self._committed:
            return
        self._created = self._store(self._path)
        self._committed = True

    def _store(self, path: Path) -> bool:
        raise NotImplementedError

    def discard(self) -> None:
        """Remove the temporary file, whatever happened (the stored file, if any, is the caller's to release)."""
        if self._handle is not None and not self._handle.closed:
            with contextlib.suppress(OSError):  # a full disk refuses the buffered tail; the file goes anyway
                self._handle.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class LocalStagedFile(TempStagedFile):
    """A staged upload in the store's own folder, so that committing it is an atomic rename."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        super().__init__(root, max_bytes=max_bytes)
        self._root = root

    def _store(self, path: Path) -> bool:
        final = self._root / self.sha256
        if final.exists():
            # Same bytes already stored; refresh its age for the benefit of age-based tooling.
            os.utime(final)
            path.unlink(missing_ok=True)
            return False
        os.replace(path, final)
        _fsync_dir(self._root)
        return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LocalFileStore:
    """Files in one local folder, each named by its SHA-256; uploads are staged in the same folder."""

    root: Path

    @property
    def location(self) -> str:
        """The folder, for messages."""
        return str(self.root)

    @property
    def staging_folder(self) -> Path:
        """Uploads are staged in the store's own folder, so that committing one is a rename."""
        return self.root

    def stage(self, *, max_bytes: int) -> LocalStagedFile:
        """A new staged upload (the temporary file appears with the first byte)."""
        return LocalStagedFile(self.root, max_bytes=max_bytes)

    def _path(self, sha256: str) -> Path:
        return self.root / check_name(sha256)

    def exists(self, sha256: str) -> bool:
        """Whether a file with this hash is stored."""
        return self._path(sha256).is_file()

    def open(self, sha256: str) -> IO[bytes]:
        """The stored file, opened for reading; FileNotFoundError when absent."""
        return self._path(sha256).open("rb")

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A local file with the stored bytes, for tools that need a path (here: the stored file itself)."""
        path = self._path(sha256)
        if not path.is_file():
            raise FileNotFoundError(path)
        yield path

    def presigned_url(self, sha256: str, *, filename: str, inline: bool = False) -> str | None:
        """None: a local folder has no URLs of its own, the application serves the file."""
        return None

    def stored_objects(self) -> Iterator[StoredObject]:
        """Every stored file and staged leftover in the folder (other files are not ours)."""
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            staged = entry.name.startswith(STAGED_PREFIX)
            if entry.is_file() and (staged or STORED_NAME.match(entry.name)):
                yield StoredObject(entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC), staged)

    def remove(self, name: str) -> None:
        """Delete one stored file or staged leftover by its listed name."""
        if not (STORED_NAME.match(name) or name.startswith(STAGED_PREFIX)) or "/" in name:
            raise ValueError(f"not a name of this store: {name!r}")
        (self.root / name).unlink(missing_ok=True)

    def probe(self) -> None:
        """Write and remove a small file; OSError when the folder is not writable."""
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f"{staged_prefix()}probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"ok")
        finally:
            probe.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def staged_debris_remove(store: FileStore) -> list[str]:
    """Remove local staged files no live request can own: their process is gone (killed, crashed); their names.

    Run at start-up, when this process owns no upload yet; other live server processes keep theirs.
    Unfinished multipart uploads in a bucket may belong to another host: `tracker gc` removes them by age.
    """
    folder = store.staging_folder
    if not folder.is_dir():
        return []
    removed = []
    for entry in os.scandir(folder):
        if not entry.name.startswith(STAGED_PREFIX) or not entry.is_file():
            continue
        owner = STAGED_OWNER.match(entry.name)
        pid = int(owner.group(1)) if owner else None
        if pid is None or pid == os.getpid() or not _process_alive(pid):
            store.remove(entry.name)
            removed.append(entry.name)
    return sorted(removed)


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """(scheme, bucket, path or prefix) of a storage URL; a bare path means a local folder."""
    parsed = urlsplit(url)
    if parsed.scheme in ("", "file") and not (parsed.scheme == "" and parsed.netloc):
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(ERR_STORAGE_URL.format(url=url))
        return "file", "", unquote(parsed.path) if parsed.scheme else url
    if parsed.scheme == "s3" and parsed.netloc:
        return "s3", parsed.netloc, parsed.path.strip("/")
    raise ValueError(ERR_STORAGE_URL.format(url=url))


@lru_cache(maxsize=8)
def _store_open(location: str, options: tuple[tuple[str, Any], ...]) -> FileStore:
    scheme, bucket, path = parse_storage_url(location)
    if scheme == "file":
        return LocalFileStore(Path(path))
    from app.storage.s3 import S3FileStore

    return S3FileStore.create(bucket=bucket, prefix=path, **dict(options))


def store_from_settings(settings: Settings) -> FileStore:
    """The store the settings name (one per process and configuration: S3 clients are reused)."""
    options = (
        ("endpoint_url", settings.s3_endpoint_url),
        ("addressing_style", settings.s3_addressing_style),
        ("url_ttl_s", settings.s3_url_ttl_s),
        ("multipart_threshold_mb", settings.s3_multipart_threshold_mb),
        ("staging_dir", str(settings.staging_dir or Path(tempfile.gettempdir()) / "tracker-staging")),
    )
    return _store_open(settings.storage_location, options)


def get_store() -> FileStore:
    """The configured store (TRACKER_STORAGE_URL, else the folder TRACKER_STORAGE_DIR)."""
    return store_from_settings(get_settings())
