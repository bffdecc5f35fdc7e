"""Login, logout and the start page that lists the user's courses and group."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.access import STAFF_ROLES, STUDENT, course_for
from app.config import get_settings
from app.deps import ClockDep, SessionDep, client_address
from app.errors import AppError, InvalidInput, NotAuthenticated, TooManyRequests
from app.people.invitations import invitation_accept, invitation_decline, invitations_mine
from app.people.login import login_bounded
from app.people.service import activation_redeem, password_change, user_memberships
from app.security import new_secret
from app.tokens import token_revoke
from app.web.deps import (
    ERR_CSRF,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    CsrfUser,
    CurrentWebUser,
    WebRoute,
    csrf_token_derive,
    csrf_valid,
    safe_next,
    secure_cookies,
)
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PASSWORD_SAVED = "Your password is changed. Every other session and token of yours has ended."
SAVED = {
    "password": PASSWORD_SAVED,
    "joined": "You joined the course.",
    "declined": "You declined the invitation; you did not join the course.",
}
ERR_REPEAT = "The two new passwords differ; type the same one twice."


def _login_page(
    request: Request, *, next_url: str, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    binding = request.cookies.get(PRELOGIN_COOKIE) or new_secret(16)
    response = render(
        request,
        "login.html",
        {"next_url": next_url, "error": error, "username": username, "csrf_token": csrf_token_derive(binding)},
        status_code=status_code,
    )
    response.set_cookie(
        PRELOGIN_COOKIE, binding, httponly=True, samesite="lax", secure=secure_cookies(request), path="/ui"
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/ui") -> Response:  # noqa: A002 (the query parameter's name)
    """The login form."""
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
async def login_submit(
    request: Request,
    clock: ClockDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/ui",  # noqa: A002
) -> Response:
    """Check the credentials, open a web session in an HttpOnly cookie and go on."""
    if not csrf_valid(request.cookies.get(PRELOGIN_COOKIE), csrf_token):
        return _login_page(request, next_url=safe_next(next), error=ERR_CSRF, username=username, status_code=403)
    settings = get_settings()
    try:
        secret, _ = await login_bounded(
            username=username,
            password=password,
            address=client_address(request),
            now=clock(),
            settings=settings,
            kind="web",
        )
    except NotAuthenticated as exc:
        return _login_page(request, next_url=safe_next(next), error=exc.detail, username=username, status_code=401)
    except TooManyRequests as exc:
        page = _login_page(request, next_url=safe_next(next), error=exc.detail, username=username, status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(PRELOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, clock: ClockDep, user: CsrfUser) -> Response:
    """End the web session (revoked on the server, cookie removed)."""
    token_revoke(session, token=request.cookies.get(SESSION_COOKIE, ""), now=clock(), kind="web")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("")
def home(
    request: Request, session: SessionDep, clock: ClockDep, user: CurrentWebUser, saved: str | None = None
) -> Response:
    """The user's courses (staff), own groups (students) and open invitations to join courses."""
    roles, groups = user_memberships(session, user=user)
    staff_courses = [
        course_for(session, course_id=r.course_id, user=user).course
        for r in roles
        if r.role in STAFF_ROLES or user.is_admin
    ]
    grouped = {g.course_id for g in groups}
    groupless = [
        course_for(session, course_id=r.course_id, user=user).course
        for r in roles
        if r.role == STUDENT and r.course_id not in grouped
    ]
    return render(
        request,
        "home.html",
        {
            "staff_courses": staff_courses,
            "groups": groups,
            "groupless": groupless,
            "invitations": invitations_mine(session, user=user, now=clock()),
            "saved": SAVED.get(saved or ""),
        },
    )


@router.post("/invitations/{invitation_id}/accept")
def accept_invitation(session: SessionDep, clock: ClockDep, user: CsrfUser, invitation_id: int) -> Response:
    """Accept one of the user's invitations: they join its course."""
    invitation_accept(session, user=user, invitation_id=invitation_id, now=clock())
    return RedirectResponse("/ui?saved=joined", status_code=303)


@router.post("/invitations/{invitation_id}/decline")
def decline_invitation(session: SessionDep, clock: ClockDep, user: CsrfUser, invitation_id: int) -> Response:
    """Decline one of the user's invitations; nothing else changes."""
    invitation_decline(session, user=user, invitation_id=invitation_id, now=clock())
    return RedirectResponse("/ui?saved=declined", status_code=303)


def _account_page(request: Request, *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "account.html", {"errors": errors or {}, "title": "Your account"}, status_code=status_code)


@router.get("/account")
def account(request: Request, user: CurrentWebUser) -> Response:
    """The user's account: change the password."""
    return _account_page(request)


@router.post("/account/password")
def change_password(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CsrfUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    repeat_password: Annotated[str, Form()] = "",
) -> Response:
    """Set a new password; this session goes on, every other session and token ends."""
    if new_password != repeat_password:
        return _account_page(request, errors={"repeat_password": ERR_REPEAT}, status_code=422)
    try:
        password_change(
            session,
            user=user,
            current_password=current_password[:200],
            new_password=new_password[:200],
            keep_token=request.cookies.get(SESSION_COOKIE),
            now=clock(),
        )
    except InvalidInput as exc:
        session.rollback()
        return _account_page(request, errors={exc.field or "new_password": exc.detail}, status_code=422)
    return RedirectResponse("/ui?saved=password", status_code=303)


def _activate_page(
    request: Request, *, errors: dict[str, str] | None = None, done: bool = False, status_code: int = 200
) -> Response:
    binding = request.cookies.get(PRELOGIN_COOKIE) or new_secret(16)
    response = render(
        request,
        "activate.html",
        {
            "errors": errors or {},
            "done": done,
            "title": "Activate your account",
            "csrf_token": csrf_token_derive(binding),
        },
        status_code=status_code,
    )
    response.set_cookie(
        PRELOGIN_COOKIE, binding, httponly=True, samesite="lax", secure=secure_cookies(request), path="/ui"
    )
    return response


@router.get("/activate")
def activate_form(request: Request) -> Response:
    """The first login: an activation code from the course staff and a new password."""
    return _activate_page(request)


@router.post("/activate")
def activate_submit(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Set the password with the one-time code; then the user logs in."""
    if not csrf_valid(request.cookies.get(PRELOGIN_COOKIE), csrf_token):
        return _activate_page(request, errors={"code": ERR_CSRF}, status_code=403)
    try:
        activation_redeem(session, code=code.strip()[:100], password=password[:200], now=clock())
    except AppError as exc:
        session.rollback()
        field_name = "password" if isinstance(exc, InvalidInput) else "code"
        return _activate_page(request, errors={field_name: exc.detail}, status_code=exc.status_code)
    return _activate_page(request, done=True)
