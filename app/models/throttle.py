"""Failed-login counters, one row per account name or client address."""

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime


class LoginThrottle(SQLModel, table=True):
    """Recent failed logins for one key ("account:<name>" or "address:<ip>") and its lockout."""

    __tablename__ = "login_throttle"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    failures: int = 0
    last_failure_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
