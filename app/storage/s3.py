"""The S3 backend of the file store (AWS S3, MinIO, Ceph RGW, SeaweedFS, Garage), through boto3.

Objects are keyed `<prefix>/<sha256>`, so equal bytes are stored once. An upload is received
into a local temporary file (the format checker needs one), then uploaded whole when its row is
about to commit; boto3 switches to a multipart upload above the threshold, and S3 makes the
object visible only once complete, so nothing half-written is ever listed. Downloads are
short-lived presigned URLs carrying the file name in their Content-Disposition.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as S3ConnectionError

from app.errors import ServiceUnavailable
from app.storage import (
    STAGED_PREFIX,
    STORED_NAME,
    StoredObject,
    TempStagedFile,
    check_name,
    content_disposition,
    staged_prefix,
)

MULTIPART_MARK = ".multipart/"
MIB = 1024 * 1024
STORE_RETRY_AFTER_S = 5
ERR_STORE_UNAVAILABLE = "The file store cannot be reached right now; nothing was changed. Try again in a few seconds."


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


@contextmanager
def reachable() -> Iterator[None]:
    """Turn an S3 server that cannot be reached (or answers 5xx) into a JSON 503 with Retry-After."""
    try:
        yield
    except S3ConnectionError as exc:
        raise ServiceUnavailable(
            ERR_STORE_UNAVAILABLE, code="store_unavailable", retry_after=STORE_RETRY_AFTER_S
        ) from exc
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise ServiceUnavailable(
                ERR_STORE_UNAVAILABLE, code="store_unavailable", retry_after=STORE_RETRY_AFTER_S
            ) from exc
        raise


class S3StagedFile(TempStagedFile):
    """An upload received into a local temporary file and uploaded to the bucket on commit."""

    # The local copy only feeds the checker and the upload: durability comes from S3.
    fsync = False

    def __init__(self, store: "S3FileStore", *, max_bytes: int) -> None:
        super().__init__(store.staging_dir, max_bytes=max_bytes)
        self._store_ref = store

    def _store(self, path: Path) -> bool:
        with reachable():
            return self._upload(path)

    def _upload(self, path: Path) -> bool:
        store = self._store_ref
        if store.exists(self.sha256):
            path.unlink(missing_ok=True)
            return False
        key = store.key(self.sha256)
        if self.size < store.transfer.multipart_threshold:
            # One PUT: the transfer manager's thread pool would cost more than it saves here.
            with path.open("rb") as body:
                store.client.put_object(Bucket=store.bucket, Key=key, Body=body, ContentType="application/pdf")
        else:
            store.client.upload_file(
                str(path), store.bucket, key, Config=store.transfer, ExtraArgs={"ContentType": "application/pdf"}
            )
        path.unlink(missing_ok=True)
        return True


@dataclass(frozen=True)
class S3FileStore:
    """Files in one bucket under a prefix, each keyed by its SHA-256."""

    bucket: str
    prefix: str
    client: Any
    transfer: TransferConfig
    staging_dir: Path
    url_ttl_s: int

    @classmethod
    def create(
        cls,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        addressing_style: str,
        url_ttl_s: int,
        multipart_threshold_mb: int,
        staging_dir: str,
    ) -> "S3FileStore":
        """A store with its own client; credentials and region come from the standard AWS_* variables."""
        style = addressing_style if addressing_style != "auto" else ("path" if endpoint_url else "virtual")
        config = Config(
            s3={"addressing_style": style},
            signature_version="s3v4",
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=64,
            # S3-compatible servers do not all accept the newer default checksum headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=session.region_name or "us-east-1", config=config
        )
        threshold = multipart_threshold_mb * MIB
        transfer = TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold, max_concurrency=4)
        return cls(
            bucket=bucket,
            prefix=prefix.strip("/"),
            client=client,
            transfer=transfer,
            staging_dir=Path(staging_dir),
            url_ttl_s=url_ttl_s,
        )

    @property
    def location(self) -> str:
        """The bucket and prefix, for messages."""
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def staging_folder(self) -> Path:
        """The local folder of uploads being received and of copies made for the checker."""
        return self.staging_dir

    def key(self, sha256: str) -> str:
        """The object key of a stored file."""
        name = check_name(sha256)
        return f"{self.prefix}/{name}" if self.prefix else name

    def stage(self, *, max_bytes: int) -> S3StagedFile:
        """A new staged upload in the local staging folder."""
        return S3StagedFile(self, max_bytes=max_bytes)

    def exists(self, sha256: str) -> bool:
        """Whether an object with this hash is stored."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def open(self, sha256: str) -> IO[bytes]:
        """The stored object as a readable stream; FileNotFoundError when absent."""
        try:
            with reachable():
                response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(self.key(sha256)) from None
            raise
        return cast(IO[bytes], response["Body"])

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """The stored bytes in a local temporary file, removed on leaving the block."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.staging_dir, prefix=staged_prefix())
        os.close(fd)
        path = Path(name)
        try:
            try:
                with reachable():
                    self.client.download_file(self.bucket, self.key(sha256), name, Config=self.transfer)
            except ClientError as error:
                if _missing(error):
                    raise FileNotFoundError(self.key(sha256)) from None
                raise
            yield path
        finally:
            path.unlink(missing_ok=True)

    def presigned_url(self, sha256: str, *, filename: str, inline: bool = False) -> str | None:
        """A GET URL valid for TRACKER_S3_URL_TTL_S seconds, answering with the PDF type and the file name."""
        params = {
            "Bucket": self.bucket,
            "Key": self.key(sha256),
            "ResponseContentType": "application/pdf",
            "ResponseContentDisposition": content_disposition(filename, inline=inline),
        }
        return cast(str, self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.url_ttl_s))

    def stored_objects(self) -> Iterator[StoredObject]:
        """Stored objects, local staged leftovers and unfinished multipart uploads (a crash's debris)."""
        start = f"{self.prefix}/" if self.prefix else ""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                name = item["Key"][len(start) :]
                if STORED_NAME.match(name):
                    yield StoredObject(name, item["LastModified"].astimezone(UTC), False)
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=start):
            for upload in page.get("Uploads", []):
                rest = upload["Key"][len(start) :]
                if not STORED_NAME.match(rest):
                    continue
                name = f"{MULTIPART_MARK}{rest}/{upload['UploadId']}"
                yield StoredObject(name, upload["Initiated"].astimezone(UTC), True)
        if self.staging_dir.is_dir():
            for entry in os.scandir(self.staging_dir):
                if entry.is_file() and entry.name.startswith(STAGED_PREFIX):
                    yield StoredObject(entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC), True)

    def remove(self, name: str) -> None:
        """Delete a stored object, abort an unfinished multipart upload, or remove a staged file, by listed name."""
        if name.startswith(MULTIPART_MARK):
            rest, upload_id = name[len(MULTIPART_MARK) :].rsplit("/", 1)
            key = self.key(rest)
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        elif name.startswith(STAGED_PREFIX) and "/" not in name:
            (self.staging_dir / name).unlink(missing_ok=True)
        else:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def probe(self) -> None:
        """Write and delete a small object; botocore's error when the bucket is not writable."""
        key = f"{self.prefix}/.probe-{uuid.uuid4().hex}" if self.prefix else f".probe-{uuid.uuid4().hex}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
        self.client.delete_object(Bucket=self.bucket, Key=key)
