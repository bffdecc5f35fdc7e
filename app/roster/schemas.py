"""Response models for the roster import."""

from pydantic import BaseModel


class ActivationCodePublic(BaseModel):
    """A new user's one-time activation code (shown once, stored only hashed)."""

    student_no: str
    username: str
    email: str
    code: str


class RosterResultPublic(BaseModel):
    """What an import did: users created, existing users enrolled, rows already in place."""

    created: int
    enrolled_existing: int
    already_enrolled: int
    codes_emailed: int = 0  # codes also sent by email (the import's email_codes flag)
    # Lines for non-members that became invitations (staff who are not admins): new or existing
    # accounts alike, so the answer never tells which emails or student numbers have accounts.
    invited: int = 0
    activation_codes: list[ActivationCodePublic]


class MemberRolePublic(BaseModel):
    """A course member with the user id staff need (e.g. to put a student into a group)."""

    user_id: int
    username: str
    name: str
    email: str | None
    student_no: str | None
    role: str
    is_active: bool
