"""The outbox of email notices and each user's opt-outs of the optional kinds."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime


class Notice(SQLModel, table=True):
    """One email to one user, written in the transaction of the change that caused it.

    The bodies are rendered when the notice is written, so what the user was told is exactly
    what the outbox and "what was sent to me" show, whatever changes later.
    """

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status"),
        # The sender's claim query: due rows, oldest first.
        Index("ix_notice_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True, ondelete="CASCADE")
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    # Reminders and digests are computed repeatedly by the sender; the key makes each one happen once.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    # A secret in the bodies (an activation code) that is blanked out once the notice is sent.
    secret: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # A claimed row belongs to its sender until then; a sender that died gives it back by expiry.
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # After this instant the notice is pointless (a reminder of a passed deadline) and is skipped.
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NoticeOptOut(SQLModel, table=True):
    """A user's choice not to receive one optional kind of notice (reminders, digests)."""

    __tablename__ = "notice_opt_out"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
