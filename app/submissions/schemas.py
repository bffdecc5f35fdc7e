"""Request and response models for submissions."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.inputs import RowId, StrictInput


class SubmissionPublic(BaseModel):
    """One stored version with its format report and its lateness against the group's deadline."""

    id: int
    group_id: int
    milestone: str
    version: int
    filename: str
    uploader_id: int | None
    received_at: datetime
    size_bytes: int
    sha256: str
    ruleset: str
    verdict: str
    format_report: dict[str, Any]
    deadline: datetime
    late_by_seconds: float
    multiplier: float
    graded: bool
    pinned: bool
    notice: str | None = None
    recheck_report: dict[str, Any] | None = None  # the same file under a changed week-16 deliverable's rule set
    rechecked_at: datetime | None = None


class PinIn(StrictInput):
    """The version staff want graded instead of the latest."""

    submission_id: RowId
