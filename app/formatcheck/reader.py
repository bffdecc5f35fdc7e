"""Read a PDF's structure (pypdf) and its text lines with positions and fonts (pypdfium2)."""

from __future__ import annotations

import ctypes
import io
import math
import re
from dataclasses import dataclass, field

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf.errors import DependencyError

# Bold faces by name: PostScript weights, plus TeX's Computer Modern / cm-super bold
# extended faces (CMBX10, SFBX1200) whose names carry no weight word.
_BOLD_NAME = re.compile(r"Bold|Medi|Black|Semibold|SemiBold|Demi|Heavy|^CMBX|^CMB\d|^SFBX|^SFB\d", re.I)
_ITALIC_NAME = re.compile(r"Ital|Oblique|^CMTI|^CMSL|^SFTI|^SFSL", re.I)
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")


class UnreadablePdf(Exception):
    """The bytes are not a PDF that can be parsed."""


class EncryptedPdf(Exception):
    """The PDF needs a user password."""


@dataclass(slots=True)
class PageBox:
    """One page as displayed: size after /Rotate and /UserUnit, and how to map user space onto it."""

    width: float
    height: float
    rotate: int
    user_unit: float
    origin_x: float
    origin_y: float
    box_width: float
    box_height: float

    def to_display(self, x: float, y: float) -> tuple[float, float]:
        """Map a user-space point to displayed coordinates (origin bottom-left, y up)."""
        x = (x - self.origin_x) * self.user_unit
        y = (y - self.origin_y) * self.user_unit
        w = self.box_width * self.user_unit
        h = self.box_height * self.user_unit
        r = self.rotate
        if r == 90:
            return y, w - x
        if r == 180:
            return w - x, h - y
        if r == 270:
            return h - y, x
        return x, y


@dataclass(slots=True)
class Structure:
    """What pypdf tells about the file: pages, their boxes, and whether it was encrypted."""

    pages: list[PageBox]
    encrypted: bool


@dataclass(slots=True)
class Run:
    """Consecutive characters of one text object: one font, one size, one line."""

    x0: float
    x1: float
    y: float
    size: float
    bold: bool
    italic: bool
    text: str


@dataclass(slots=True)
class Line:
    """Runs sharing a baseline and not separated by a column gap."""

    page: int
    x0: float
    x1: float
    y: float
    size: float
    bold: bool
    text: str
    runs: list[Run] = field(repr=False)
    kind: str = "text"  # "text" or "image" (a figure with no text layer of its own)
    height: float = 0.0  # an image's height; its y is the vertical centre

    @property
    def chars(self) -> int:
        """Number of non-space characters."""
        return sum(1 for ch in self.text if not ch.isspace())


@dataclass(slots=True)
class PageText:
    """The text lines of one page, and the characters that could not be placed on a line."""

    lines: list[Line]
    chars: int  # all non-space characters, upright or not
    images: list[Line]


def read_structure(data: bytes) -> Structure:
    """Open the PDF with pypdf and list its pages; raise UnreadablePdf or EncryptedPdf."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        encrypted = bool(reader.is_encrypted)
        if encrypted:
            try:
                result = reader.decrypt("")
            except DependencyError:
                # AES needs a crypto package pypdf may lack; pdfium decrypts on its own.
                return _structure_from_pdfium(data, encrypted=True)
            if result == pypdf.PasswordType.NOT_DECRYPTED:
                raise EncryptedPdf()
        pages = [_page_box(page) for page in reader.pages]
    except (EncryptedPdf, UnreadablePdf):
        raise
    except DependencyError:
        return _structure_from_pdfium(data, encrypted=True)
    except RecursionError as exc:
        raise UnreadablePdf("the page tree loops back on itself") from exc
    except MemoryError:
        raise
    except Exception as exc:  # pypdf raises many kinds on malformed input
        raise UnreadablePdf(str(exc) or type(exc).__name__) from exc
    if not pages:
        raise UnreadablePdf("the document has no pages")
    return Structure(pages=pages, encrypted=encrypted)


def _number(value: object, default: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _page_box(page: pypdf.PageObject) -> PageBox:
    box = page.mediabox
    left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    x0, x1 = min(left, right), max(left, right)
    y0, y1 = min(bottom, top), max(bottom, top)
    rotate = int(_number(page.get("/Rotate", 0), 0)) % 360
    if rotate not in (0, 90, 180, 270):
        rotate = 0
    unit = _number(page.get("/UserUnit", 1), 1.0)
    if unit <= 0:
        unit = 1.0
    w, h = (x1 - x0) * unit, (y1 - y0) * unit
    if rotate in (90, 270):
        w, h = h, w
    return PageBox(w, h, rotate, unit, x0, y0, x1 - x0, y1 - y0)


def _structure_from_pdfium(data: bytes, *, encrypted: bool) -> Structure:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedPdf() from exc
        raise UnreadablePdf(str(exc)) from exc
    try:
        pages = []
        size = pdfium_c.FS_SIZEF()
        for index in range(len(doc)):
            pdfium_c.FPDF_GetPageSizeByIndexF(doc.raw, index, size)
            # pdfium already applies /Rotate to the size; origin and rotation are then identity.
            pages.append(PageBox(size.width, size.height, 0, 1.0, 0.0, 0.0, size.width, size.height))
    finally:
        doc.close()
    if not pages:
        raise UnreadablePdf("the document has no pages")
    return Structure(pages=pages, encrypted=encrypted)


def open_text_document(data: bytes) -> pdfium.PdfDocument:
    """Open the PDF with pdfium for text extraction (empty password, as pypdf accepted it)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedPdf() from exc
        raise UnreadablePdf(str(exc)) from exc


class _FontCache:
    """(bold, italic) per pdfium font handle (fonts live as long as the document)."""

    def __init__(self) -> None:
        self._style: dict[int, tuple[bool, bool]] = {}
        self._buf = ctypes.create_string_buffer(256)

    def style(self, text_obj: object) -> tuple[bool, bool]:
        """(bold, italic) of a text object's font, from its PostScript name."""
        font = pdfium_c.FPDFTextObj_GetFont(text_obj)
        key = ctypes.cast(font, ctypes.c_void_p).value or 0
        cached = self._style.get(key)
        if cached is None:
            cached = (False, False)
            if key:
                n = pdfium_c.FPDFFont_GetBaseFontName(font, self._buf, 256)
                name = _SUBSET_PREFIX.sub("", self._buf.raw[: max(n - 1, 0)].decode("latin-1"))
                # Unnamed (Type 3) fonts carry no weight word; the descriptor weight is all there is.
                bold = bool(_BOLD_NAME.search(name)) or (not name and pdfium_c.FPDFFont_GetWeight(font) >= 600)
                italic = bool(_ITALIC_NAME.search(name))
                cached = (bold, italic)
            self._style[key] = cached
        return cached


def read_page_text(
    doc: pdfium.PdfDocument, index: int, box: PageBox, fonts: _FontCache, *, want_images: bool
) -> PageText:
    """Extract the lines of one page in displayed coordinates."""
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            runs, chars = _read_runs(textpage, box, fonts)
        finally:
            textpage.close()
        images = _read_images(page, box, index) if want_images else []
    finally:
        page.close()
    return PageText(lines=_group_lines(runs, index), chars=chars, images=images)


def new_font_cache() -> _FontCache:
    """A font cache for one document."""
    return _FontCache()


def _read_runs(textpage: pdfium.PdfTextPage, box: PageBox, fonts: _FontCache) -> tuple[list[Run], int]:
    raw = textpage.raw
    n = pdfium_c.FPDFText_CountChars(raw)
    if n <= 0:
        return [], 0
    text = textpage.get_text_range(0, n)
    if len(text) != n:
        # Characters outside the BMP or odd mappings: fall back to one call per character.
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 32) for i in range(n))
    get_obj = pdfium_c.FPDFText_GetTextObject
    as_int = ctypes.c_void_p
    # One ctypes call per character; everything else is per text object.
    objs = [ctypes.cast(get_obj(raw, i), as_int).value for i in range(n)]
    matrix = pdfium_c.FS_MATRIX()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    runs: list[Run] = []
    chars = 0
    start = 0
    rot = box.rotate
    unit = box.user_unit
    for i in range(1, n + 1):
        if i < n and objs[i] == objs[start]:
            continue
        first, end = start, i
        start = i
        if not objs[first]:
            continue
        segment = text[first:end]
        stripped = segment.strip()
        if not stripped:
            continue
        chars += sum(1 for ch in stripped if not ch.isspace())
        # Trim leading/trailing spaces so the box covers ink only.
        lead = len(segment) - len(segment.lstrip())
        trail = len(segment) - len(segment.rstrip())
        a, b = first + lead, end - 1 - trail
        pdfium_c.FPDFText_GetMatrix(raw, a, matrix)
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
        size = pdfium_c.FPDFText_GetFontSize(raw, a) * math.hypot(matrix.c, matrix.d) * unit
        if size <= 0.5:
            continue
        pdfium_c.FPDFText_GetCharOrigin(raw, a, ox, oy)
        x0, y = box.to_display(ox.value, oy.value)
        pdfium_c.FPDFText_GetCharBox(raw, b, left, right, bottom, top)
        corners = (box.to_display(left.value, bottom.value), box.to_display(right.value, top.value))
        x1 = max(corners[0][0], corners[1][0])
        if x1 < x0:
            x1 = x0
        bold, italic = fonts.style(get_obj(raw, a))
        runs.append(Run(x0, x1, y, size, bold, italic, stripped))
    return runs, chars


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
    pieces: list[str] = []
    weights: dict[float, int] = {}
    bold_chars = 0
    total = 0
    prev: Run | None = None
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
        prev = run
    size = max(weights.items(), key=lambda kv: (kv[1], kv[0]))[0]
    text = "".join(pieces)
    baseline = max(runs, key=lambda r: len(r.text)).y
    return Line(
        page=page,
        x0=min(r.x0 for r in runs),
        x1=max(r.x1 for r in runs),
        y=baseline,
        size=size,
        bold=bold_chars >= 0.85 * total,
        text=text,
        runs=runs,
    )
