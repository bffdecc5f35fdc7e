"""The Jinja2 environment of the pages and the filters that present times, durations and numbers."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.submissions.pictures import finding_pages
from app.timefmt import duration, local_time, number

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def local_input(instant: datetime | None, timezone: str = "UTC") -> str:
    """An instant as a `datetime-local` field value in the course's time zone."""
    if instant is None:
        return ""
    return f"{instant.astimezone(ZoneInfo(timezone)):%Y-%m-%dT%H:%M}"


# Pages hold private data and forms: never cached, never framed, scripts and posts to this site only.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def stored_picture(submission: Any) -> Callable[[int], str | None]:
    """The address of a stored version's page pictures, for the format report's findings."""
    pages = int((submission.format_report or {}).get("pages") or 0)
    return lambda page: f"/ui/submissions/{submission.id}/pages/{page}.png" if 1 <= page <= pages else None


environment.filters.update(local_time=local_time, local_input=local_input, duration=duration, number=number)
environment.globals.update(stored_picture=stored_picture, picture_pages=finding_pages)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page; the signed-in user and the form's CSRF token come from the request state."""
    values = {
        "request": request,
        "user": getattr(request.state, "web_user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **(context or {}),
    }
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
