"""The AAAI format checker: a PDF (path or bytes) in, a format report out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.formatcheck.isolate import RenderFailed, check_pdf_isolated, render_page_isolated
from app.formatcheck.report import CheckReport, Finding
from app.formatcheck.rulesets import DEFAULT_PAGE_LIMITS, DEFAULT_REQUIRED_SECTIONS, DEFAULT_SYNONYMS, RULESETS

if TYPE_CHECKING:
    from app.formatcheck.rules import check_pdf

__all__ = [
    "DEFAULT_PAGE_LIMITS",
    "DEFAULT_REQUIRED_SECTIONS",
    "DEFAULT_SYNONYMS",
    "RULESETS",
    "CheckReport",
    "Finding",
    "RenderFailed",
    "check_pdf",
    "check_pdf_isolated",
    "render_page_isolated",
]


def __getattr__(name: str) -> Any:
    # check_pdf loads the PDF libraries (a third of a second); processes that only hand files to
    # the worker pool, like the web server and `tracker check`, never pay for them.
    if name == "check_pdf":
        from app.formatcheck.rules import check_pdf

        return check_pdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
