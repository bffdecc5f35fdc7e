"""What `tracker check FILE... --ruleset R [--json]` runs (app/cli.py parses the command line, with its defaults)."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from app.formatcheck.isolate import RenderFailed, check_pdf_isolated, default_pool, render_page_isolated
from app.formatcheck.report import CheckReport
from app.formatcheck.rulesets import RULESETS

EXIT_ACCEPTED = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


MAX_PICTURES_PER_FINDING = 4


def run_check_command(files: list[str], ruleset: str, as_json: bool, pictures: str | None = None) -> int:
    """Check each file; print reports; return 0 if all are accepted, 1 if any is rejected, 2 on a usage error.

    With `pictures`, each page a finding concerns is also saved there as a PNG with the problem outlined.
    """
    return _run(files, ruleset, as_json, stdout=sys.stdout, stderr=sys.stderr, pictures=pictures)


def save_pictures(path: str, report: CheckReport, folder: Path) -> list[str]:
    """Draw each page a finding concerns (its boxes outlined) into `folder`; returns the files written."""
    findings = [*report.errors, *report.warnings]
    pages: set[int] = set()
    for finding in findings:
        located = sorted({int(box["page"]) for box in finding.boxes}) or sorted(set(finding.pages))
        pages.update(located[:MAX_PICTURES_PER_FINDING])
    sizes = report.facts.get("page_sizes_pt") or []
    written = []
    for page in sorted(p for p in pages if 1 <= p <= report.pages):
        boxes = [box for f in findings for box in f.boxes if int(box["page"]) == page]
        try:
            png = render_page_isolated(path, page, boxes, display_size=sizes[page - 1] if len(sizes) >= page else None)
        except RenderFailed:
            continue
        target = folder / f"{Path(path).stem}-page{page}.png"
        target.write_bytes(png)
        written.append(str(target))
    return written


def _run(
    files: list[str], ruleset: str, as_json: bool, *, stdout: TextIO, stderr: TextIO, pictures: str | None = None
) -> int:
    if ruleset not in RULESETS:
        print(f"error: unknown rule set {ruleset!r}; choose one of: {', '.join(RULESETS)}", file=stderr)
        return EXIT_USAGE
    if not files:
        print("error: give at least one PDF file to check", file=stderr)
        return EXIT_USAGE
    problems = [_file_problem(path) for path in files]
    if any(problems):
        for problem in filter(None, problems):
            print(f"error: {problem}", file=stderr)
        return EXIT_USAGE
    if pictures is not None and not os.path.isdir(pictures):
        print(f"error: no such folder for the pictures: {pictures}", file=stderr)
        return EXIT_USAGE
    reports = _check_all(files, ruleset, stderr)
    for path, report in zip(files, reports, strict=True):
        drawn = save_pictures(path, report, Path(pictures)) if pictures is not None else []
        if as_json:
            extra = {"pictures": drawn} if pictures is not None else {}
            stdout.write(json.dumps({"file": path, **report.to_dict(), **extra}, ensure_ascii=False) + "\n")
        else:
            stdout.write(format_report(path, report) + "".join(f"  picture: {p}\n" for p in drawn))
    stdout.flush()
    return EXIT_REJECTED if any(r.verdict == "reject" for r in reports) else EXIT_ACCEPTED


def _file_problem(path: str) -> str | None:
    if not os.path.exists(path):
        return f"no such file: {path}"
    if os.path.isdir(path):
        return f"is a directory, not a PDF file: {path}"
    if not os.access(path, os.R_OK):
        return f"cannot read file: {path}"
    return None


def _check_all(files: list[str], ruleset: str, stderr: TextIO) -> list[CheckReport]:
    """Check the files in parallel on the worker pool (one worker per core); reports in input order."""
    pool = default_pool()
    workers = min(pool.size, len(files))
    # Fork the workers (from the template `tracker check` started, else from this process while it
    # has one thread): the checker is imported once, not once per worker, and no interpreter has to start.
    pool.warm(workers, fork=True)
    # Largest files first, so a long paper is not left for last while the other workers idle.
    order = sorted(range(len(files)), key=lambda k: -os.path.getsize(files[k]))
    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = {k: executor.submit(check_pdf_isolated, files[k], ruleset) for k in order}
        if len(files) > 1 and stderr.isatty():
            _show_progress(list(futures.values()), stderr)
        return [futures[k].result() for k in range(len(files))]


def _show_progress(futures: list[Future[Any]], stderr: TextIO) -> None:
    from concurrent.futures import as_completed

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=stderr)
    columns = (TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Reports are printed after the bar is gone, so stdout never interleaves with it.
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("check", total=len(futures))
        for _ in as_completed(futures):
            bar.advance(task)


def format_report(path: str, report: CheckReport) -> str:
    """The human-readable report of one file."""
    pages = f"{report.pages} page{'s' if report.pages != 1 else ''}"
    verdict = "accepted" if report.verdict == "accept" else "REJECTED"
    lines = [f"{path}: {verdict} ({report.ruleset}, {pages})"]
    for label, findings in (("error", report.errors), ("warning", report.warnings)):
        for finding in findings:
            lines.append(f"  {label:<7} {finding.code}: {finding.message}")
    facts = report.facts
    if facts.get("headings"):
        lines.append(f"  headings found: {'; '.join(facts['headings'])}")
    return "\n".join(lines) + "\n"
