"""The AAAI format checker: a PDF (path or bytes) in, a format report out."""

from app.formatcheck.isolate import RenderFailed, check_pdf_isolated, render_page_isolated
from app.formatcheck.report import CheckReport, Finding
from app.formatcheck.rules import (
    DEFAULT_PAGE_LIMITS,
    DEFAULT_REQUIRED_SECTIONS,
    DEFAULT_SYNONYMS,
    RULESETS,
    check_pdf,
)

__all__ = [
    "DEFAULT_PAGE_LIMITS",
    "DEFAULT_REQUIRED_SECTIONS",
    "DEFAULT_SYNONYMS",
    "RULESETS",
    "CheckReport",
    "RenderFailed",
    "Finding",
    "check_pdf",
    "check_pdf_isolated",
    "render_page_isolated",
]
