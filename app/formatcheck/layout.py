"""Where text lies on a page: reading order, page furniture, columns, margins and the body."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from app.formatcheck.reader import Line, PageBox, PageText

LETTER_PT = (612.0, 792.0)
LETTER_TOLERANCE_PT = 4.0
PT_PER_MM = 72.0 / 25.4
# The AAAI text block: 7 x 9 in, 0.75 in from the top, left and right edges of a Letter page.
BLOCK_MARGIN_PT = 54.0
BLOCK_HEIGHT_PT = 648.0
MARGIN_SLACK_PT = 18.0  # a quarter inch: other templates' slightly larger blocks are not layout errors
COLUMN_JUDGE_MIN_CHARS = 500
COLUMN_JUDGE_SPANNING_SHARE = 0.5  # a page is one-column when most of its body text runs across the gutter

_NAMED_SIZES_MM = {
    "A0": (841, 1189),
    "A1": (594, 841),
    "A2": (420, 594),
    "A3": (297, 420),
    "A4": (210, 297),
    "A5": (148, 210),
    "US Letter": (215.9, 279.4),
    "US Legal": (215.9, 355.6),
}

_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|tab|algorithm|listing|eq(?:uation)?)\.?\s*\d", re.I)
_LONE_NUMBER = re.compile(r"^\s*(?:\d{1,4}|[ivxlc]{1,7})\s*$")


@dataclass(slots=True)
class _Item:
    """A line (or figure) with its place in reading order."""

    line: Line
    bucket: int
    furniture: bool
    index: int = 0


@dataclass(slots=True)
class _Heading:
    text: str
    key: str  # normalised text
    item: int  # index of its first line in reading order
    page: int
    size: float
    kind: str  # "display" or "run-in"
    top: bool = False


@dataclass(slots=True)
class _Layout:
    """Everything the paper rules are judged on."""

    body_size: float | None
    items: list[_Item]
    two_column: list[bool]
    headings: list[_Heading] = field(default_factory=list)
    candidates: list[_Heading] = field(default_factory=list)
    references: tuple[int, int] | None = None
    references_page: int | None = None
    title_floor: float | None = None  # page-1 lines above it are the title block
    floats_in_references: set[int] = field(default_factory=set)  # float text inside the references span


def _pt(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _size_name(width: float, height: float) -> str:
    short, long = sorted((width / PT_PER_MM, height / PT_PER_MM))
    for name, (a, b) in _NAMED_SIZES_MM.items():
        if abs(short - a) <= 3 and abs(long - b) <= 3:
            return name
    return ""


def _describe_size(width: float, height: float) -> str:
    name = _size_name(width, height)
    text = f"{width:.0f} × {height:.0f} pt"
    return f"{text} ({name})" if name else text


def _is_letter(box: PageBox) -> bool:
    return (
        abs(box.width - LETTER_PT[0]) <= LETTER_TOLERANCE_PT and abs(box.height - LETTER_PT[1]) <= LETTER_TOLERANCE_PT
    )


def _mode(weights: Counter[float]) -> float | None:
    if not weights:
        return None
    return max(weights.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def _furniture_flags(lines: list[Line], box: PageBox) -> list[bool]:
    """Running heads, page numbers and footers: short lines at the very top or bottom of the sheet,
    set apart from the text (a heading at the top of a column sits close to its first line)."""
    flags = []
    for line in lines:
        # Line numbers of review mode and page numbers are numbers standing alone.
        flag = line.kind == "text" and bool(_LONE_NUMBER.match(line.text))
        if (
            not flag
            and line.kind == "text"
            and len(line.text.split()) <= 8
            and (line.y < 0.07 * box.height or line.y > 0.93 * box.height)
        ):
            reach = max(22.0, 2 * line.size)
            flag = not any(
                other is not line and abs(other.y - line.y) <= reach and other.x0 < line.x1 and other.x1 > line.x0
                for other in lines
            )
        flags.append(flag)
    return flags


def _flag_running_heads(texts: list[PageText], boxes: list[PageBox], furniture: list[list[bool]]) -> None:
    """Running heads and footers repeat, page numbers aside, on several pages near the top or bottom edge."""
    if len(texts) < 2:
        return
    seen: dict[str, set[int]] = {}
    candidates: list[tuple[int, int, str]] = []
    for page, (text, box) in enumerate(zip(texts, boxes, strict=True)):
        if len(text.lines) < 4:
            continue  # a page of one repeated line is that line's page, not a running head's
        for k, line in enumerate(text.lines):
            if _in_edge_band(line, box) and _set_apart(line, text.lines):
                key = _running_key(line.text)
                seen.setdefault(key, set()).add(page)
                candidates.append((page, k, key))
    for page, k, key in candidates:
        if key and len(seen[key]) >= 2:
            furniture[page][k] = True


def _set_apart(line: Line, lines: list[Line]) -> bool:
    """No line above or below it within a paragraph's line spacing (a running head stands off the text)."""
    reach = 1.6 * line.size
    return not any(
        other is not line and 0 < abs(other.y - line.y) <= reach and other.x0 < line.x1 and other.x1 > line.x0
        for other in lines
    )


def _in_edge_band(line: Line, box: PageBox) -> bool:
    return len(line.text.split()) <= 12 and (line.y < 0.12 * box.height or line.y > 0.88 * box.height)


def _running_key(text: str) -> str:
    return " ".join(re.sub(r"\d+", "#", text.lower()).split())


def _crosses_centre(line: Line, box: PageBox) -> bool:
    centre = box.width / 2
    return line.x0 < centre - 4 and line.x1 > centre + 4


def _is_two_column(lines: list[Line], box: PageBox, body_size: float | None, most: float = 0.4) -> bool:
    """Two columns unless much (`most`) of the body-size text runs across the page's centre."""
    if body_size is None:
        return False
    spanning = total = 0
    for line in lines:
        if line.kind != "text" or abs(line.size - body_size) > 1.0:
            continue
        n = line.chars
        total += n
        if _crosses_centre(line, box):
            spanning += n
    return total == 0 or spanning < most * total


def _bucket(line: Line, box: PageBox, two_column: bool) -> int:
    """Reading-order bucket: full-width top matter, left column, right column, full-width bottom."""
    if not two_column:
        return 0
    centre = box.width / 2
    if line.x1 <= centre + 4:
        return 1
    if line.x0 >= centre - 4:
        return 2
    return 0 if line.y > box.height / 2 else 3


def _in_title_block(layout: _Layout, line: Line) -> bool:
    return line.page == 0 and layout.title_floor is not None and line.y > layout.title_floor + 0.5


def _caption_lines(layout: _Layout) -> set[int]:
    """Items of figure and table captions: a line starting "Figure 2:" and the lines that continue it."""
    found: set[int] = set()
    previous: _Item | None = None
    for item in layout.items:
        line = item.line
        if (line.kind == "text" and not item.furniture) and (
            _CAPTION.match(line.text)
            or (
                previous is not None
                and previous.index in found
                and previous.line.page == line.page
                and 0 < previous.line.y - line.y <= 1.6 * line.size
                and abs(previous.line.x0 - line.x0) <= 2 * line.size
            )
        ):
            found.add(item.index)
        previous = item if line.kind == "text" and not item.furniture else previous
    return found


def _in_references(layout: _Layout, index: int) -> bool:
    span = layout.references
    return span is not None and span[0] <= index < span[1] and index not in layout.floats_in_references


def _is_body(layout: _Layout, item: _Item) -> bool:
    """Body content: anything but references and page furniture; a figure is body wherever it sits."""
    line = item.line
    if line.kind == "image":
        return True
    if item.furniture or _in_references(layout, item.index):
        return False
    return any(ch.isalnum() for ch in line.text)


def _body_pages(layout: _Layout) -> list[int]:
    return sorted({item.line.page + 1 for item in layout.items if _is_body(layout, item)})


def _judge_columns(
    layout: _Layout, texts: list[PageText], boxes: list[PageBox]
) -> tuple[list[int | None], list[int], list[Line]]:
    """Columns per page (None where under 500 body characters), the single-column pages,
    and the body lines that run across the gutter on them."""
    body_size = layout.body_size
    per_page: dict[int, list[Line]] = {}
    captions = _caption_lines(layout)
    for item in layout.items:
        line = item.line
        if item.furniture or line.kind != "text" or _in_references(layout, item.index):
            continue
        if body_size is None or abs(line.size - body_size) > 1.0:
            continue
        if item.index in captions or _in_title_block(layout, line):
            continue
        per_page.setdefault(line.page, []).append(line)
    columns: list[int | None] = []
    single: list[int] = []
    spanning: list[Line] = []
    for page in range(len(texts)):
        lines = per_page.get(page, [])
        if sum(line.chars for line in lines) < COLUMN_JUDGE_MIN_CHARS:
            columns.append(None)
            continue
        two = _is_two_column(lines, boxes[page], body_size, most=COLUMN_JUDGE_SPANNING_SHARE)
        columns.append(2 if two else 1)
        if not two:
            single.append(page + 1)
            spanning += [line for line in lines if _crosses_centre(line, boxes[page])]
    return columns, single, spanning


def _margin_pages(layout: _Layout, boxes: list[PageBox]) -> tuple[list[int], list[Line]]:
    """Letter pages with text outside the AAAI block, when that is so on at least half of them,
    and the lines that lie outside."""
    judged: set[int] = set()
    outside: set[int] = set()
    stray: list[Line] = []
    for item in layout.items:
        line = item.line
        box = boxes[line.page]
        if line.kind != "text" or item.furniture or not _is_letter(box):
            continue
        judged.add(line.page)
        top = box.height - BLOCK_MARGIN_PT
        bottom = top - BLOCK_HEIGHT_PT
        if (
            line.x0 < BLOCK_MARGIN_PT - MARGIN_SLACK_PT
            or line.x1 > box.width - BLOCK_MARGIN_PT + MARGIN_SLACK_PT
            or line.y + 0.7 * line.size > top + MARGIN_SLACK_PT
            or line.y < bottom - MARGIN_SLACK_PT
        ):
            outside.add(line.page)
            stray.append(line)
    if not outside or len(outside) * 2 < len(judged):
        return [], []
    return sorted(p + 1 for p in outside), stray
