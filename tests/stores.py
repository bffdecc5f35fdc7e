"""File-store fixtures: moto's S3 server on a free loopback port, and a store for each backend.

A test that takes `store` runs once per store backend ("file" and "s3"); the app is configured
(TRACKER_STORAGE_URL) to use the same store, so API calls and the test see the same files.
Import the fixtures into a conftest.py to use them.
"""

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from app.config import get_settings
from app.storage import FileStore, StagedFile, get_store

STORE_BACKENDS = ["file", "s3"]
S3_REGION = "us-east-1"
_buckets = itertools.count()


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server (an HTTP server speaking the S3 API), for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def use_s3(monkeypatch: pytest.MonkeyPatch, endpoint: str, staging: Path, **settings: str) -> str:
    """Point the app at a new, empty bucket on the S3 server; returns the bucket's name."""
    bucket = f"tracker-test-{os.getpid()}-{next(_buckets)}"
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": S3_REGION,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION).create_bucket(Bucket=bucket)
    monkeypatch.setenv("TRACKER_STORAGE_URL", f"s3://{bucket}/files")
    monkeypatch.setenv("TRACKER_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("TRACKER_STAGING_DIR", str(staging))
    for name, value in settings.items():
        monkeypatch.setenv(f"TRACKER_{name.upper()}", value)
    get_settings.cache_clear()
    return bucket


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileStore]:
    """The app's file store for this test: a local folder, or a fresh bucket on the S3 server."""
    if request.param == "file":
        monkeypatch.setenv("TRACKER_STORAGE_URL", (tmp_path / "files").as_uri())
        get_settings.cache_clear()
    else:
        use_s3(monkeypatch, request.getfixturevalue("s3_endpoint"), tmp_path / "staging")
    try:
        yield get_store()
    finally:
        get_settings.cache_clear()


def put(store: FileStore, data: bytes) -> StagedFile:
    """Stage and commit `data` as an upload would; returns the committed staged file."""
    staged = store.stage(max_bytes=len(data) + 1)
    staged.write(data)
    staged.finish()
    staged.commit()
    staged.discard()
    return staged


def names(store: FileStore) -> list[str]:
    """Names of everything the store lists: stored files (hashes) and staged leftovers."""
    return sorted(o.name for o in store.stored_objects())
