"""Pictures of PDF pages with the findings' outline boxes drawn on them (run inside the isolated worker).

Boxes are in PDF points of the page's displayed space (after /Rotate and /UserUnit), origin at
the bottom-left, y up. PDFium renders the displayed page, so a point maps to a pixel by the
ratio of the picture to the displayed size; the caller may pass that size (from the report's
facts) because PDFium does not apply /UserUnit.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

OUTLINE = (200, 0, 30)
FILL = (200, 0, 30, 48)
MAX_WIDTH_PX = 1200


def box_pixels(
    box: dict[str, Any], *, page_size: tuple[float, float], image_size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A box in displayed PDF points as (left, top, right, bottom) pixels of the picture."""
    sx, sy = image_size[0] / page_size[0], image_size[1] / page_size[1]
    left, right = sorted((float(box["x0"]) * sx, float(box["x1"]) * sx))
    top, bottom = sorted(((page_size[1] - float(box["y1"])) * sy, (page_size[1] - float(box["y0"])) * sy))
    return (
        max(0, round(left)),
        max(0, round(top)),
        min(image_size[0] - 1, round(right)),
        min(image_size[1] - 1, round(bottom)),
    )


def render_page_png(
    source: str | bytes,
    page: int,
    boxes: Sequence[dict[str, Any]] = (),
    *,
    width_px: int = 600,
    display_size: Sequence[float] | None = None,
) -> bytes:
    """Page `page` (1-based) as a PNG `width_px` wide, each box outlined; ValueError for a page not in the file."""
    document = pdfium.PdfDocument(source)
    try:
        if not 1 <= page <= len(document):
            raise ValueError(f"the file has no page {page}")
        pdf_page = document[page - 1]
        width_pt, height_pt = pdf_page.get_size()
        scale = min(width_px, MAX_WIDTH_PX) / width_pt
        image = pdf_page.render(scale=scale, may_draw_forms=False).to_pil().convert("RGB")
        size = (float(display_size[0]), float(display_size[1])) if display_size else (width_pt, height_pt)
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        thickness = max(2, image.size[0] // 200)
        for box in boxes:
            if int(box.get("page", page)) != page:
                continue
            rect = box_pixels(box, page_size=size, image_size=image.size)
            draw.rectangle(rect, fill=FILL, outline=(*OUTLINE, 255), width=thickness)
        image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        document.close()
