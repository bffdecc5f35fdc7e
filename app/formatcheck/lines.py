"""A page's text as lines (pdfium): runs of one text object, grouped by baseline, with fonts."""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.formatcheck.reader import Line, PageBox, PageText, Run

# Bold faces by name: PostScript weights, plus TeX's Computer Modern / cm-super bold
# extended faces (CMBX10, SFBX1200) whose names carry no weight word.
_BOLD_NAME = re.compile(r"Bold|Medi|Black|Semibold|SemiBold|Demi|Heavy|^CMBX|^CMB\d|^SFBX|^SFB\d", re.I)
_ITALIC_NAME = re.compile(r"Ital|Oblique|^CMTI|^CMSL|^SFTI|^SFSL", re.I)
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")


def _bare(function: object, restype: object, *argtypes: object) -> Any:
    """A pdfium function declared again on bare addresses (ints): ctypes then passes its arguments
    without checking and converting pointer types, which halves the cost of a call per character
    or run; the results are the same."""
    address = ctypes.cast(function, ctypes.c_void_p).value  # type: ignore[arg-type]  # a loaded symbol is never NULL
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)  # type: ignore[arg-type]  # ctypes types, loosely typed


_VOID_P, _INT, _DOUBLE = ctypes.c_void_p, ctypes.c_int, ctypes.c_double
# The text object of a character, and the font of a text object, as bare addresses: comparing
# objects per character then costs one call, not a call and a ctypes.cast.
_TEXT_OBJECT_ADDRESS = _bare(pdfium_c.FPDFText_GetTextObject, _VOID_P, _VOID_P, _INT)
_FONT_ADDRESS = _bare(pdfium_c.FPDFTextObj_GetFont, _VOID_P, _VOID_P)
_GET_MATRIX = _bare(pdfium_c.FPDFText_GetMatrix, _INT, _VOID_P, _INT, _VOID_P)
_GET_FONT_SIZE = _bare(pdfium_c.FPDFText_GetFontSize, _DOUBLE, _VOID_P, _INT)
_GET_ORIGIN = _bare(pdfium_c.FPDFText_GetCharOrigin, _INT, _VOID_P, _INT, _VOID_P, _VOID_P)
_GET_BOX = _bare(pdfium_c.FPDFText_GetCharBox, _INT, _VOID_P, _INT, _VOID_P, _VOID_P, _VOID_P, _VOID_P)
_LINE_BREAK = re.compile(r"[\r\n]")
# A run wider than this many ems per character holds gaps wider than word spaces (Times averages ~0.45).
_GAPPY_WIDTH = 0.6


class _FontCache:
    """(bold, italic) per pdfium font handle (fonts live as long as the document)."""

    def __init__(self) -> None:
        self._style: dict[int, tuple[bool, bool]] = {}
        self._buf = ctypes.create_string_buffer(256)

    def style(self, text_obj: int) -> tuple[bool, bool]:
        """(bold, italic) of the font of a text object (given by its address), from its PostScript name."""
        key = _FONT_ADDRESS(text_obj) or 0
        cached = self._style.get(key)
        if cached is None:
            cached = (False, False)
            if key:
                font = ctypes.cast(key, pdfium_c.FPDF_FONT)
                n = pdfium_c.FPDFFont_GetBaseFontName(font, self._buf, 256)
                name = _SUBSET_PREFIX.sub("", self._buf.raw[: max(n - 1, 0)].decode("latin-1"))
                # Unnamed (Type 3) fonts carry no weight word; the descriptor weight is all there is.
                bold = bool(_BOLD_NAME.search(name)) or (not name and pdfium_c.FPDFFont_GetWeight(font) >= 600)
                italic = bool(_ITALIC_NAME.search(name))
                cached = (bold, italic)
            self._style[key] = cached
        return cached


def read_page_text(
    doc: pdfium.PdfDocument,
    index: int,
    box: PageBox,
    fonts: _FontCache,
    *,
    want_images: bool,
    wanted: Callable[[str], bool] | None = None,
) -> PageText | None:
    """Extract the lines of one page in displayed coordinates; None when `wanted`, shown the
    page's plain text, declines it (plain text costs a fraction of the lines and their fonts)."""
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            n = pdfium_c.FPDFText_CountChars(textpage.raw)
            text = textpage.get_text_range(0, n) if n > 0 else ""
            if wanted is not None and not wanted(text):
                return None
            runs, chars = _read_runs(textpage, box, fonts, text, n)
        finally:
            textpage.close()
        images = _read_images(page, box, index) if want_images else []
    finally:
        page.close()
    return PageText(lines=_group_lines(runs, index), chars=chars, images=images)


def new_font_cache() -> _FontCache:
    """A font cache for one document."""
    return _FontCache()


def _read_runs(
    textpage: pdfium.PdfTextPage, box: PageBox, fonts: _FontCache, text: str, n: int
) -> tuple[list[Run], int]:
    raw = textpage.raw
    if n <= 0:
        return [], 0
    if len(text) != n:
        # Characters outside the BMP or odd mappings: fall back to one call per character.
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 32) for i in range(n))
    page_address = ctypes.cast(raw, ctypes.c_void_p).value
    cuts = _object_cuts(page_address, n, text)
    matrix = pdfium_c.FS_MATRIX()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    at_matrix, at_ox, at_oy = ctypes.addressof(matrix), ctypes.addressof(ox), ctypes.addressof(oy)
    at_box = tuple(ctypes.addressof(v) for v in (left, right, bottom, top))
    runs: list[Run] = []
    chars = 0
    rot = box.rotate
    unit = box.user_unit
    # Most pages map user space onto the display unchanged: skip the mapping call per run there.
    identity = rot == 0 and unit == 1.0 and box.origin_x == 0.0 and box.origin_y == 0.0
    for first, end, obj in cuts:
        if not obj:
            continue
        segment = text[first:end]
        stripped = segment.strip()
        if not stripped:
            continue
        chars += len("".join(stripped.split()))
        # Trim leading/trailing spaces so the box covers ink only.
        lead = len(segment) - len(segment.lstrip())
        trail = len(segment) - len(segment.rstrip())
        a, b = first + lead, end - 1 - trail
        _GET_MATRIX(page_address, a, at_matrix)
        # Direction of the text in displayed space decides whether the run is upright.
        dx, dy = matrix.a, matrix.b
        if rot == 90:
            dx, dy = dy, -dx
        elif rot == 180:
            dx, dy = -dx, -dy
        elif rot == 270:
            dx, dy = -dy, dx
        if dx <= 0 or abs(dy) > 0.1 * dx:
            continue  # rotated stamps and vertical table headers are not body lines
        # pdfium reports the nominal size; the printed size includes the text matrix scale.
        size = _GET_FONT_SIZE(page_address, a) * math.hypot(matrix.c, matrix.d) * unit
        if size <= 0.5:
            continue
        _GET_ORIGIN(page_address, a, at_ox, at_oy)
        _GET_BOX(page_address, b, *at_box)
        if identity:
            x0, y, x1 = ox.value, oy.value, max(left.value, right.value)
        else:
            x0, y = box.to_display(ox.value, oy.value)
            corners = (box.to_display(left.value, bottom.value), box.to_display(right.value, top.value))
            x1 = max(corners[0][0], corners[1][0])
        if x1 < x0:
            x1 = x0
        bold, italic = fonts.style(obj)
        if x1 - x0 > _GAPPY_WIDTH * size * len(stripped) and len(stripped) >= 3:
            # Far wider than its characters: one text object across table cells or columns.
            runs += _split_at_gaps(raw, text, a, b, box, Run(x0, x1, y, size, bold, italic, stripped))
        else:
            runs.append(Run(x0, x1, y, size, bold, italic, stripped))
    return runs, chars


def _object_cuts(raw: int | None, n: int, text: str) -> list[tuple[int, int, int]]:
    """(first, end, text object address) of each stretch of characters drawn by one text object.

    A text object's characters are consecutive in pdfium's text page, so each stretch's end is
    found with a few calls, not one per character: most objects end where pdfium breaks the line
    (two calls confirm it); otherwise galloping and then bisecting finds the end.
    """
    stretches: list[tuple[int, int, int]] = []
    get = _TEXT_OBJECT_ADDRESS
    start = 0
    while start < n:
        obj = get(raw, start) or 0
        low, high = start, n  # get(low) == obj; the end lies in (low, high]
        # pdfium's generated characters (line breaks, spaces) have no object and are not
        # consecutive: only a real object's end is guessed at the line break.
        found = _LINE_BREAK.search(text, start + 1) if obj else None
        if found is not None:
            guess = found.start()
            if (get(raw, guess - 1) or 0) != obj:
                high = guess - 1
            elif (get(raw, guess) or 0) != obj:
                low, high = guess - 1, guess
            else:
                low = guess
        base, step = low, 1
        while base + step < high:
            if (get(raw, base + step) or 0) != obj:
                high = base + step
                break
            low = base + step
            step *= 2
        while high - low > 1:
            middle = (low + high) // 2
            if (get(raw, middle) or 0) == obj:
                low = middle
            else:
                high = middle
        stretches.append((start, high, obj))
        start = high
    return stretches


def _split_at_gaps(raw: object, text: str, a: int, b: int, box: PageBox, run: Run) -> list[Run]:
    """Cut a run where the gap between two characters is wider than a word space."""
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    limit = max(0.9 * run.size, 8.0)
    pieces: list[Run] = []
    buffer: list[str] = []
    start = end = 0.0
    for i in range(a, b + 1):
        ch = text[i]
        if ch.isspace():
            buffer.append(ch)
            continue
        pdfium_c.FPDFText_GetCharBox(raw, i, left, right, bottom, top)
        xa = box.to_display(left.value, bottom.value)[0]
        xb = box.to_display(right.value, top.value)[0]
        lo, hi = min(xa, xb), max(xa, xb)
        if buffer and lo - end > limit:
            pieces.append(Run(start, end, run.y, run.size, run.bold, run.italic, "".join(buffer).strip()))
            buffer = []
        if not buffer:
            start = lo
        buffer.append(ch)
        end = max(end, hi) if len(buffer) > 1 else hi
    if buffer:
        pieces.append(Run(start, end, run.y, run.size, run.bold, run.italic, "".join(buffer).strip()))
    if not pieces:
        return [run]
    pieces[0].x0 = run.x0  # the run's origin, as unsplit runs have
    return pieces


def _read_images(page: pdfium.PdfPage, box: PageBox, index: int) -> list[Line]:
    raw = page.raw
    count = pdfium_c.FPDFPage_CountObjects(raw)
    l, b, r, t = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    images = []
    for k in range(min(count, 5000)):
        obj = pdfium_c.FPDFPage_GetObject(raw, k)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, l, b, r, t):
            continue
        (ax, ay), (bx, by) = box.to_display(l.value, b.value), box.to_display(r.value, t.value)
        x0, x1, y0, y1 = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
        if x1 - x0 < 36 or y1 - y0 < 36:
            continue  # logos and rules are too small to be a figure
        images.append(Line(index, x0, x1, (y0 + y1) / 2, 0.0, False, "", [], kind="image", height=y1 - y0))
    return images


def _group_lines(runs: list[Run], page: int) -> list[Line]:
    """Group runs into lines: same baseline (within half an em), no column-sized gap."""
    if not runs:
        return []
    runs.sort(key=lambda r: -r.y)
    clusters: list[list[Run]] = []
    current: list[Run] = [runs[0]]
    anchor = runs[0].y
    for run in runs[1:]:
        tolerance = 0.5 * max(run.size, current[0].size)
        if anchor - run.y <= tolerance:
            current.append(run)
        else:
            clusters.append(current)
            current = [run]
            anchor = run.y
    clusters.append(current)
    lines: list[Line] = []
    for cluster in clusters:
        cluster.sort(key=lambda r: r.x0)
        part: list[Run] = [cluster[0]]
        right = cluster[0].x1
        for run in cluster[1:]:
            gap = run.x0 - right
            if gap > max(0.9 * max(run.size, part[-1].size), 8.0):
                lines.append(_make_line(part, page))
                part = [run]
                right = run.x1
            else:
                part.append(run)
                right = max(right, run.x1)
        lines.append(_make_line(part, page))
    return lines


def _make_line(runs: list[Run], page: int) -> Line:
    first = runs[0]
    if len(runs) == 1:  # most lines of TeX output are one text object: skip the weighing
        text = first.text
        count = len(text)
        bold = count == 0 or first.bold
        chars = len("".join(text.split()))
        return Line(page, first.x0, first.x1, first.y, round(first.size * 2) / 2, bold, text, runs, chars=chars)
    pieces: list[str] = []
    weights: dict[float, int] = {}
    bold_chars = 0
    total = 0
    prev: Run | None = None
    x0, x1 = first.x0, first.x1
    baseline, longest = first.y, -1
    for run in runs:
        if prev is not None and run.x0 - prev.x1 > 0.12 * run.size:
            pieces.append(" ")
        pieces.append(run.text)
        count = len(run.text)
        total += count
        if run.bold:
            bold_chars += count
        key = round(run.size * 2) / 2
        weights[key] = weights.get(key, 0) + count
        if count > longest:  # the baseline of the longest run (the first of equals)
            baseline, longest = run.y, count
        if run.x0 < x0:
            x0 = run.x0
        if run.x1 > x1:
            x1 = run.x1
        prev = run
    size = max(weights.items(), key=lambda kv: (kv[1], kv[0]))[0]
    text = "".join(pieces)
    chars = len("".join(text.split()))
    return Line(
        page=page,
        x0=x0,
        x1=x1,
        y=baseline,
        size=size,
        bold=bold_chars >= 0.85 * total,
        text=text,
        runs=runs,
        chars=chars,
    )
