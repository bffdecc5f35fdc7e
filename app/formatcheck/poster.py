"""The poster rules: one A0 portrait page."""

from __future__ import annotations

from app.formatcheck.boxes import page_boxes
from app.formatcheck.layout import PT_PER_MM, _size_name
from app.formatcheck.reader import PageBox
from app.formatcheck.report import CheckReport, Finding, pages_phrase

A0_MM = (841.0, 1189.0)
A0_TOLERANCE_MM = 3.0


def _check_poster(report: CheckReport, boxes: list[PageBox]) -> None:
    if len(boxes) != 1:
        report.errors.append(
            Finding(
                "poster-pages",
                f"The poster has {len(boxes)} pages; it must be a single page.",
                list(range(2, len(boxes) + 1)),
            )
        )
    a0_short, a0_long = (v * PT_PER_MM for v in A0_MM)
    tolerance = A0_TOLERANCE_MM * PT_PER_MM
    wrong_size = []
    landscape = []
    for number, box in enumerate(boxes, start=1):
        short, long = sorted((box.width, box.height))
        if abs(short - a0_short) > tolerance or abs(long - a0_long) > tolerance:
            wrong_size.append(number)
        if box.width > box.height:
            landscape.append(number)
    if wrong_size:
        box = boxes[wrong_size[0] - 1]
        w_mm, h_mm = box.width / PT_PER_MM, box.height / PT_PER_MM
        name = _size_name(box.width, box.height)
        sheet = f"{w_mm:.0f} × {h_mm:.0f} mm" + (f", {name}" if name else "")
        where = "The sheet is" if len(boxes) == 1 else f"{pages_phrase(wrong_size)}: the sheet is"
        report.errors.append(
            Finding(
                "poster-size",
                f"{where} {sheet}; a poster must be A0, 841 × 1189 mm (±3 mm).",
                wrong_size,
                page_boxes(wrong_size, boxes),
            )
        )
    if landscape:
        where = "The poster is" if len(boxes) == 1 else f"{pages_phrase(landscape)} are"
        report.errors.append(
            Finding(
                "poster-orientation",
                f"{where} landscape (wider than high); the poster must be portrait, 841 mm wide × 1189 mm high.",
                landscape,
                page_boxes(landscape, boxes),
            )
        )
