"""Outline boxes that locate a finding on its page, built from the lines it concerns."""

from __future__ import annotations

from collections.abc import Iterable

from app.formatcheck.reader import Line, PageBox

MAX_BOXES = 20
# A vertical gap wider than this many line heights starts a new block (a figure, a float, a new area).
_BLOCK_GAP_EMS = 2.5


def _extent(line: Line) -> tuple[float, float]:
    """(bottom, top) of a line's ink: from the descenders to the ascenders, or an image's bounds."""
    if line.kind == "image":
        half = line.height / 2
        return line.y - half, line.y + half
    return line.y - 0.25 * line.size, line.y + 0.8 * line.size


def _area(line: Line, box: PageBox) -> int:
    """0 for the left column, 1 for the right, 2 for full width (the gutter is at the page centre)."""
    centre = box.width / 2
    if line.x1 <= centre + 4:
        return 0
    if line.x0 >= centre - 4:
        return 1
    return 2


def _box(page: int, parts: list[Line]) -> dict[str, float]:
    extents = [_extent(line) for line in parts]
    return {
        "page": page + 1,
        "x0": round(min(line.x0 for line in parts), 1),
        "y0": round(min(bottom for bottom, _ in extents), 1),
        "x1": round(max(line.x1 for line in parts), 1),
        "y1": round(max(top for _, top in extents), 1),
    }


def _blocks(lines: list[Line], *, split: bool) -> list[list[Line]]:
    """Lines of one page and area, top to bottom, cut where a wide vertical gap opens."""
    ordered = sorted(lines, key=lambda line: -_extent(line)[1])
    blocks: list[list[Line]] = []
    floor = 0.0
    for line in ordered:
        bottom, top = _extent(line)
        step = _BLOCK_GAP_EMS * max(line.size, 8.0)
        if blocks and (not split or floor - top <= step):
            blocks[-1].append(line)
        else:
            blocks.append([line])
            floor = bottom
        floor = min(floor, bottom)
    return blocks


def line_boxes(lines: Iterable[Line], pages: list[PageBox], limit: int = MAX_BOXES) -> list[dict[str, float]]:
    """One box per block of lines, per page and column area; coarser (one per area) when that is too many."""
    grouped: dict[tuple[int, int], list[Line]] = {}
    for line in lines:
        grouped.setdefault((line.page, _area(line, pages[line.page])), []).append(line)
    keys = sorted(grouped)
    for split in (True, False):
        boxes = [_box(page, block) for page, area in keys for block in _blocks(grouped[(page, area)], split=split)]
        if len(boxes) <= limit:
            break
    boxes.sort(key=lambda b: (b["page"], -b["y1"], b["x0"]))
    return boxes[:limit]


def page_boxes(numbers: Iterable[int], pages: list[PageBox], limit: int = MAX_BOXES) -> list[dict[str, float]]:
    """The whole displayed sheet of each 1-based page number."""
    out = []
    for number in list(numbers)[:limit]:
        box = pages[number - 1]
        out.append({"page": number, "x0": 0.0, "y0": 0.0, "x1": round(box.width, 1), "y1": round(box.height, 1)})
    return out
