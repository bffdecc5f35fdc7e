"""Login, logout, activation and the caller's own record."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from app.config import get_settings
from app.deps import ClockDep, CurrentUser, SessionDep, oauth2_scheme
from app.people import service
from app.people.schemas import (
    AccountPublic,
    ActivateIn,
    CourseRolePublic,
    GroupRefPublic,
    MePublic,
    PasswordChangedPublic,
    PasswordChangeIn,
    TokenPublic,
    UserPublic,
)

router = APIRouter(tags=["people"])


@router.post("/auth/token")
def login_for_token(
    session: SessionDep, clock: ClockDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenPublic:
    """Log in with username and password; returns a bearer token."""
    secret, _ = service.login(session, username=form.username, password=form.password, now=clock())
    return TokenPublic(access_token=secret, expires_in=get_settings().token_ttl_minutes * 60)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep, clock: ClockDep, user: CurrentUser, token: Annotated[str, Depends(oauth2_scheme)]
) -> None:
    """Revoke the bearer token used for this request."""
    service.token_revoke(session, token=token, now=clock())


@router.post("/auth/activate")
def activate(session: SessionDep, clock: ClockDep, body: ActivateIn) -> UserPublic:
    """Set a password with a one-time activation code from the roster import."""
    user = service.activate(session, code=body.code, password=body.password, now=clock())
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/me")
def me(session: SessionDep, user: CurrentUser) -> MePublic:
    """The caller, with their course roles and current groups."""
    roles, groups = service.user_memberships(session, user=user)
    return MePublic(
        **UserPublic.model_validate(user, from_attributes=True).model_dump(),
        is_admin=user.is_admin,
        courses=[CourseRolePublic(course_id=r.course_id, role=r.role) for r in roles],
        groups=[GroupRefPublic(group_id=g.id or 0, course_id=g.course_id, name=g.name) for g in groups],
    )


@router.post("/me/password")
def change_password(
    session: SessionDep, clock: ClockDep, user: CurrentUser, token: Annotated[str, Depends(oauth2_scheme)],
    body: PasswordChangeIn,
) -> PasswordChangedPublic:
    """Change the caller's password; every other token and web session of theirs ends."""
    revoked = service.password_change(session, user=user, current_password=body.current_password,
                                      new_password=body.new_password, keep_token=token, now=clock())
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
