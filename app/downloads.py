"""Answering with a stored file: a redirect to a presigned URL where the store has them, else the bytes."""

import contextlib
import io
import os
from collections.abc import Iterator
from typing import IO

from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from app.errors import NotFound
from app.storage import FileStore, content_disposition

CHUNK = 256 * 1024
ERR_FILE_MISSING = "The file of this version is missing from the store."


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def stored_file_response(store: FileStore, *, sha256: str, filename: str, inline: bool = False) -> Response:
    """The PDF under its file name: a 307 to a short-lived URL (S3), or streamed by the app (local folder)."""
    url = store.presigned_url(sha256, filename=filename, inline=inline)
    if url is not None:
        # Private: the URL is a bearer credential for a short while; shared caches must not keep it.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    try:
        handle = store.open(sha256)
    except FileNotFoundError:
        raise NotFound(ERR_FILE_MISSING) from None
    headers = {"Content-Disposition": content_disposition(filename, inline=inline)}
    # A stream of unknown length (no file descriptor) goes out chunked.
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        headers["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
    return StreamingResponse(
        _chunks(handle), media_type="application/pdf", headers=headers, background=BackgroundTask(handle.close)
    )
