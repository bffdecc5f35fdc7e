"""The kinds of paper the checker once got wrong: each built with TeX Live the way students build them."""

from __future__ import annotations

from app.formatcheck import check_pdf
from tests.formatcheck.formatcheck_pdfs import Heading, Paper, References, build_paper, filler
from tests.formatcheck.tex_papers import compiled

PROPOSAL = ["Introduction", "Related Work", "Project Plan"]
REPORT = ["Introduction", "Related Work", "Proposed Method", "Experiments", "Conclusion"]
COVERS = ["abstract", "introduction", "related-work", "plan", "proposed-solution", "experiments", "conclusion"]


def test_full_width_floats_and_appendix_pages_of_equations_leave_a_two_column_paper_two_column() -> None:
    # Two full-width tables of body-size text, a full-width figure, and an appendix page of wide
    # equations and an algorithm set across the gutter.
    path, built = compiled(
        name="wide-floats",
        seed=101,
        body_paragraphs=14,
        sections=REPORT,
        covers=COVERS,
        references=10,
        wide_floats=3,
        big_tables=True,
        table_size="normalsize",
        after_references=["appendix"],
        wide_equations=True,
    )

    # A longer page limit, so that only the columns are judged.
    report = check_pdf(path, "report", page_limit=8)

    assert (built.pages, report.error_codes) == (7, [])
    # Table cells, captions and the equation page's display lines do not make a page one-column.
    assert report.facts["columns_per_page"] == [2, 2, 2, 2, None, 2, 2]


def test_a_paper_set_in_one_column_still_gets_columns() -> None:
    path, built = compiled(
        name="one-column", seed=102, body_paragraphs=10, sections=REPORT, covers=COVERS, references=8, columns="one"
    )

    report = check_pdf(path, "report")

    assert (built.pages, report.error_codes) == (3, ["columns"])
    assert report.errors[0].pages == [1, 2]


def test_a_references_subsection_of_instructions_is_not_the_bibliography() -> None:
    # An author kit's instructions: a subsection "References" followed by prose full of citations.
    path, _ = compiled(
        name="kit-references",
        seed=103,
        body_paragraphs=8,
        sections=["Introduction", "\\kitreferences", "Project Plan"],
        covers=["abstract", "introduction", "plan"],
        references=0,
    )

    report = check_pdf(path, "proposal")

    assert report.warning_codes == ["missing-section:related-work", "no-references"]
    assert report.facts["references_start_page"] is None


def test_line_numbers_page_numbers_and_running_heads_are_not_margins_or_headings() -> None:
    path, _ = compiled(
        name="review-mode",
        seed=104,
        body_paragraphs=12,
        sections=REPORT,
        covers=COVERS,
        references=10,
        lineno=True,
        numbering="arabic",
        running="heads",
    )

    report = check_pdf(path, "report")

    assert (report.error_codes, report.warning_codes) == ([], [])
    assert report.facts["headings"] == [
        "Abstract",
        "1 Introduction",
        "2 Related Work",
        "3 Proposed Method",
        "4 Experiments",
        "5 Conclusion",
        "6 References",
    ]


def test_page_numbers_below_the_text_are_not_outside_the_margins() -> None:
    path, _ = compiled(
        name="page-numbers",
        seed=105,
        body_paragraphs=12,
        sections=REPORT,
        covers=COVERS,
        references=10,
        running="numbers",
        lineno=True,
    )

    assert check_pdf(path, "report").warning_codes == []


def test_the_lectures_questions_count_as_headings_of_their_sections() -> None:
    blocks = [
        Heading("Abstract", size=10),
        *filler(2, 1),
        Heading("1. What Is the Problem?"),
        *filler(3, 2),
        Heading("2. What Has Been Done Before?"),
        *filler(3, 3),
        Heading("3. What Is Your Plan to Solve This Problem?"),
        *filler(3, 4),
        References(8),
    ]

    report = check_pdf(build_paper(Paper(blocks)), "proposal")

    assert report.warning_codes == []


def test_a_word_made_aaai_paper_has_its_abstract() -> None:
    # Word's AAAI template sets "Abstract" centred in the body face, not bold and not larger.
    centred, _ = compiled(
        name="word-centred",
        seed=106,
        body_paragraphs=8,
        sections=PROPOSAL,
        covers=COVERS,
        references=8,
        abstract="centred",
        word=True,
    )
    run_in, _ = compiled(
        name="word-run-in",
        seed=107,
        body_paragraphs=8,
        sections=PROPOSAL,
        covers=COVERS,
        references=8,
        abstract="runin",
        word=True,
    )

    assert check_pdf(centred, "proposal").warning_codes == ["not-latex"]
    assert check_pdf(run_in, "proposal").warning_codes == ["not-latex"]
    assert check_pdf(centred, "proposal").facts["headings"][:2] == ["Abstract", "Introduction"]


def test_font_size_is_that_of_the_running_body_text_not_of_tables() -> None:
    # A results-heavy paper: many table rows in 7 pt outweigh the 10 pt paragraphs.
    small_tables, small_built = compiled(
        name="tables-7pt",
        seed=108,
        body_paragraphs=8,
        sections=REPORT,
        covers=COVERS,
        references=6,
        wide_floats=5,
        big_tables=True,
        table_size="scriptsize",
    )
    # And a 12 pt paper whose 11 pt tables outweigh its paragraphs is still a 12 pt paper.
    large_body, large_built = compiled(
        name="body-12pt",
        seed=109,
        body_paragraphs=8,
        sections=REPORT,
        covers=COVERS,
        references=6,
        body_size=12,
        wide_floats=5,
        big_tables=True,
        table_size="small",
    )

    small = check_pdf(small_tables, "report")
    large = check_pdf(large_body, "report")

    assert (small.facts["body_font_size"], small.warning_codes) == (10.0, [])
    assert (large.facts["body_font_size"], large.warning_codes) == (12.0, ["font-size"])
    # The pages of tables after the bibliography do not hide it.
    assert (
        (small.facts["references_start_page"], large.facts["references_start_page"])
        == (
            small_built.references_page,
            large_built.references_page,
        )
        == (3, 4)
    )
