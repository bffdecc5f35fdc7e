"""Request and response models of the notices API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

NoticeStatus = Literal["pending", "sending", "sent", "failed", "skipped"]


class NoticePreferences(BaseModel):
    """Whether the user receives each optional kind; receipts, decisions and security notices always go."""

    reminder: bool
    digest: bool


class NoticePreferencesUpdate(BaseModel):
    """The kinds to turn on (true) or off (false); kinds left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    reminder: bool | None = None
    digest: bool | None = None


class NoticeSummary(BaseModel):
    """A notice that was sent to the caller."""

    id: int
    kind: str
    subject: str
    to_address: str
    sent_at: datetime | None


class NoticeDetail(NoticeSummary):
    """A sent notice with its bodies, as the email carried them."""

    body_text: str
    body_html: str


class OutboxNotice(BaseModel):
    """One row of a course's outbox, as staff see it (no bodies: they may hold activation codes)."""

    id: int
    kind: str
    user_id: int
    username: str
    to_address: str
    subject: str
    status: NoticeStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class OutboxPublic(BaseModel):
    """A course's outbox: whether email is configured, the count of each status, and the notices shown."""

    smtp_configured: bool
    counts: dict[str, int]
    notices: list[OutboxNotice]
