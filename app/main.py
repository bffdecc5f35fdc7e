"""The FastAPI application: routers, error handlers, start-up clean-up."""

import errno
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # the wheel ships no types

from app.audit.router import router as audit_router
from app.courses.router import router as courses_router
from app.dashboard.router import router as dashboard_router
from app.deps import TransactionRoute
from app.errors import (
    ERROR_RESPONSES,
    AppError,
    InsufficientStorage,
    InvalidInput,
    RetryLater,
    ServiceUnavailable,
    database_refusal,
)
from app.groups.router import router as groups_router
from app.health import router as health_router
from app.logs import redact_access_log
from app.marks.router import router as marks_router
from app.middleware import RequestGuardMiddleware
from app.milestones.router import router as milestones_router
from app.notify.router import router as notify_router
from app.people.router import router as people_router
from app.programme.router import composed_router as programme_composed_router
from app.programme.router import router as programme_router
from app.reviews.router import router as reviews_router
from app.roster.router import router as roster_router
from app.selection.router import router as selection_router
from app.storage import ERR_DISK_FULL, get_store, staged_debris_remove
from app.submissions.router import router as submissions_router
from app.topics.router import router as topics_router
from app.web.router import mount_web

API_PREFIX = "/api/v1"
DB_RETRY_AFTER_S = 5
ERR_DB_UNAVAILABLE = "The database cannot be reached right now; nothing was changed. Try again in a few seconds."
ERR_INTERNAL = "Something went wrong on our side; nothing was changed. Quote the error id when you report it."
logger = logging.getLogger("app.errors")


def _error(status_code: int, code: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": code, "detail": detail, **extra})


async def app_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """AppError and subclasses: their own status and code."""
    assert isinstance(exc, AppError)
    extra: dict[str, object] = {"field": exc.field} if isinstance(exc, InvalidInput) and exc.field else {}
    if isinstance(exc, InvalidInput) and exc.errors:
        extra["errors"] = exc.errors
    response = _error(exc.status_code, exc.code, exc.detail, **extra)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RetryLater):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Request validation: 422 naming each bad field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]), "message": err["msg"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return _error(422, "invalid", detail, field=errors[0]["field"] if errors else None, errors=errors)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (unknown route, wrong method) in the same JSON shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    response = _error(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        # Starlette names only the first route whose path matched; a path served by several routes
        # (GET and PATCH on a course) allows the methods of all of them.
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    allowed = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def database_refusal_handler(request: Request, exc: Exception) -> JSONResponse:
    """A race the services could not foresee (409) or a value the database cannot store (422): not a crash."""
    return await app_error_handler(request, database_refusal(exc))


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    # SQLite reports its own full disk as an OperationalError.
    return isinstance(exc, OperationalError) and "disk is full" in str(exc.orig)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached (down, restarting, no free connection): 503 with Retry-After."""
    if _disk_full(exc):
        return await app_error_handler(request, InsufficientStorage(ERR_DISK_FULL))
    if (
        isinstance(exc, DBAPIError)
        and not isinstance(exc, (OperationalError, InterfaceError))
        and not exc.connection_invalidated
    ):
        return await internal_error_handler(request, exc)
    logger.warning("database unavailable: %s %s: %s", request.method, request.url.path, exc)
    return await app_error_handler(
        request, ServiceUnavailable(ERR_DB_UNAVAILABLE, code="database_unavailable", retry_after=DB_RETRY_AFTER_S)
    )


async def os_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A full disk is 507 (the upload's files are already removed); any other OS error is a 500."""
    if _disk_full(exc):
        return await app_error_handler(request, InsufficientStorage(ERR_DISK_FULL))
    return await internal_error_handler(request, exc)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: a JSON 500 whose error id is also in the log, next to the traceback."""
    error_id = uuid.uuid4().hex[:12]
    logger.error(
        "error id %s: %s %s", error_id, request.method, request.url.path, exc_info=(type(exc), exc, exc.__traceback__)
    )
    return _error(500, "internal_error", ERR_INTERNAL, error_id=error_id)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """At start-up, remove the staged uploads of processes that died (a crash's debris)."""
    for name in staged_debris_remove(get_store()):
        logger.info("removed staged leftover %s", name)
    yield


def add_front_door(app: FastAPI) -> None:
    """`/` leads to the pages, a favicon, and /docs served with Swagger UI from this server (works offline)."""
    # These routes touch no database, but like every route they use TransactionRoute: the rule stays
    # one rule (a test checks every route), and a later change that reads the database is covered.
    door = APIRouter(route_class=TransactionRoute)

    @door.get("/", include_in_schema=False)
    def front_door() -> RedirectResponse:
        """The pages (which send a stranger to the login form)."""
        return RedirectResponse("/ui", status_code=307)

    @door.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for /favicon.ico; the icon is an SVG among the pages' static files."""
        return RedirectResponse("/ui/static/favicon.svg", status_code=301)

    # Swagger UI's script and stylesheet come from the swagger-ui-bundle wheel, not a CDN.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @door.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The interactive API documentation."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} · API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/ui/static/favicon.svg",
        )

    app.include_router(door)


def create_app() -> FastAPI:
    """Build the application with every router and error handler."""
    app = FastAPI(
        title="Course Project Tracker",
        version="0.1.0",
        description="Runs the group project of a deep-learning course, from group formation to the final mark.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # ReDoc loads its script from a CDN; /docs covers the same ground offline
    )
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, database_refusal_handler)
    app.add_exception_handler(DataError, database_refusal_handler)
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError, DBAPIError):
        app.add_exception_handler(unavailable, database_error_handler)
    app.add_exception_handler(OSError, os_error_handler)
    # Exception (500) handlers run outside the other middleware; the server still logs the traceback.
    app.add_exception_handler(Exception, internal_error_handler)
    # A request is matched against the routes in the order they were included, router by router: the
    # routers of the most frequent requests (a student's versions and /me, a TA's dashboard) come
    # first. No path is answered by two routes (a test checks), so the order decides nothing else.
    for router in (
        submissions_router,
        people_router,
        dashboard_router,
        courses_router,
        audit_router,
        groups_router,
        topics_router,
        roster_router,
        milestones_router,
        reviews_router,
        selection_router,
        programme_router,
        programme_composed_router,
        marks_router,
        notify_router,
    ):
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(health_router, responses=ERROR_RESPONSES)
    add_front_door(app)
    mount_web(app)
    app.add_middleware(RequestGuardMiddleware)
    redact_access_log()
    return app


app = create_app()
