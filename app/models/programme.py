"""Week 16: the presentation sessions and their slots, the poster boards, and poster ballots."""

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.db import JSONType, UTCDateTime


class Programme(SQLModel, table=True):
    """A course's week-16 settings: how talks were ordered, the poster session, ballots, publication."""

    __table_args__ = (
        CheckConstraint("order_mode IN ('ranking', 'random')", name="order_mode"),
        CheckConstraint("max_ballots >= 0", name="max_ballots"),
        CheckConstraint("ballot_weight >= 0 AND ballot_weight <= 100", name="ballot_weight"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", unique=True, ondelete="CASCADE")
    order_mode: str = Field(default="ranking", max_length=10)
    # The seed of the last random placement, stored so the same order can be produced again.
    seed: int | None = None
    poster_starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    poster_ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    poster_room: str = Field(default="", max_length=200)
    ballots_open: bool = False
    max_ballots: int = 5
    # Whether ballot scores count in a poster group's week-16 score, and their share of it in percent.
    ballots_count: bool = False
    ballot_weight: float = 0.0
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    published_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TalkSession(SQLModel, table=True):
    """A block of talks in one room: its local start, talk length, changeover and breaks."""

    __tablename__ = "programme_session"
    __table_args__ = (
        CheckConstraint("talk_minutes > 0", name="talk_minutes"),
        CheckConstraint("changeover_minutes >= 0", name="changeover_minutes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    title: str = Field(default="", max_length=120)
    day: date
    start_time: time  # wall-clock time in the course's time zone
    room: str = Field(max_length=200)
    talk_minutes: int = 10
    changeover_minutes: int = 2
    # [{"after": n, "minutes": m}]: a break of m minutes after the n-th talk, instead of its changeover.
    breaks: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    max_talks: int | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TalkSlot(SQLModel, table=True):
    """A presenting group's place in a session; its times are derived from the position on every read."""

    __tablename__ = "programme_slot"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    session_id: int = Field(foreign_key="programme_session.id", index=True, ondelete="CASCADE")
    group_id: int = Field(foreign_key="project_group.id", unique=True, ondelete="CASCADE")
    position: int


class PosterBoard(SQLModel, table=True):
    """The numbered board a poster group's poster hangs on."""

    __tablename__ = "poster_board"
    __table_args__ = (UniqueConstraint("course_id", "number"), CheckConstraint("number > 0", name="number"))

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    group_id: int = Field(foreign_key="project_group.id", unique=True, ondelete="CASCADE")
    number: int
    assigned_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PosterBallot(SQLModel, table=True):
    """One student's score for one poster; only the voter ever reads it back."""

    __tablename__ = "poster_ballot"
    __table_args__ = (
        UniqueConstraint("voter_id", "group_id"),
        CheckConstraint("score >= 1 AND score <= 5", name="score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    group_id: int = Field(foreign_key="project_group.id", index=True, ondelete="CASCADE")
    voter_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    score: int
    cast_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
