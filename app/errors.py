"""The one error family of the service: each carries its HTTP status and a stable code."""


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


class TooManyRequests(AppError):
    """Too many attempts: the caller must wait `retry_after` seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, retry_after)


class RequestTimeout(AppError):
    """The client stopped sending the request body."""

    status_code = 408
    code = "request_timeout"


class InvalidInput(AppError):
    """A value is semantically invalid; `field` names it."""

    status_code = 422
    code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None,
                 errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(detail, code=code)
        self.field = field
        self.errors = errors  # several problems at once, e.g. [{"line": 3, "message": "..."}]
