"""The local file store: hashing while streaming, limits, atomic publish, cleanup after a failure."""

import hashlib
from pathlib import Path

import pytest

from app.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from app.storage import LocalFileStore, staged_upload

PDF = b"%PDF-1.7\n" + b"x" * 1000 + b"\n%%EOF\n"


def _names(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_chunks_are_hashed_and_published_under_the_hash(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    staged = store.stage(max_bytes=10_000)
    for start in range(0, len(PDF), 7):
        staged.write(PDF[start:start + 7])
    staged.finish()
    assert [n.startswith(".upload-") for n in _names(tmp_path)] == [True]
    staged.publish()
    digest = hashlib.sha256(PDF).hexdigest()
    assert (staged.size, staged.sha256, _names(tmp_path)) == (len(PDF), digest, [digest])
    assert store.path_of(digest).read_bytes() == PDF


def test_refusals_while_streaming(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(UnsupportedMediaType):
        store.stage(max_bytes=100).write(b"GIF89a")
    split = store.stage(max_bytes=100)
    split.write(b"%P")
    with pytest.raises(UnsupportedMediaType):
        split.write(b"NG")
    split.discard(failed=True)
    big = store.stage(max_bytes=100)
    big.write(PDF[:60])
    with pytest.raises(PayloadTooLarge):
        big.write(PDF[60:101])
    big.discard(failed=True)
    with pytest.raises(BadRequest):
        store.stage(max_bytes=100).finish()
    assert _names(tmp_path) == []


def test_a_failure_after_publishing_removes_only_what_the_request_created(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    requests = staged_upload(store)
    staged = next(requests)
    staged.write(PDF)
    staged.finish()
    staged.publish()
    with pytest.raises(RuntimeError):
        requests.throw(RuntimeError("commit failed"))
    assert _names(tmp_path) == []
    first = store.stage(max_bytes=10_000)
    first.write(PDF)
    first.finish()
    first.publish()
    again = staged_upload(store)
    second = next(again)
    second.write(PDF)
    second.finish()
    second.publish()  # the same bytes are already stored: nothing new is created
    with pytest.raises(RuntimeError):
        again.throw(RuntimeError("commit failed"))
    assert _names(tmp_path) == [hashlib.sha256(PDF).hexdigest()]
