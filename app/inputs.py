"""The base of every request body model: strict types, no unknown fields, no control characters.

JSON has real booleans, numbers and strings; a client that sends `true` for a number or a Unix
time for an instant has made a mistake the service should name, not guess at.
"""

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.access import MAX_ROW_ID

INSTANT_YEARS = (2000, 2999)
ERR_CONTROL = "must not contain control characters"
ERR_LINE_BREAK = "must be a single line"
ERR_ISO_TEXT = "must be an ISO 8601 string"
# Line breaks and tabs are fine in prose (comments, summaries, reasons); every other control
# character (NUL above all) is refused everywhere.
_PROSE_CONTROLS = {"\n", "\r", "\t"}


def _no_controls(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in _PROSE_CONTROLS for c in value):
        raise ValueError(ERR_CONTROL)
    return value


def _single_line(value: str) -> str:
    if any(c in _PROSE_CONTROLS for c in value):
        raise ValueError(ERR_LINE_BREAK)
    return value


def _iso_text(value: Any) -> Any:
    if not isinstance(value, (str, date)):
        raise ValueError(ERR_ISO_TEXT)
    return value


def _plausible_instant(value: datetime) -> datetime:
    # Years near 1 or 9999 overflow when converted to UTC or compared with a deadline (a 500).
    if not INSTANT_YEARS[0] <= value.year <= INSTANT_YEARS[1]:
        raise ValueError(f"the instant must lie in the years {INSTANT_YEARS[0]}-{INSTANT_YEARS[1]}")
    return value


def _walk(value: Any) -> None:
    if isinstance(value, str):
        _no_controls(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(key)
            _walk(item)
    elif isinstance(value, list):
        for item in value:
            _walk(item)


# Dates and instants are ISO 8601 strings (not numbers); they stay lax only to parse that string.
IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_text)]
Instant = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_iso_text), AfterValidator(_plausible_instant)]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


def line(max_length: int, min_length: int = 1) -> Any:
    """A single-line string type of bounded length (names, titles)."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_single_line)]


class StrictInput(BaseModel):
    """Base of request bodies: strict JSON types, unknown fields refused, control characters refused."""

    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        _walk(value)
        return value
