"""Page pictures of a format report: each page a finding concerns, its outline boxes drawn on it.

Pictures are made on demand in the isolated check worker (same time and memory limits as a
check) and cached on disk by file hash, page and boxes, so a report opened twice costs one
render. Only users who may see the version get its pictures; everyone else gets 404.
"""

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from app.config import Settings
from app.errors import NotFound
from app.formatcheck import RenderFailed, render_page_isolated
from app.storage import FileStore

PICTURE_WIDTH_PX = 600
MAX_PICTURES_PER_FINDING = 4
ERR_NO_PAGE = "This version has no such page."
ERR_NO_PICTURE = "The page could not be drawn."


def report_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors then warnings of a stored report."""
    return [*report.get("errors", []), *report.get("warnings", [])]


def page_boxes(report: dict[str, Any], page: int) -> list[dict[str, Any]]:
    """Every outline box of the report's findings that lies on `page`."""
    return [b for f in report_findings(report) for b in f.get("boxes", []) if int(b.get("page", 0)) == page]


def finding_pages(finding: dict[str, Any]) -> list[int]:
    """The pages to picture for a finding: those its boxes are on, else those it names (a few at most)."""
    pages = sorted({int(b["page"]) for b in finding.get("boxes", [])}) or sorted(set(finding.get("pages", [])))
    return pages[:MAX_PICTURES_PER_FINDING]


def _display_size(report: dict[str, Any], page: int) -> list[float] | None:
    sizes = (report.get("facts") or {}).get("page_sizes_pt") or []
    if len(sizes) >= page:
        return [float(v) for v in sizes[page - 1]]
    return None


def page_picture(
    path: Path, *, report: dict[str, Any], page: int, sha256: str, settings: Settings, cache: bool = True
) -> bytes:
    """The PNG of one page of a checked file with its findings' boxes, from the cache or freshly drawn."""
    boxes = page_boxes(report, page)
    cached = _cached_picture(report, page=page, sha256=sha256, settings=settings)
    if cache and cached.is_file():
        return cached.read_bytes()
    try:
        png = render_page_isolated(
            path,
            page,
            boxes,
            width_px=PICTURE_WIDTH_PX,
            display_size=_display_size(report, page),
            time_limit=settings.check_time_limit_s,
            memory_limit_mb=settings.check_memory_limit_mb,
        )
    except RenderFailed:
        raise NotFound(ERR_NO_PICTURE) from None
    if not cache:
        return png
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(png)
    partial.replace(cached)  # readers never see half a picture
    return png


def stored_page_picture(
    store: FileStore, *, report: dict[str, Any], page: int, sha256: str, settings: Settings
) -> bytes:
    """page_picture of a stored version: a cached picture is served without copying the PDF out of the store."""
    cached = _cached_picture(report, page=page, sha256=sha256, settings=settings)
    if cached.is_file():
        return cached.read_bytes()
    with store.local_copy(sha256) as path:
        return page_picture(path, report=report, page=page, sha256=sha256, settings=settings)


def _cached_picture(report: dict[str, Any], *, page: int, sha256: str, settings: Settings) -> Path:
    """Where the picture of `page` is cached: by file, page, width and boxes (NotFound for a page out of range)."""
    if not 1 <= page <= int(report.get("pages") or 0):
        raise NotFound(ERR_NO_PAGE)
    boxes = page_boxes(report, page)
    key = hashlib.sha256(json.dumps([page, PICTURE_WIDTH_PX, boxes], sort_keys=True).encode()).hexdigest()[:16]
    return Path(settings.cache_dir) / "pages" / f"{sha256}-{page}-{key}.png"


def inline_pictures(path: Path, *, report: dict[str, Any], settings: Settings) -> dict[int, str]:
    """Data URIs of the pictured pages of a file that is not stored (a dry-run check: nothing cached)."""
    sha256 = "unstored"
    pages = sorted({p for f in report_findings(report) for p in finding_pages(f)})
    pictures = {}
    for page in pages:
        try:
            png = page_picture(path, report=report, page=page, sha256=sha256, settings=settings, cache=False)
        except NotFound:
            continue
        pictures[page] = "data:image/png;base64," + base64.b64encode(png).decode()
    return pictures
