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
    activation_codes: list[ActivationCodePublic]
