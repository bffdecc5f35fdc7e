"""Every page under /ui, and the static files they use."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from app.errors import NotFound
from app.web import (
    admin,
    admin_marks,
    admin_people,
    auth,
    dashboard,
    groups,
    notices,
    programme,
    selection,
    student,
    upload,
)
from app.web.deps import CurrentWebUser, WebRoute
from app.web.templating import STATIC_DIR

UI_PREFIX = "/ui"

# Last: any other address under /ui gets a page that says so (not the API's JSON).
fallback = APIRouter(route_class=WebRoute, include_in_schema=False)


@fallback.get("/{rest:path}")
def page_not_found(request: Request, rest: str, user: CurrentWebUser) -> None:
    """An unknown page (after login, so that nothing is told to strangers)."""
    raise NotFound("There is no such page.")


PAGE_ROUTERS = (
    auth.router,
    admin.router,
    admin_marks.router,
    admin_people.router,
    dashboard.router,
    groups.router,
    notices.router,
    selection.router,
    programme.router,
    student.router,
    upload.router,
    fallback,
)


def mount_web(app: FastAPI) -> None:
    """Serve the pages under /ui and their stylesheet and script under /ui/static."""
    app.mount(f"{UI_PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router, prefix=UI_PREFIX)
