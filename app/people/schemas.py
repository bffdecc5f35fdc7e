"""Request and response models for people and login."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.inputs import StrictInput


class TokenPublic(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ActivateIn(StrictInput):
    """A one-time code and the password to set (at least 8 characters)."""

    code: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)


class CourseRolePublic(BaseModel):
    """A user's role in a course."""

    course_id: int
    role: str


class GroupRefPublic(BaseModel):
    """A group the user belongs to."""

    group_id: int
    course_id: int
    name: str


class UserPublic(BaseModel):
    """A user as others may see them."""

    id: int
    username: str
    name: str
    email: str | None
    student_no: str | None


class MePublic(UserPublic):
    """The caller, with their roles and groups."""

    is_admin: bool
    courses: list[CourseRolePublic]
    groups: list[GroupRefPublic]


class PasswordChangeIn(BaseModel):
    """The current password and the new one."""

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordChangedPublic(BaseModel):
    """What a password change did: how many other logins it ended."""

    revoked_tokens: int


class AccountPublic(BaseModel):
    """An account's state as an administrator sees it."""

    id: int
    username: str
    is_active: bool


class InvitationPublic(BaseModel):
    """An invitation to join a course, as its invitee sees it (`status` open, accepted or declined)."""

    id: int
    course_id: int
    course_code: str
    course_title: str
    role: Literal["student", "ta"]
    invited_at: datetime
    expires_at: datetime
    status: Literal["open", "accepted", "declined"]
