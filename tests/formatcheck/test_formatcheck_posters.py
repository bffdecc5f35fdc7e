"""The poster rules (one A0 portrait page) and the slides rule (a readable PDF)."""

from __future__ import annotations

import pytest

from app.formatcheck import check_pdf
from tests.formatcheck.formatcheck_pdfs import (
    A0,
    A1,
    LETTER,
    MM,
    PageBreak,
    Paper,
    build_paper,
    filler,
    plain,
    rotate_pages,
)


def poster(size: tuple[float, float], pages: int = 1) -> bytes:
    blocks: list[object] = [*filler(3)]
    for _ in range(pages - 1):
        blocks += [PageBreak(), *filler(1)]
    return build_paper(Paper(blocks, page_size=size))


def findings(report) -> list[tuple[str, list[int]]]:
    return [(f.code, f.pages) for f in report.errors + report.warnings]


def test_a0_portrait_poster_is_accepted() -> None:
    report = check_pdf(poster(A0), "poster")

    assert report.to_dict() == {
        "ruleset": "poster",
        "verdict": "accept",
        "pages": 1,
        "errors": [],
        "warnings": [],
        "facts": {"page_sizes_pt": [[2383.9, 3370.4]]},
    }


def test_a1_poster_is_the_wrong_size() -> None:
    report = check_pdf(poster(A1), "poster")

    assert plain(report.errors) == [
        {
            "code": "poster-size",
            "message": "The sheet is 594 × 841 mm, A1; a poster must be A0, 841 × 1189 mm (±3 mm).",
            "pages": [1],
        }
    ]


def test_landscape_a0_gets_only_the_orientation_error() -> None:
    report = check_pdf(poster((A0[1], A0[0])), "poster")

    assert plain(report.errors) == [
        {
            "code": "poster-orientation",
            "message": "The poster is landscape (wider than high); the poster must be portrait, "
            "841 mm wide × 1189 mm high.",
            "pages": [1],
        }
    ]


def test_landscape_a1_gets_size_and_orientation() -> None:
    report = check_pdf(poster((A1[1], A1[0])), "poster")

    assert findings(report) == [("poster-size", [1]), ("poster-orientation", [1])]


@pytest.mark.parametrize(
    ("delta_pt", "accepted"),
    [(4.0, True), (-4.0, True), (8.0, True), (9.0, False), (-9.0, False)],  # 3 mm is 8.5 pt
)
def test_a0_tolerance_is_three_millimetres(delta_pt: float, accepted: bool) -> None:
    report = check_pdf(poster((A0[0] + delta_pt, A0[1] - delta_pt)), "poster")

    assert findings(report) == ([] if accepted else [("poster-size", [1])])
    assert pytest.approx(8.504, abs=0.001) == 3 * MM


def test_a0_landscape_sheet_rotated_to_portrait_is_accepted() -> None:
    report = check_pdf(rotate_pages(poster(A0)), "poster")

    assert report.verdict == "accept"
    assert report.facts["page_sizes_pt"] == [[2383.9, 3370.4]]


def test_two_page_poster_gets_poster_pages() -> None:
    report = check_pdf(poster(A0, pages=2), "poster")

    assert plain(report.errors) == [
        {"code": "poster-pages", "message": "The poster has 2 pages; it must be a single page.", "pages": [2]}
    ]


def test_slides_need_only_a_readable_pdf() -> None:
    report = check_pdf(poster(LETTER, pages=3), "slides")

    assert report.to_dict() == {
        "ruleset": "slides",
        "verdict": "accept",
        "pages": 3,
        "errors": [],
        "warnings": [],
        "facts": {"page_sizes_pt": [[612, 792]] * 3},
    }
    assert [f.code for f in check_pdf(b"not a pdf", "slides").errors] == ["unreadable"]
