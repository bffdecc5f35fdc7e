"""The proposal and report rules on AAAI-like papers built with fpdf2."""

from __future__ import annotations

import pytest

from app.formatcheck import (
    DEFAULT_PAGE_LIMITS,
    DEFAULT_REQUIRED_SECTIONS,
    DEFAULT_SYNONYMS,
    RULESETS,
    check_pdf,
)
from tests.formatcheck.formatcheck_pdfs import (
    A4,
    ColumnBreak,
    Figure,
    Heading,
    PageBreak,
    Paper,
    Para,
    References,
    RunIn,
    build_paper,
    filler,
    plain,
    rotate_pages,
    with_user_unit,
    words,
)

LETTER_PAGE = [612, 792]

# Page 1: Abstract, Introduction, Related Work. Page 2 (left column): Plan and Conclusion.
PAGE_1 = [
    Heading("Abstract", size=10),
    *filler(2, 1),
    Heading("1 Introduction"),
    *filler(3, 2),
    Heading("2 Related Work"),
    *filler(3, 3),
    PageBreak(),
]
PAGE_2 = [Heading("3 Project Plan"), *filler(3, 4), Heading("4 Conclusion"), *filler(1, 5)]
HEADINGS = ["Abstract", "1 Introduction", "2 Related Work", "3 Project Plan", "4 Conclusion", "References"]


def codes(findings: list) -> list[tuple[str, list[int]]]:
    return [(f.code, f.pages) for f in findings]


def test_public_constants() -> None:
    assert RULESETS == ("proposal", "report", "poster", "slides")
    assert DEFAULT_PAGE_LIMITS == {"proposal": 3, "report": 6}
    assert DEFAULT_REQUIRED_SECTIONS == {
        "proposal": ("abstract", "introduction", "related-work", "plan"),
        "report": ("abstract", "introduction", "related-work", "proposed-solution", "experiments", "conclusion"),
    }
    assert DEFAULT_SYNONYMS["plan"] == ("plan*", "timeline*", "proposed approach", "proposed method", "methodology")


def test_proposal_with_references_only_last_page_is_accepted() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(30)]))

    report = check_pdf(data, "proposal")

    assert report.to_dict() == {
        "ruleset": "proposal",
        "verdict": "accept",
        "pages": 3,
        "errors": [],
        "warnings": [],
        "facts": {
            "page_sizes_pt": [LETTER_PAGE] * 3,
            "pages_analysed": 3,
            "text_chars": 7733,
            "references_start_page": 2,
            "headings": HEADINGS,
            "body_font_size": 10.0,
            "body_pages": [1, 2],
            "columns_per_page": [2, 2, None],
        },
    }


def test_path_and_bytes_give_the_same_report(tmp_path) -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(30)]))
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)

    assert check_pdf(path, "proposal").to_dict() == check_pdf(data, "proposal").to_dict()
    assert check_pdf(str(path), "proposal").to_dict() == check_pdf(bytearray(data), "proposal").to_dict()


def test_body_text_on_the_last_allowed_page_is_body_pages() -> None:
    blocks = [*PAGE_1, Heading("3 Project Plan"), *filler(11, 4), PageBreak()]
    data = build_paper(Paper([*blocks, Heading("4 Conclusion"), *filler(1, 5), References(8)]))

    report = check_pdf(data, "proposal")

    assert report.verdict == "reject"
    assert plain(report.errors) == [
        {
            "code": "body-pages",
            "message": "Page 3 holds the Conclusion; only references may follow page 2.",
            "pages": [3],
        }
    ]
    assert report.facts["references_start_page"] == 3
    assert report.facts["body_pages"] == [1, 2, 3]


def test_four_page_proposal_with_only_references_on_pages_3_and_4_gets_only_page_limit() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, PageBreak(), References(45)]))

    report = check_pdf(data, "proposal")

    assert plain(report.errors) == [
        {
            "code": "page-limit",
            "message": "The proposal has 4 pages; at most 3 are allowed (page 3 only for references).",
            "pages": [4],
        }
    ]
    assert report.facts["references_start_page"] == 3
    assert report.facts["body_pages"] == [1, 2]
    # A long 9 pt bibliography does not outvote the 10 pt body text.
    assert report.facts["body_font_size"] == 10.0


def test_ten_page_paper_gets_page_limit_and_body_pages() -> None:
    blocks = [*PAGE_1, *[*filler(10, 4), PageBreak()] * 7, *PAGE_2, ColumnBreak(), References(30)]
    data = build_paper(Paper(blocks))

    proposal = check_pdf(data, "proposal")
    report = check_pdf(data, "report")

    # Page-limit is certain, and pages 1, N and N+1 settle body-pages; pages whose plain text
    # shows no heading are only skimmed, and the report says so.
    assert proposal.pages == 10
    assert codes(proposal.errors) == [("page-limit", [4, 5, 6, 7, 8, 9, 10]), ("body-pages", [3, 4, 9])]
    assert proposal.errors[1].message == (
        "Pages 3–4 and 9 hold body text (Related Work, Project Plan, Conclusion); "
        "only references may follow page 2. (Pages 2 and 5–8 were only skimmed for headings.)"
    )
    assert codes(report.errors) == [("page-limit", [7, 8, 9, 10]), ("body-pages", [6, 7, 9])]
    assert report.facts["references_start_page"] == 9
    assert (report.facts["body_pages"], report.facts["pages_skimmed"]) == ([1, 6, 7, 9], [2, 3, 4, 5, 8])


def test_acknowledgements_after_the_references_are_body() -> None:
    blocks = [*PAGE_1, *PAGE_2, ColumnBreak(), References(24), Heading("Acknowledgements"), *filler(1, 1)]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert plain(report.errors) == [
        {
            "code": "body-pages",
            "message": "Page 3 holds the Acknowledgements; only references may follow page 2.",
            "pages": [3],
        }
    ]
    assert report.facts["headings"] == [*HEADINGS, "Acknowledgements"]
    assert report.facts["references_start_page"] == 2


def test_a_figure_on_the_references_page_is_body() -> None:
    blocks = [*PAGE_1, *PAGE_2, ColumnBreak(), References(24), Figure(150)]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert codes(report.errors) == [("body-pages", [3])]
    assert report.errors[0].message == "Page 3 holds a figure; only references may follow page 2."


def test_a4_pages_are_rejected_with_their_size() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(10)], page_size=A4))

    report = check_pdf(data, "report")

    assert plain(report.errors) == [
        {
            "code": "page-size",
            "message": "Pages 1–2 are 595 × 842 pt (A4); every page must be US Letter, 612 × 792 pt (8.5 × 11 in).",
            "pages": [1, 2],
        }
    ]
    assert report.facts["page_sizes_pt"] == [[595.3, 841.9], [595.3, 841.9]]
    assert report.facts["columns_per_page"] == [2, 2]


@pytest.mark.parametrize(
    ("size", "accepted"), [((616.0, 796.0), True), ((608.0, 788.0), True), ((617.0, 792.0), False)]
)
def test_letter_size_tolerance_is_four_points(size: tuple[float, float], accepted: bool) -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(10)], page_size=size))

    report = check_pdf(data, "proposal")

    assert codes(report.errors) == ([] if accepted else [("page-size", [1, 2])])


def test_single_column_paper_gets_columns() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, References(10)], columns=1))

    report = check_pdf(data, "proposal")

    assert plain(report.errors) == [
        {
            "code": "columns",
            "message": "Pages 1–2 are set in one column; the AAAI template sets the body in two columns.",
            "pages": [1, 2],
        }
    ]
    assert report.facts["columns_per_page"] == [1, 1]
    assert report.facts["headings"] == HEADINGS


def test_columns_are_not_judged_on_pages_with_little_body_text() -> None:
    blocks = [Heading("Abstract", size=10), Para(words(40)), Heading("1 Introduction"), Para(words(30))]

    report = check_pdf(build_paper(Paper(blocks, columns=1)), "proposal")

    assert report.facts["columns_per_page"] == [None]
    assert codes(report.errors) == []


def test_rotated_landscape_pages_display_as_portrait_letter() -> None:
    data = rotate_pages(build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(30)])))

    report = check_pdf(data, "proposal")

    assert report.verdict == "accept"
    assert report.facts["page_sizes_pt"] == [LETTER_PAGE] * 3
    assert report.facts["columns_per_page"] == [2, 2, None]
    assert report.facts["headings"] == HEADINGS
    assert report.facts["references_start_page"] == 2


def test_user_unit_scales_the_sheet_and_the_text() -> None:
    data = with_user_unit(build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(30)])), 2.0)

    report = check_pdf(data, "proposal")

    assert report.verdict == "accept"
    assert report.facts["page_sizes_pt"] == [LETTER_PAGE] * 3
    assert report.facts["body_font_size"] == 10.0
    assert report.facts["columns_per_page"] == [2, 2, None]
    assert check_pdf(data, "poster").facts["page_sizes_pt"] == [LETTER_PAGE] * 3


def test_ieee_style_numbered_small_caps_and_run_in_abstract() -> None:
    blocks = [
        RunIn("Abstract—", words(80, 1)),
        Heading("I. INTRODUCTION", size=10, bold=False),
        *filler(3, 2),
        Heading("II. LITERATURE REVIEW", size=10, bold=False),
        *filler(3, 3),
        Heading("III. TIMELINE AND MILESTONES", size=10, bold=False),
        *filler(2, 4),
        References(5, "REFERENCES"),
    ]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert report.verdict == "accept"
    assert report.warnings == []
    assert report.facts["headings"] == [
        "Abstract",
        "I. INTRODUCTION",
        "II. LITERATURE REVIEW",
        "III. TIMELINE AND MILESTONES",
        "REFERENCES",
    ]


def test_run_in_abstract_with_a_period() -> None:
    blocks = [RunIn("Abstract.", words(60)), Heading("1 Introduction"), *filler(3), References(4)]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert report.facts["headings"] == ["Abstract", "1 Introduction", "References"]
    assert [w.code for w in report.warnings] == ["missing-section:related-work", "missing-section:plan"]


def test_missing_sections_and_references_are_warnings() -> None:
    blocks = [Heading("1 Introduction"), *filler(3), Heading("2 Our Idea"), *filler(3)]

    report = check_pdf(build_paper(Paper(blocks)), "report")

    assert report.verdict == "accept"
    assert plain(report.warnings) == [
        {
            "code": "missing-section:abstract",
            "message": "No Abstract section heading was found (accepted headings: abstract).",
            "pages": [],
        },
        {
            "code": "missing-section:related-work",
            "message": "No Related Work section heading was found (accepted headings: related work, related works, "
            "literature review, prior work, background and related work, related research, …related work…, "
            "…done before…, …previous work…, …existing work…).",
            "pages": [],
        },
        {
            "code": "missing-section:proposed-solution",
            "message": "No Proposed Solution section heading was found (accepted headings: proposed solution, "
            "proposed method, method, methods, methodology, approach, our approach, proposed approach, model).",
            "pages": [],
        },
        {
            "code": "missing-section:experiments",
            "message": "No Experiments section heading was found (accepted headings: experiment, experiments, "
            "experimental results, experimental setup, experiments and results, evaluation, results).",
            "pages": [],
        },
        {
            "code": "missing-section:conclusion",
            "message": "No Conclusion section heading was found (accepted headings: conclusion, conclusions, "
            "conclusion and future work, conclusions and future work, discussion and conclusion, "
            "discussion and conclusions, summary).",
            "pages": [],
        },
        {
            "code": "no-references",
            "message": "No References or Bibliography section was found at the end of the paper.",
            "pages": [],
        },
    ]
    assert report.facts["references_start_page"] is None


def test_subsections_do_not_count_as_sections() -> None:
    blocks = [
        Heading("Abstract", size=10),
        *filler(1),
        Heading("1 Introduction"),
        *filler(2),
        Heading("2 Related Work"),
        *filler(2),
        Heading("3 Method"),
        *filler(2),
        Heading("3.1 Results", size=11),
        *filler(1),
        Heading("Conclusion", size=11),
        *filler(1),
        Heading("4 Discussion"),
        *filler(1),
        References(4),
    ]

    report = check_pdf(build_paper(Paper(blocks)), "report")

    assert [w.code for w in report.warnings] == ["missing-section:experiments", "missing-section:conclusion"]
    assert report.facts["headings"] == [
        "Abstract",
        "1 Introduction",
        "2 Related Work",
        "3 Method",
        "4 Discussion",
        "References",
    ]


def test_an_earlier_references_heading_is_not_the_bibliography() -> None:
    blocks = [
        *PAGE_1[:-1],
        Heading("References", size=11),  # a subsection about how to cite, like the AAAI author kit's
        *filler(2, 6),
        PageBreak(),
        *PAGE_2,
        ColumnBreak(),
        References(30),
    ]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert report.verdict == "accept"
    assert report.facts["references_start_page"] == 2
    assert report.facts["body_pages"] == [1, 2]


def test_course_settings_override_sections_synonyms_and_page_limit() -> None:
    blocks = [*PAGE_1, *PAGE_2, ColumnBreak(), References(30)]
    data = build_paper(Paper(blocks))

    report = check_pdf(
        data,
        "proposal",
        required_sections=["introduction", "milestones", "conclusion"],
        synonyms={"milestones": ["milestones", "project plan"], "conclusion": ["closing remarks"]},
        page_limit=2,
    )

    assert codes(report.errors) == [("page-limit", [3]), ("body-pages", [2])]
    assert report.errors[1].message == (
        "Page 2 holds body text (Project Plan, Conclusion); only references may follow page 1."
    )
    assert plain(report.warnings) == [
        {
            "code": "missing-section:conclusion",
            "message": "No Conclusion section heading was found (accepted headings: closing remarks).",
            "pages": [],
        }
    ]


def test_body_text_far_from_ten_points_is_a_font_size_warning() -> None:
    blocks = [
        Heading("Abstract", size=12),
        *filler(1, size=12),
        Heading("1 Introduction", size=14),
        *filler(2, size=12),
        Heading("2 Related Work", size=14),
        *filler(1, size=12),
        Heading("3 Plan", size=14),
        *filler(1, size=12),
        References(3),
    ]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert plain(report.warnings) == [
        {
            "code": "font-size",
            "message": "The body text is set in 12 pt; the AAAI template uses 10 pt.",
            "pages": [],
        }
    ]
    assert report.facts["body_font_size"] == 12.0


def test_text_outside_the_aaai_text_block_is_a_margins_warning() -> None:
    data = build_paper(Paper([*PAGE_1, *PAGE_2, ColumnBreak(), References(20)], margin=20, block_height=740))

    report = check_pdf(data, "proposal")

    assert codes(report.errors) == []
    assert plain(report.warnings) == [
        {
            "code": "margins",
            "message": "Text lies outside the AAAI text block (7 × 9 in; 0.75 in top, left and right margins) "
            "on pages 1–2.",
            "pages": [1, 2],
        }
    ]


def test_unknown_ruleset_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown ruleset 'thesis'"):
        check_pdf(b"%PDF-1.4", "thesis")


def test_missing_file_raises() -> None:
    with pytest.raises(FileNotFoundError):
        check_pdf("/nonexistent/paper.pdf", "proposal")
