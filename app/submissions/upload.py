"""Receiving a multipart upload straight from the request stream into a staged file.

The body is never held in memory: python-multipart's push parser hands over the file part
chunk by chunk as the client sends it, and each chunk goes to the staged file (hashed,
size-checked and magic-checked on the way). A Content-Length beyond the limit is refused
before a byte of the body is read.
"""

from fastapi.concurrency import run_in_threadpool
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.errors import BadRequest, InvalidInput, PayloadTooLarge
from app.storage import StagedFile, err_too_large

FILE_FIELD = "file"
# Room for the multipart envelope (boundaries, part headers, small fields) around the file itself.
ENVELOPE_ALLOWANCE = 64 * 1024

ERR_NO_FILE = "Send the PDF as the multipart form field 'file'."
ERR_BAD_MULTIPART = "The request body is not valid multipart/form-data."
ERR_INTERRUPTED = "The upload was interrupted before the whole file arrived."


class _FilePart:
    """Collects the headers of each part and routes the data of the `file` part to the staged file."""

    def __init__(self, staged: StagedFile) -> None:
        self.staged = staged
        self.found = False
        self.complete = False  # the file part's closing boundary arrived
        self.ended = False  # the body's final boundary arrived
        self.filename = ""
        self._in_file = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._in_file = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") == FILE_FIELD.encode() and not self.found:
            self._in_file = self.found = True
            self.filename = options.get(b"filename", b"upload.pdf").decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.staged.write(data[start:end])

    def on_part_end(self) -> None:
        if self._in_file:
            self.complete = True
        self._in_file = False

    def on_end(self) -> None:
        self.ended = True


async def receive_pdf(request: Request, staged: StagedFile, *, max_bytes: int) -> str:
    """Stream the multipart field `file` of the request into `staged`; returns the client's file name."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes + ENVELOPE_ALLOWANCE:
        raise PayloadTooLarge(err_too_large(max_bytes))
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidInput(ERR_NO_FILE, field=FILE_FIELD)
    part = _FilePart(staged)
    try:
        # Inside the try: the parser refuses some boundaries (longer than 256 bytes) when it is built.
        parser = MultipartParser(
            params[b"boundary"],
            {
                "on_part_begin": part.on_part_begin,
                "on_part_data": part.on_part_data,
                "on_part_end": part.on_part_end,
                "on_header_field": part.on_header_field,
                "on_header_value": part.on_header_value,
                "on_header_end": part.on_header_end,
                "on_headers_finished": part.on_headers_finished,
                "on_end": part.on_end,
            },
        )
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        raise BadRequest(ERR_INTERRUPTED, code="upload_interrupted") from None
    except FormParserError:
        raise BadRequest(ERR_BAD_MULTIPART, code="bad_multipart") from None
    if not part.found:
        raise InvalidInput(ERR_NO_FILE, field=FILE_FIELD)
    if not (part.complete and part.ended):
        # The parser accepts a body that stops before the closing boundary: the file would be stored cut short.
        raise BadRequest(ERR_BAD_MULTIPART, code="bad_multipart")
    await run_in_threadpool(staged.finish)  # fsync: off the event loop
    return part.filename[-255:] or "upload.pdf"
