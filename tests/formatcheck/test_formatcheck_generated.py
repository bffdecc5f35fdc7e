"""The checker on a fixed, seeded sample of papers compiled with TeX Live (scripts/make_corpus.py).

The sample is cached under test-artifacts/ keyed by a hash of the generator, its style and
pdflatex's version, so only the first run compiles. It is skipped where TeX Live is absent.
"""

from __future__ import annotations

import csv
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from app.formatcheck import check_pdf
from scripts import make_corpus
from tests.formatcheck.tex_papers import CACHE, require_tex

SAMPLE_SEED = 2026
SAMPLE_SIZE = 64


@pytest.fixture(scope="session")
def sample() -> Path:
    """The generated sample's folder, with its EXPECTED.tsv."""
    require_tex()
    folder = CACHE / f"gencorpus-{make_corpus.sources_digest()}-{SAMPLE_SEED}-{SAMPLE_SIZE}"
    if not (folder / "EXPECTED.tsv").is_file():
        make_corpus.build_corpus(folder, count=SAMPLE_SIZE, seed=SAMPLE_SEED, jobs=2)
    return folder


def _check(args: tuple[str, str]) -> tuple[str, list[str], list[str]]:
    path, ruleset = args
    report = check_pdf(path, ruleset)
    return report.verdict, report.error_codes, report.warning_codes


def _codes(cell: str) -> set[str]:
    return set() if cell.strip() in ("", "-") else set(cell.split(","))


@pytest.fixture(scope="session")
def outcomes(sample: Path) -> list[tuple[dict[str, str], tuple[str, list[str], list[str]]]]:
    """Each labelled row with what the checker said (two worker processes, as the machine has two cores)."""
    with (sample / "EXPECTED.tsv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_check, [(str(sample / r["file"]), r["ruleset"]) for r in rows], chunksize=8))
    return list(zip(rows, results, strict=True))


def test_the_sample_has_at_least_sixty_papers_of_two_to_eight_pages(sample: Path) -> None:
    pdfs = sorted(sample.glob("*.pdf"))
    with (sample / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        pages = [int(row["pages"]) for row in csv.DictReader(handle, delimiter="\t")]

    assert len(pdfs) == SAMPLE_SIZE >= 60
    assert (min(pages), max(pages)) == (2, 8)


def test_every_verdict_and_error_set_is_right(outcomes: list) -> None:
    wrong = [
        f"{row['file']} [{row['ruleset']}]: expected {row['verdict']} {row['errors']}, got {verdict} {errors}"
        for row, (verdict, errors, _) in outcomes
        if (verdict, set(errors)) != (row["verdict"], _codes(row["errors"]))
    ]

    assert wrong == []


def test_at_least_95_percent_of_warning_sets_are_right(outcomes: list) -> None:
    right = sum(set(warnings) == _codes(row["warnings"]) for row, (_, _, warnings) in outcomes)

    assert right / len(outcomes) >= 0.95, f"{right}/{len(outcomes)} warning sets right"
