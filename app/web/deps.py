"""Web sessions, CSRF tokens and the page route class that turns errors into pages.

A web session is an ApiToken of kind "web" carried in an HttpOnly cookie. Every form
carries a CSRF token derived with HMAC from the session secret (or, before login, from a
random pre-login cookie), so a page from another site cannot post on the user's behalf.
"""

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session
from starlette.datastructures import FormData

from app.access import STAFF_ROLES, CourseAccess, GroupAccess, course_for, group_for
from app.config import get_settings
from app.db import run_transaction
from app.deps import ClockDep, SessionDep, TransactionRoute
from app.errors import AppError, Forbidden, InvalidInput, NotAuthenticated, database_refusal
from app.models import User
from app.tokens import user_from_token
from app.web.templating import render

SESSION_COOKIE = "tracker_session"
PRELOGIN_COOKIE = "tracker_prelogin"
M = TypeVar("M", bound=BaseModel)
ERR_CSRF = "This form is out of date or did not come from this site. Go back, reload the page and send it again."


class LoginRequired(AppError):
    """No live web session: the page route sends the browser to the login page."""

    status_code = 401
    code = "login_required"


def csrf_token_derive(binding: str) -> str:
    """The CSRF token of a session (or pre-login) secret: HMAC-SHA256 under the secret key."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(binding: str | None, token: str | None) -> bool:
    """Whether a posted token belongs to this session, compared in constant time."""
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token_derive(binding), token)


def secure_cookies(request: Request) -> bool:
    """Whether cookies are marked Secure: always, unless TRACKER_COOKIE_SECURE is off and the page came over HTTP.

    The scheme alone is not enough: behind a proxy that terminates TLS the request arrives as HTTP.
    """
    return get_settings().cookie_secure or request.url.scheme == "https"


def safe_next(target: str | None) -> str:
    """A post-login destination that stays on this site's pages (no open redirect)."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui"


def get_web_user(request: Request, session: SessionDep, clock: ClockDep) -> User:
    """The user of the session cookie; without one the browser is sent to the login page."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired("Log in first.")
    try:
        # Its own read transaction, ended in this thread: the page runs in another one.
        user = run_transaction(session, user_from_token, write=False, token=secret, now=clock(), kind="web")
    except NotAuthenticated:
        raise LoginRequired("Your session has ended; log in again.") from None
    request.state.web_user = user
    request.state.csrf_token = csrf_token_derive(secret)
    return user


CurrentWebUser = Annotated[User, Depends(get_web_user)]


def check_csrf(request: Request, user: CurrentWebUser, csrf_token: Annotated[str, Form()] = "") -> User:
    """Refuse (403) a form post whose CSRF token is missing or not this session's."""
    if not csrf_valid(request.cookies.get(SESSION_COOKIE), csrf_token):
        raise Forbidden(ERR_CSRF, code="csrf")
    return user


CsrfUser = Annotated[User, Depends(check_csrf)]


async def posted_form(request: Request) -> FormData:
    """The posted form as a whole, for forms whose field names vary (one field per rubric criterion)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def staff_course(session: Session, *, user: User, course_id: int) -> CourseAccess:
    """A course whose staff the user is; everyone else (students too) gets 404."""
    return course_for(session, course_id=course_id, user=user, roles=STAFF_ROLES)


def staff_group(session: Session, *, user: User, group_id: int) -> GroupAccess:
    """A group of a course whose staff the user is; its own members get 404 here too."""
    return group_for(session, group_id=group_id, user=user, members=False, staff=True)


def form_model(model: type[M], **values: Any) -> M:
    """Build a service's input model from form fields; invalid fields become a 422 page naming them."""
    try:
        # Form fields are text: "3" is a number here, unlike in a JSON body.
        return model.model_validate(values, strict=False)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"Please check the form: {problems}.") from None


def error_page(request: Request, exc: AppError) -> Response:
    """An AppError as a page with its status; 'not found' says nothing about why."""
    titles = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Please check the form"}
    return render(
        request,
        "error.html",
        {
            "title": titles.get(exc.status_code, "Something went wrong"),
            "message": exc.detail,
            "status": exc.status_code,
        },
        status_code=exc.status_code,
    )


class WebRoute(TransactionRoute):
    """A page route: a missing session redirects to login, an AppError becomes an error page.

    The page's transaction has already been rolled back in its own thread when the error arrives here.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    referer = urlsplit(request.headers.get("referer", ""))
                    target = referer.path + (f"?{referer.query}" if referer.query else "")
                return RedirectResponse(f"/ui/login?next={quote(safe_next(target))}", status_code=303)
            except AppError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
                return error_page(request, InvalidInput(f"Some fields are missing or malformed: {fields}."))
            except (IntegrityError, DataError) as exc:
                return error_page(request, database_refusal(exc))

        return page_handler
