"""Request and response models for groups."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.inputs import RowId, StrictInput, line


class GroupCreate(StrictInput):
    """A new group's name."""

    name: line(120)  # type: ignore[valid-type]


class GroupJoin(StrictInput):
    """The join code a group member shared."""

    code: str = Field(min_length=1, max_length=16)


class MemberAdd(StrictInput):
    """A student staff put into a group."""

    user_id: RowId


class MemberPublic(BaseModel):
    """A current member of a group."""

    user_id: int
    username: str
    name: str
    joined_at: datetime


class GroupPublic(BaseModel):
    """A group with its current members; the join code only for its members and staff."""

    id: int
    course_id: int
    name: str
    join_code: str
    deliverable: str | None
    created_at: datetime
    members: list[MemberPublic]


class FormationPublic(BaseModel):
    """Whether group formation of a course is locked."""

    course_id: int
    formation_locked: bool
