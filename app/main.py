"""The FastAPI application: routers, error handlers."""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.audit.router import router as audit_router
from app.courses.router import router as courses_router
from app.dashboard.router import router as dashboard_router
from app.errors import AppError, InvalidInput
from app.groups.router import router as groups_router
from app.health import router as health_router
from app.marks.router import router as marks_router
from app.milestones.router import router as milestones_router
from app.notify.router import router as notify_router
from app.people.router import router as people_router
from app.roster.router import router as roster_router
from app.topics.router import router as topics_router
from app.reviews.router import router as reviews_router
from app.selection.router import router as selection_router
from app.submissions.router import router as submissions_router
from app.web.router import mount_web

API_PREFIX = "/api/v1"


def _error(status_code: int, code: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": code, "detail": detail, **extra})


async def app_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """AppError and subclasses: their own status and code."""
    assert isinstance(exc, AppError)
    extra: dict[str, object] = {"field": exc.field} if isinstance(exc, InvalidInput) and exc.field else {}
    if isinstance(exc, InvalidInput) and exc.errors:
        extra["errors"] = exc.errors
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    response = _error(exc.status_code, exc.code, exc.detail, **extra)
    if headers:
        response.headers.update(headers)
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


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (unknown route, wrong method) in the same JSON shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    response = _error(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def integrity_error_handler(_request: Request, _exc: Exception) -> JSONResponse:
    """A uniqueness or foreign-key race the services could not foresee: a conflict, not a crash."""
    return _error(409, "conflict", "The change conflicts with the current state; reload and try again.")


async def data_error_handler(_request: Request, _exc: Exception) -> JSONResponse:
    """A value the database refuses to store (PostgreSQL: a NUL in text, an integer out of range): bad input."""
    return _error(422, "invalid", "A value cannot be stored: it holds a NUL character or a number out of range.")


def create_app() -> FastAPI:
    """Build the application with every router and error handler."""
    app = FastAPI(
        title="Course Project Tracker",
        version="0.1.0",
        description="Runs the group project of a deep-learning course, from group formation to the final mark.",
    )
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(DataError, data_error_handler)
    for router in (people_router, courses_router, audit_router, groups_router, topics_router, roster_router, milestones_router, reviews_router,
                   selection_router, marks_router, submissions_router, dashboard_router, notify_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_router)
    mount_web(app)
    return app


app = create_app()
