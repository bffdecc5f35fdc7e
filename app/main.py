"""The FastAPI application: routers, error handlers."""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # the wheel ships no types
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.audit.router import router as audit_router
from app.courses.router import router as courses_router
from app.dashboard.router import router as dashboard_router
from app.errors import AppError, InvalidInput
from app.groups.router import router as groups_router
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


def add_front_door(app: FastAPI) -> None:
    """`/` leads to the pages, a favicon, and /docs served with Swagger UI from this server (works offline)."""

    @app.get("/", include_in_schema=False)
    def front_door() -> RedirectResponse:
        """The pages (which send a stranger to the login form)."""
        return RedirectResponse("/ui", status_code=307)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for /favicon.ico; the icon is an SVG among the pages' static files."""
        return RedirectResponse("/ui/static/favicon.svg", status_code=301)

    # Swagger UI's script and stylesheet come from the swagger-ui-bundle wheel, not a CDN.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The interactive API documentation."""
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} · API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/ui/static/favicon.svg")


def create_app() -> FastAPI:
    """Build the application with every router and error handler."""
    app = FastAPI(
        title="Course Project Tracker",
        version="0.1.0",
        description="Runs the group project of a deep-learning course, from group formation to the final mark.",
        docs_url=None,
        redoc_url=None,  # ReDoc loads its script from a CDN; /docs covers the same ground offline
    )
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(DataError, data_error_handler)
    for router in (people_router, courses_router, audit_router, groups_router, topics_router, roster_router, milestones_router, reviews_router,
                   selection_router, marks_router, submissions_router, dashboard_router, notify_router):
        app.include_router(router, prefix=API_PREFIX)
    add_front_door(app)
    mount_web(app)
    return app


app = create_app()
