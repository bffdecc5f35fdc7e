"""Users, their bearer tokens and their one-time activation codes."""

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime


class User(SQLModel, table=True):
    """A person: student, TA, lecturer or admin (course roles live in CourseMember)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, unique=True)
    student_no: str | None = Field(default=None, max_length=40, unique=True)
    password_hash: str | None = Field(default=None, max_length=255)
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ApiToken(SQLModel, table=True):
    """A bearer token or web session, stored only as its SHA-256."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(default="api", max_length=10)  # "api" bearer token, "web" session cookie or calendar "feed"
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ActivationCode(SQLModel, table=True):
    """A one-time code from a roster import that lets a new user set a password."""

    __tablename__ = "activation_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
