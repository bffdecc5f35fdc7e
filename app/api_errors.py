"""The error model of the API as OpenAPI sees it, so /docs lists each route's error responses."""

from typing import Any

from pydantic import BaseModel

ERROR_TEXT = {
    400: "The request is malformed.",
    401: "Not logged in, or the token expired.",
    403: "You may see this resource but may not do this to it.",
    404: "No such resource, or you may not see it.",
    409: "The request contradicts the current state.",
    422: "A value is invalid; `field` names it.",
}


class ErrorPublic(BaseModel):
    """Every error: a stable code, a sentence for people, and the field concerned when there is one."""

    error: str
    detail: str
    field: str | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: 401 always, plus the given statuses, each with the error model."""
    return {status: {"model": ErrorPublic, "description": ERROR_TEXT[status]} for status in sorted({401, *statuses})}
