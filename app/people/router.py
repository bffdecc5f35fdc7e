"""Login, logout, activation and the caller's own record."""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, status
from sqlmodel import Session

from app.deps import (
    BearerToken,
    ClockDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TransactionRoute,
    client_address,
    oauth2_scheme,
    read_as_user,
)
from app.errors import InvalidInput
from app.models import Course, CourseInvitation, User
from app.people import invitations, service
from app.people.login import login_bounded
from app.people.schemas import (
    AccountPublic,
    ActivateIn,
    CourseRolePublic,
    GroupRefPublic,
    InvitationPublic,
    MePublic,
    PasswordChangedPublic,
    PasswordChangeIn,
    TokenPublic,
    UserPublic,
)
from app.tokens import token_revoke

router = APIRouter(tags=["people"], route_class=TransactionRoute)


ERR_REPEATED_FIELD = "The form field {name!r} is given more than once."


@dataclass(frozen=True)
class LoginForm:
    """The OAuth2 password-flow form."""

    username: str
    password: str


async def login_form(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=120)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> LoginForm:
    """The login form; a field given twice is refused rather than resolved silently."""
    form = await request.form()  # already parsed and cached by FastAPI
    for name in ("username", "password", "grant_type"):
        if len(form.getlist(name)) > 1:
            raise InvalidInput(ERR_REPEATED_FIELD.format(name=name), field=name)
    return LoginForm(username=username, password=password)


@router.post("/auth/token")
async def login_for_token(
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Depends(login_form)],
) -> TokenPublic:
    """Log in with username and password; returns a bearer token (429 with Retry-After after repeated failures)."""
    secret, _ = await login_bounded(
        username=form.username, password=form.password, address=client_address(request), now=clock(), settings=settings
    )
    return TokenPublic(access_token=secret, expires_in=settings.token_ttl_minutes * 60)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep, clock: ClockDep, user: CurrentUser, token: Annotated[str, Depends(oauth2_scheme)]
) -> None:
    """Revoke the bearer token used for this request."""
    token_revoke(session, token=token, now=clock())


@router.post("/auth/activate")
def activate(session: SessionDep, clock: ClockDep, body: ActivateIn) -> UserPublic:
    """Set a password with a one-time activation code from the roster import."""
    user = service.activation_redeem(session, code=body.code, password=body.password, now=clock())
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/me")
async def me(session: SessionDep, clock: ClockDep, token: BearerToken) -> MePublic:
    """The caller, with their course roles and current groups."""
    return await read_as_user(session, clock, token, _me)


def _me(session: Session, *, user: User) -> MePublic:
    roles, groups = service.user_memberships(session, user=user)
    return MePublic(
        **UserPublic.model_validate(user, from_attributes=True).model_dump(),
        is_admin=user.is_admin,
        courses=[CourseRolePublic(course_id=r.course_id, role=r.role) for r in roles],
        groups=[GroupRefPublic(group_id=g.id or 0, course_id=g.course_id, name=g.name) for g in groups],
    )


@router.post("/me/password")
def change_password(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    token: Annotated[str, Depends(oauth2_scheme)],
    body: PasswordChangeIn,
) -> PasswordChangedPublic:
    """Change the caller's password; every other token and web session of theirs ends."""
    revoked = service.password_change(
        session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_token=token,
        now=clock(),
    )
    return PasswordChangedPublic(revoked_tokens=revoked)


@router.post("/users/{user_id}/disable")
def disable_account(session: SessionDep, clock: ClockDep, user: CurrentUser, user_id: int) -> AccountPublic:
    """Disable an account (admins): its sessions and tokens stop working at once."""
    target = service.account_set_active(session, admin=user, user_id=user_id, active=False, now=clock())
    return AccountPublic(id=target.id or 0, username=target.username, is_active=target.is_active)


@router.post("/users/{user_id}/enable")
def enable_account(session: SessionDep, clock: ClockDep, user: CurrentUser, user_id: int) -> AccountPublic:
    """Enable a disabled account again (admins); the user logs in anew."""
    target = service.account_set_active(session, admin=user, user_id=user_id, active=True, now=clock())
    return AccountPublic(id=target.id or 0, username=target.username, is_active=target.is_active)


def _invitation_public(invitation: CourseInvitation, course: Course) -> InvitationPublic:
    state: Literal["open", "accepted", "declined"] = (
        "accepted" if invitation.accepted_at else "declined" if invitation.declined_at else "open"
    )
    return InvitationPublic(
        id=invitation.id or 0,
        course_id=course.id or 0,
        course_code=course.code,
        course_title=course.title,
        role="ta" if invitation.role == "ta" else "student",
        invited_at=invitation.created_at,
        expires_at=invitation.expires_at,
        status=state,
    )


@router.get("/me/invitations")
def my_invitations(session: SessionDep, clock: ClockDep, user: CurrentUser) -> list[InvitationPublic]:
    """The caller's open invitations to join courses (from roster imports), oldest first."""
    rows = invitations.invitations_mine(session, user=user, now=clock())
    return [_invitation_public(invitation, course) for invitation, course in rows]


@router.post("/me/invitations/{invitation_id}/accept")
def accept_invitation(session: SessionDep, clock: ClockDep, user: CurrentUser, invitation_id: int) -> InvitationPublic:
    """Accept an open invitation of the caller's: they join its course with its role (404 for any other)."""
    invitation = invitations.invitation_accept(session, user=user, invitation_id=invitation_id, now=clock())
    return _invitation_public(invitation, _course(session, invitation))


@router.post("/me/invitations/{invitation_id}/decline")
def decline_invitation(session: SessionDep, clock: ClockDep, user: CurrentUser, invitation_id: int) -> InvitationPublic:
    """Decline an open invitation of the caller's; they do not join (404 for any other)."""
    invitation = invitations.invitation_decline(session, user=user, invitation_id=invitation_id, now=clock())
    return _invitation_public(invitation, _course(session, invitation))


def _course(session: Session, invitation: CourseInvitation) -> Course:
    course = session.get(Course, invitation.course_id)
    assert course is not None  # the invitation's foreign key
    return course
