"""The checker against the labelled real PDFs of ../shared/corpus (skipped when it is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.formatcheck import check_pdf
from tests.formatcheck.formatcheck_pdfs import corpus_dir


def _rows() -> list[dict[str, str]]:
    folder = corpus_dir()
    if folder is None:
        return []
    with (folder / "EXPECTED.tsv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _codes(cell: str) -> set[str]:
    return set() if cell.strip() in ("", "-") else {c.strip() for c in cell.split(",")}


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['file']}[{r['ruleset']}]" for r in ROWS])
def test_verdict_and_errors_match_the_labels(corpus: Path, row: dict[str, str]) -> None:
    report = check_pdf(corpus / row["file"], row["ruleset"])

    assert (report.verdict, set(report.error_codes)) == (row["verdict"], _codes(row["errors"]))


def test_at_least_80_percent_of_warning_sets_match(corpus: Path) -> None:
    exact = sum(
        set(check_pdf(corpus / row["file"], row["ruleset"]).warning_codes) == _codes(row["warnings"]) for row in ROWS
    )

    assert exact / len(ROWS) >= 0.8


def test_author_kit_references_subsection_is_not_the_bibliography(corpus: Path) -> None:
    report = check_pdf(corpus / "aaai-authorkit24-camera-latex-10p.pdf", "proposal")

    assert report.facts["references_start_page"] == 9
    # Ten pages for a three-page limit: pages whose plain text shows no heading are only skimmed.
    assert (report.facts["pages_analysed"], report.facts["pages_skimmed"]) == (7, [2, 6, 7])
    assert report.facts["body_pages"] == [1, 3, 4, 5, 8, 9]
    assert [(f.code, f.pages) for f in report.errors] == [
        ("page-limit", [4, 5, 6, 7, 8, 9, 10]),
        ("body-pages", [3, 4, 5, 8, 9]),
    ]
