"""Login, logout and the start page that lists the user's courses and group."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.access import STAFF_ROLES, course_for
from app.config import get_settings
from app.deps import client_address
from app.errors import NotAuthenticated, TooManyRequests
from app.people.login import login_bounded
from app.people.service import token_revoke, user_memberships
from app.security import new_secret
from app.web.deps import (
    ERR_CSRF,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    ClockDep,
    CsrfUser,
    CurrentWebUser,
    WebRoute,
    WebSessionDep,
    csrf_token_for,
    csrf_valid,
    secure_cookies,
    safe_next,
)
from app.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _login_page(request: Request, *, next_url: str, error: str | None = None, username: str = "",
                status_code: int = 200) -> Response:
    binding = request.cookies.get(PRELOGIN_COOKIE) or new_secret(16)
    response = render(request, "login.html",
                      {"next_url": next_url, "error": error, "username": username,
                       "csrf_token": csrf_token_for(binding)},
                      status_code=status_code)
    response.set_cookie(PRELOGIN_COOKIE, binding, httponly=True, samesite="lax", secure=secure_cookies(request),
                        path="/ui")
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
        secret, _ = await login_bounded(username=username, password=password, address=client_address(request),
                                        now=clock(), settings=settings, kind="web")
    except NotAuthenticated as exc:
        return _login_page(request, next_url=safe_next(next), error=exc.detail, username=username,
                           status_code=401)
    except TooManyRequests as exc:
        page = _login_page(request, next_url=safe_next(next), error=exc.detail, username=username, status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.token_ttl_minutes * 60, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path="/")
    response.delete_cookie(PRELOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(request: Request, session: WebSessionDep, clock: ClockDep, user: CsrfUser) -> Response:
    """End the web session (revoked on the server, cookie removed)."""
    token_revoke(session, token=request.cookies.get(SESSION_COOKIE, ""), now=clock(), kind="web")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("")
def home(request: Request, session: WebSessionDep, user: CurrentWebUser) -> Response:
    """The user's courses (staff) and own groups (students)."""
    roles, groups = user_memberships(session, user=user)
    staff_courses = [course_for(session, course_id=r.course_id, user=user).course
                     for r in roles if r.role in STAFF_ROLES or user.is_admin]
    return render(request, "home.html", {"staff_courses": staff_courses, "groups": groups})
