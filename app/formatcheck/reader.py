"""Read a PDF's structure (pypdf), and the shapes its text is read into (lines.py reads it)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf.errors import DependencyError

from app.formatcheck.producer import made_by_tex


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
    makers: list[str] = field(default_factory=list)  # producer and creator, from the info dict and XMP


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
    chars: int = 0  # non-space characters, counted once (the rules weigh lines by them again and again)


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
        makers = _makers(reader)
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
    return Structure(pages=pages, encrypted=encrypted, makers=makers)


def _makers(reader: pypdf.PdfReader) -> list[str]:
    """Producer and creator strings; XMP is parsed only when the info dictionary names no TeX program."""
    found: list[str] = []
    try:
        info = reader.metadata
        if info is not None:
            found += [str(info.get(key, "") or "") for key in ("/Producer", "/Creator")]
    except Exception:  # noqa: BLE001  a damaged info dictionary fails in many ways; none makes the PDF unreadable
        pass
    found = [text for text in found if text.strip()]
    if made_by_tex(found):
        return found
    try:
        xmp = reader.xmp_metadata
        if xmp is not None:
            found += [str(value) for value in (xmp.pdf_producer, xmp.xmp_creator_tool) if value]
    except Exception:  # noqa: BLE001  malformed XMP fails in many ways, and is as good as none
        pass
    return [text for text in found if text.strip()]


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
