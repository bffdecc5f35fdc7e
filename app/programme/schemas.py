"""Request and response models of the week-16 programme; inputs are strict and bounded."""

from datetime import date, datetime, time
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app.programme.rules import BALLOT_MAX_SCORE, DEFAULT_CHANGEOVER_MINUTES, DEFAULT_TALK_MINUTES

MAX_ID = 2**31 - 1


class BreakIn(BaseModel):
    """A pause after the `after`-th talk of the session (it replaces that talk's changeover)."""

    model_config = ConfigDict(extra="forbid")

    after: StrictInt = Field(ge=1, le=1000)
    minutes: StrictInt = Field(ge=1, le=600)


class SessionIn(BaseModel):
    """A session of talks: its date and start in course time, room, talk length, changeover and breaks."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=120)
    day: date
    start_time: time = Field(description="Wall-clock start in the course's time zone, e.g. 14:00.")
    room: str = Field(min_length=1, max_length=200)
    talk_minutes: StrictInt = Field(default=DEFAULT_TALK_MINUTES, ge=1, le=240)
    changeover_minutes: StrictInt = Field(default=DEFAULT_CHANGEOVER_MINUTES, ge=0, le=120)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=50)
    max_talks: StrictInt | None = Field(default=None, ge=1, le=1000, description="None: no limit.")


class PlaceIn(BaseModel):
    """Place the presenting groups: in ranking order, or shuffled with a seed (a new one when omitted)."""

    model_config = ConfigDict(extra="forbid")

    order: Literal["ranking", "random"] = "ranking"
    seed: StrictInt | None = Field(default=None, ge=0, le=MAX_ID)


class MoveIn(BaseModel):
    """Move a talk to a 0-based position of a session (positions past the end mean 'last')."""

    model_config = ConfigDict(extra="forbid")

    session_id: StrictInt = Field(ge=1, le=MAX_ID)
    position: StrictInt = Field(ge=0, le=1000)


class BoardIn(BaseModel):
    """A poster's new board number; the poster holding it swaps places."""

    model_config = ConfigDict(extra="forbid")

    number: StrictInt = Field(ge=1, le=100000)


class ProgrammeUpdate(BaseModel):
    """The poster session's time and place, and the ballot rules; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    poster_starts_at: AwareDatetime | None = None
    poster_ends_at: AwareDatetime | None = None
    poster_room: str | None = Field(default=None, max_length=200)
    ballots_open: StrictBool | None = None
    max_ballots: StrictInt | None = Field(default=None, ge=0, le=1000)
    ballots_count: StrictBool | None = Field(default=None, description="Whether ballots count in poster marks.")
    ballot_weight: float | None = Field(
        default=None,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="Percent of a poster group's week-16 score taken from ballots.",
    )


class BallotIn(BaseModel):
    """A score for one poster, 1 to 5."""

    model_config = ConfigDict(extra="forbid")

    score: StrictInt = Field(ge=1, le=BALLOT_MAX_SCORE)


class GroupRef(BaseModel):
    """A group as the programme shows it."""

    id: int
    name: str
    topic: str | None
    members: list[str]


class TalkPublic(BaseModel):
    """One talk with its times in the course's time zone."""

    slot_id: int
    position: int
    group: GroupRef
    starts_at: datetime
    ends_at: datetime


class BreakPublic(BaseModel):
    """A break between talks."""

    starts_at: datetime
    ends_at: datetime


class SessionPublic(BaseModel):
    """A session with its talks and breaks."""

    id: int
    title: str
    day: date
    start_time: time
    room: str
    talk_minutes: int
    changeover_minutes: int
    breaks: list[BreakIn]
    max_talks: int | None
    starts_at: datetime
    ends_at: datetime | None
    talks: list[TalkPublic]
    pauses: list[BreakPublic]


class BoardPublic(BaseModel):
    """A poster board; `ballots` (count) is shown to staff only."""

    id: int
    number: int
    group: GroupRef
    ballots: int | None = None


class ProgrammePublic(BaseModel):
    """The week-16 programme: talks by session, poster boards, the poster session and ballot rules."""

    course_id: int
    timezone: str
    selection_in_force: int | None
    published_at: datetime | None
    order: str
    seed: int | None
    poster_starts_at: datetime | None
    poster_ends_at: datetime | None
    poster_room: str
    ballots_open: bool
    max_ballots: int
    ballots_count: bool
    ballot_weight: float
    sessions: list[SessionPublic]
    boards: list[BoardPublic]


class BallotPublic(BaseModel):
    """One of the caller's own ballots."""

    board_id: int
    board_number: int
    group_id: int
    score: int
    cast_at: datetime


class MyBallotsPublic(BaseModel):
    """The caller's ballots and how many remain."""

    max_ballots: int
    remaining: int
    ballots: list[BallotPublic]
