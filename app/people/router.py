"""Login, logout, activation and the caller's own record."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from app.config import get_settings
from app.deps import ClockDep, CurrentUser, SessionDep, TransactionRoute, oauth2_scheme
from app.people import service
from app.people.schemas import ActivateIn, CourseRolePublic, GroupRefPublic, MePublic, TokenPublic, UserPublic

router = APIRouter(tags=["people"], route_class=TransactionRoute)


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
