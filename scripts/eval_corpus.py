#!/usr/bin/env python3
"""Run the format checker over a labelled folder (EXPECTED.tsv) and print every disagreement.

Usage: scripts/eval_corpus.py DIR [--in-process] [--min-warnings 0.8]

DIR holds PDFs and an EXPECTED.tsv with the columns file, ruleset, verdict, errors and
warnings (codes comma-separated, "-" for none), as in ../shared/corpus. Exits 1 when a
verdict or an error set disagrees, or when fewer warning sets than --min-warnings agree.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.formatcheck import CheckReport, check_pdf, check_pdf_isolated


@dataclass(frozen=True, slots=True)
class Expectation:
    """One labelled row: what the checker must say about a file under a rule set."""

    file: str
    ruleset: str
    verdict: str
    errors: frozenset[str]
    warnings: frozenset[str]


def read_expected(folder: Path) -> list[Expectation]:
    """Read EXPECTED.tsv from the folder."""
    rows = []
    with (folder / "EXPECTED.tsv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows.append(
                Expectation(
                    file=row["file"],
                    ruleset=row["ruleset"],
                    verdict=row["verdict"],
                    errors=_codes(row["errors"]),
                    warnings=_codes(row["warnings"]),
                )
            )
    return rows


def _codes(cell: str) -> frozenset[str]:
    cell = (cell or "").strip()
    if cell in ("", "-"):
        return frozenset()
    return frozenset(code.strip() for code in cell.split(",") if code.strip())


def _show(codes: frozenset[str]) -> str:
    return ",".join(sorted(codes)) or "-"


def main(argv: list[str] | None = None) -> int:
    """Evaluate the checker on a labelled folder; print disagreements and totals."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="folder with the PDFs and EXPECTED.tsv")
    parser.add_argument("--in-process", action="store_true", help="call check_pdf directly, without the worker")
    parser.add_argument("--min-warnings", type=float, default=0.8, help="required share of exact warning sets")
    args = parser.parse_args(argv)
    if not (args.folder / "EXPECTED.tsv").is_file():
        print(f"error: {args.folder / 'EXPECTED.tsv'} not found", file=sys.stderr)
        return 2
    rows = read_expected(args.folder)
    verdicts = errors = warnings = 0
    started = time.perf_counter()
    for row in rows:
        path = args.folder / row.file
        report: CheckReport = check_pdf(path, row.ruleset) if args.in_process else check_pdf_isolated(path, row.ruleset)
        got_errors = frozenset(report.error_codes)
        got_warnings = frozenset(report.warning_codes)
        problems = []
        if report.verdict == row.verdict:
            verdicts += 1
        else:
            problems.append(f"verdict: expected {row.verdict}, got {report.verdict}")
        if got_errors == row.errors:
            errors += 1
        else:
            problems.append(f"errors: expected {_show(row.errors)}, got {_show(got_errors)}")
        if got_warnings == row.warnings:
            warnings += 1
        else:
            missing = _show(row.warnings - got_warnings)
            extra = _show(got_warnings - row.warnings)
            problems.append(f"warnings: missing {missing}, unexpected {extra}")
        if problems:
            print(f"DISAGREE {row.file} [{row.ruleset}]")
            for problem in problems:
                print(f"    {problem}")
    elapsed = time.perf_counter() - started
    total = len(rows)
    share = warnings / total if total else 1.0
    print(
        f"rows {total}: verdicts {verdicts}/{total}, error sets {errors}/{total}, "
        f"warning sets {warnings}/{total} ({share:.0%}); {elapsed:.2f} s"
    )
    if verdicts < total or errors < total or share < args.min_warnings:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
