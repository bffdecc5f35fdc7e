"""Outline boxes: each finding locates its problem on the page, in displayed PDF points."""

from __future__ import annotations

import pypdfium2 as pdfium

from app.formatcheck import CheckReport, Finding, check_pdf, check_pdf_isolated
from tests.formatcheck.formatcheck_pdfs import (
    _WORDS,
    A0,
    A4,
    ColumnBreak,
    Heading,
    PageBreak,
    Paper,
    Para,
    References,
    build_paper,
    filler,
    words,
)

PAGE_1 = [Heading("Abstract", size=10), *filler(2, 1), Heading("1 Introduction"), *filler(3, 2), PageBreak()]
PAGE_2 = [Heading("2 Related Work"), *filler(3, 4), Heading("3 Plan"), *filler(1, 5)]
LEFT_COLUMN = {"x0": 54.0, "y0": 90.0, "x1": 293.9, "y1": 736.5}
RIGHT_COLUMN_TOP_HALF = {"x0": 318.0, "y0": 444.0, "x1": 557.9, "y1": 736.5}


def text_in(data: bytes, box: dict[str, float]) -> str:
    """The text pdfium finds inside a box (the pages here are unrotated, so display space is PDF space)."""
    doc = pdfium.PdfDocument(data)
    try:
        textpage = doc[int(box["page"]) - 1].get_textpage()
        return " ".join(textpage.get_text_bounded(box["x0"], box["y0"], box["x1"], box["y1"]).split())
    finally:
        doc.close()


FILLER_WORDS = set(" ".join(words(len(_WORDS) * 7, seed) for seed in range(7)).lower().replace(".", "").split())


def filler_only(text: str) -> bool:
    """Whether the text is made only of the filler body words (no title, heading or reference)."""
    found = set(text.lower().replace(".", " ").replace("-", "").split())
    return bool(found) and found <= FILLER_WORDS


def long_paper() -> bytes:
    return build_paper(Paper([*PAGE_1, *[*filler(10, 4), PageBreak()] * 7, *PAGE_2, ColumnBreak(), References(30)]))


def test_a_paper_past_the_page_limit_gets_boxes_over_its_late_body_text() -> None:
    data = long_paper()

    report = check_pdf(data, "proposal")

    page_limit, body_pages = report.errors
    assert (page_limit.code, page_limit.pages) == ("page-limit", [4, 5, 6, 7, 8, 9, 10])
    assert [b for b in page_limit.boxes if b["page"] == 4] == [
        {"page": 4, **LEFT_COLUMN},
        {"page": 4, **RIGHT_COLUMN_TOP_HALF},
    ]
    # Pages 5-8 hold no heading, so they were only skimmed: boxes cover the pages read in full.
    assert report.facts["pages_skimmed"] == [2, 5, 6, 7, 8]
    assert sorted({b["page"] for b in page_limit.boxes}) == [4, 9, 10]
    assert (body_pages.code, sorted({b["page"] for b in body_pages.boxes})) == ("body-pages", [3, 4, 9])
    for box in page_limit.boxes[:2]:
        text = text_in(data, box)
        # The box covers whole paragraphs of the filler body text, not a stray word.
        assert len(text) > 1000
        assert filler_only(text)


def test_boxes_leave_out_what_lies_elsewhere_on_the_page() -> None:
    data = long_paper()

    report = check_pdf(data, "proposal")

    # Page 9 holds the end of the body in the left column and references below it: only the body is boxed.
    page_9 = [b for b in report.errors[1].boxes if b["page"] == 9]
    assert page_9 == [{"page": 9, "x0": 54.0, "y0": 301.2, "x1": 293.2, "y1": 730.2}]
    assert "References" not in text_in(data, page_9[0])


def test_boxes_cross_the_worker_boundary_and_old_reports_have_none() -> None:
    data = long_paper()

    isolated = check_pdf_isolated(data, "proposal")

    assert isolated.to_dict() == check_pdf(data, "proposal").to_dict()
    assert isolated.errors[0].boxes[0] == {"page": 4, **LEFT_COLUMN}
    old = {"code": "page-limit", "message": "m", "pages": [4]}
    assert Finding.from_dict(old) == Finding("page-limit", "m", [4], [])
    assert CheckReport.from_dict(
        {"ruleset": "proposal", "pages": 4, "errors": [old], "warnings": [], "facts": {}}
    ).to_dict()["errors"] == [{"code": "page-limit", "message": "m", "pages": [4], "boxes": []}]


def test_page_size_and_poster_findings_box_the_whole_sheet() -> None:
    a4 = check_pdf(build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(10)], page_size=A4)), "report")
    landscape = check_pdf(build_paper(Paper(filler(3), page_size=(A0[1], A0[0]))), "poster")

    assert a4.errors[0].boxes == [
        {"page": 1, "x0": 0.0, "y0": 0.0, "x1": 595.3, "y1": 841.9},
        {"page": 2, "x0": 0.0, "y0": 0.0, "x1": 595.3, "y1": 841.9},
    ]
    assert landscape.errors[0].boxes == [{"page": 1, "x0": 0.0, "y0": 0.0, "x1": 3370.4, "y1": 2383.9}]


def test_columns_boxes_cover_the_lines_across_the_gutter() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, References(10)], columns=1))

    report = check_pdf(data, "proposal")

    (columns,) = report.errors
    assert columns.code == "columns"
    assert {b["page"] for b in columns.boxes} == {1, 2}
    for box in columns.boxes:
        assert box["x0"] < 306 < box["x1"]
    # The affiliation line runs across the gutter too; the body paragraphs are the big boxes.
    biggest = max(columns.boxes, key=lambda b: (b["y1"] - b["y0"]) * (b["x1"] - b["x0"]))
    assert biggest["page"] == 1
    assert biggest["x1"] - biggest["x0"] > 450
    assert filler_only(text_in(data, biggest))


def test_margins_boxes_hold_only_text_outside_the_block() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(20)], margin=20, block_height=740))

    (margins,) = check_pdf(data, "proposal").warnings

    assert margins.code == "margins"
    assert margins.boxes
    for box in margins.boxes:
        # Each box touches the band outside the 7 x 9 in block (54 pt margins, top at 738 pt).
        assert box["x0"] < 36 or box["x1"] > 576 or box["y1"] > 756 or box["y0"] < 72


def test_font_size_boxes_sample_the_body_text() -> None:
    blocks = [Heading("Abstract", size=12), Para(words(200), size=12), Heading("1 Introduction", size=14)]
    data = build_paper(Paper([*blocks, *filler(2, size=12), References(3)]))

    (font_size,) = [w for w in check_pdf(data, "proposal").warnings if w.code == "font-size"]

    assert 1 <= len(font_size.boxes) <= 5
    # A box spans a whole block of body lines, so a heading between them may fall inside it.
    for box in font_size.boxes:
        found = text_in(data, box).lower().replace(".", " ").split()
        assert sum(word in FILLER_WORDS for word in found) >= 0.95 * len(found) > 40
