"""The one error family of the service: each carries its HTTP status and a stable code."""

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError


class AppError(Exception):
    """Base of every error a service function raises; the handler turns it into JSON."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class BadRequest(AppError):
    """The request is malformed in a way validation could not catch."""


class NotAuthenticated(AppError):
    """No valid credentials were given."""

    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    """The caller may see the resource but may not do this to it."""

    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    """The resource does not exist, or the caller may not see it."""

    status_code = 404
    code = "not_found"


class Conflict(AppError):
    """The request contradicts the current state (full group, duplicate, ...)."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    """The upload exceeds the size limit."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    """The upload is not of an accepted type."""

    status_code = 415
    code = "unsupported_media_type"


class RequestTimeout(AppError):
    """The client stopped sending the request body."""

    status_code = 408
    code = "request_timeout"


class InvalidInput(AppError):
    """A value is semantically invalid; `field` names it."""

    status_code = 422
    code = "invalid"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: list[dict[str, object]] | None = None,
    ) -> None:
        super().__init__(detail, code=code)
        self.field = field
        self.errors = errors  # several problems at once, e.g. [{"line": 3, "message": "..."}]


class RetryLater(AppError):
    """Refused for now; `retry_after` seconds is a fair wait (sent as the Retry-After header)."""

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, retry_after)


class TooManyRequests(RetryLater):
    """The caller has too much in progress."""

    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(RetryLater):
    """A resource the service needs (the database, the checker) is down or overloaded."""

    status_code = 503
    code = "service_unavailable"


class InsufficientStorage(AppError):
    """The file store is full: nothing was stored."""

    status_code = 507
    code = "insufficient_storage"


class ErrorPublic(BaseModel):
    """Every error answer: a stable code, a message, and for bad input the field and each problem."""

    error: str = Field(description="stable error code, e.g. not_found, invalid, payload_too_large")
    detail: str = Field(description="what went wrong, for a person to read")
    field: str | None = Field(default=None, description="the input at fault (422)")
    errors: list[dict[str, Any]] | None = Field(default=None, description="each problem: {field|line, message}")


_ERROR_MEANINGS = {
    400: "Malformed request",
    401: "Not logged in, or the token is expired or revoked",
    403: "You may see this resource but not do this to it",
    404: "No such resource, or you may not see it",
    405: "Method not allowed on this path",
    408: "The request body stopped arriving",
    409: "Conflicts with the current state",
    413: "Body or upload too large, or a quota is reached",
    415: "Unsupported media type",
    422: "Invalid input; `field` and `errors` name the problems",
    429: "Too many attempts; wait for Retry-After seconds",
}
# Documented on every API operation, so generated clients parse every error the service can send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": meaning} for status, meaning in _ERROR_MEANINGS.items()
}
ERROR_RESPONSES[429]["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def body_of(media_type: str, *, binary: bool = False) -> dict[int | str, dict[str, Any]]:
    """The documented 200 answer of a route that sends a file or text instead of JSON."""
    schema: dict[str, str] = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {200: {"description": "Successful Response", "content": {media_type: {"schema": schema}}}}


ERR_DB_CONFLICT = "The change conflicts with the current state; reload and try again."
ERR_DB_UNSTORABLE = "A value cannot be stored: it holds a NUL character or a number out of range."


def database_refusal(exc: Exception) -> AppError:
    """What a refused write means to the user, for the API and the pages alike.

    A uniqueness or foreign-key race the services could not foresee is a conflict; a value the
    database refuses to store (PostgreSQL: a NUL in text, an integer out of range) is bad input.
    """
    if isinstance(exc, DataError):
        return InvalidInput(ERR_DB_UNSTORABLE)
    return Conflict(ERR_DB_CONFLICT)
