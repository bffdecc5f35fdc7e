#!/usr/bin/env python3
"""Benchmark the format checker on a folder of PDFs against two baselines measured in the same run.

Usage: scripts/bench_check.py DIR [--banal PATH] [--runs N] [--ruleset R] [--all-as R]
       scripts/bench_check.py DIR [DIR...] --batch --banal PATH [--runs N] [--baseline TREE]

For every PDF in DIR it reports the best of N in-process runs of
  - the checker (`check_pdf`, with the file's rule set from DIR/EXPECTED.tsv, else --ruleset;
    --all-as R checks every file with R, e.g. posters as reports),
  - pypdf opening the file and extracting the text of every page,
  - HotCRP's banal as HotCRP runs it (`perl banal -json FILE`), when --banal is given and
    `perl` and `pdftohtml` (Debian: poppler-utils) are installed,
then the median per file of each and its ratio to the checker, the checker's peak memory
(peak resident set of a child process that checks every file) and the wall time of one
`python -m app.cli check DIR/*.pdf --json` call (`tracker check`).

With --batch it times what a TA runs over a folder: ONE `tracker check FILES --ruleset report
--json` call over every PDF of the folders (worker start-up included), against banal run file by
file as HotCRP runs it, best of N runs each, in the same command; and the peak resident memory
of any one process of the `tracker check` call (the command and its worker processes). It also
prints the call's CPU time and the time to check every file in one process (warm), which a
loaded machine inflates far less than wall time. With --baseline TREE (the code before a change,
e.g. `git archive <commit> app | tar -x -C TREE`) the same figures are measured for TREE,
interleaved run by run with this tree's.
Make a sample of long papers with `scripts/make_corpus.py --long --count 12 --out var/gencorpus-long`.

banal is not part of this project: get it from HotCRP's repository,
https://github.com/kohler/hotcrp, file src/banal (e.g. `curl -o /tmp/banal
https://raw.githubusercontent.com/kohler/hotcrp/master/src/banal`). Do not commit it.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rulesets_for(folder: Path, default: str) -> dict[str, str]:
    """The first rule set EXPECTED.tsv names for each file (the folder's own labels)."""
    table: dict[str, str] = {}
    expected = folder / "EXPECTED.tsv"
    if expected.is_file():
        with expected.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                table.setdefault(row["file"], row["ruleset"])
    return table


def best_of(runs: int, action: Callable[[], object]) -> float:
    """The fastest of `runs` timed calls, in seconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def pypdf_extract(path: Path) -> None:
    """Baseline 1: open with pypdf and extract every page's text (errors count as done)."""
    import pypdf

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        for page in reader.pages:
            page.extract_text()
    except Exception:  # noqa: BLE001  the baseline reads hostile PDFs too: any failure ends its work, like ours
        pass


def banal(banal_path: Path, path: Path) -> None:
    """Baseline 2: HotCRP's banal, as HotCRP runs it."""
    subprocess.run(["perl", str(banal_path), "-json", str(path)], capture_output=True, check=False)


def peak_memory_mb(files: list[Path], rulesets: list[str]) -> tuple[float, float]:
    """Peak resident memory of a fresh child after importing the checker, and after checking every file.

    Read from VmHWM in /proc (reset by exec, unlike ru_maxrss, which a child inherits from
    this already large benchmark process); ru_maxrss where /proc is missing.
    """
    code = (
        "import json, resource, sys\n"
        "def peak():\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "from app.formatcheck import check_pdf\n"
        "base = peak()\n"
        "for path, ruleset in json.loads(sys.argv[1]):\n"
        "    check_pdf(path, ruleset)\n"
        "print(json.dumps([base, peak()]))\n"
    )
    pairs = json.dumps([[str(f), r] for f, r in zip(files, rulesets, strict=True)])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code, pairs], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    base, peak = json.loads(result.stdout.strip().splitlines()[-1])
    return base / 1024, peak / 1024


def cli_wall_time(files: list[Path], runs: int) -> float:
    """Best wall time of one `python -m app.cli check FILES --ruleset report --json` call."""
    command = [sys.executable, "-m", "app.cli", "check", *map(str, files), "--ruleset", "report", "--json"]

    def once() -> None:
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)

    return best_of(runs, once)


def tracker_command() -> list[str]:
    """The `tracker` console script of this environment (or the same entry point through python)."""
    script = Path(sys.executable).with_name("tracker")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "app.cli"]


# Checks every file once to warm up, then times checking them all in one process: CPU and wall seconds.
_IN_PROCESS = (
    "import json, logging, sys, time, warnings\n"
    "logging.getLogger('pypdf').setLevel(logging.ERROR)\n"
    "warnings.simplefilter('ignore')\n"
    "from app.formatcheck.rules import check_pdf\n"
    "datas = [open(path, 'rb').read() for path in json.loads(sys.argv[1])]\n"
    "for data in datas:\n"
    "    check_pdf(data, 'report')\n"
    "cpu, wall = time.process_time(), time.perf_counter()\n"
    "for data in datas:\n"
    "    check_pdf(data, 'report')\n"
    "print(time.process_time() - cpu, time.perf_counter() - wall)\n"
)


def in_process(tree: Path, files: list[Path]) -> tuple[float, float]:
    """(CPU, wall) seconds of checking every file once in one process, with the checker of `tree`."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    names = json.dumps([str(f.resolve()) for f in files])
    result = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, names], capture_output=True, text=True, cwd=tree, env=env, check=True
    )
    cpu, wall = result.stdout.split()
    return float(cpu), float(wall)


def timed_call(tree: Path, files: list[Path]) -> tuple[float, float, int]:
    """(wall s, CPU s, largest resident set in kB) of one `tracker check --json` call with the code of `tree`.

    Run through a small parent that reports the largest resident set among its descendants
    (the command and its workers, which it waits for), so this process's own size is not counted.
    """
    probe = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)\n"
    )
    if tree == ROOT:
        command = tracker_command()
    else:  # the same entry point as that tree's console script, imported from the other tree
        entry = "app.launch" if (tree / "app" / "launch.py").is_file() else "app.cli"
        command = [
            sys.executable,
            "-c",
            f"import sys; from {entry} import main; sys.argv[0] = 'tracker'; sys.exit(main())",
        ]
    command += ["check", *(str(f.resolve()) for f in files), "--ruleset", "report", "--json"]
    env = dict(os.environ, PYTHONPATH=str(tree))
    # In TREE's folder: `python -c` puts the working folder first on the import path.
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, cwd=tree, env=env, check=True
    )
    wall, cpu, rss = result.stdout.split()
    return float(wall), float(cpu), int(rss)


def _row(label: str, values: list[float], unit: str = "s") -> str:
    return f"{label:<44} {min(values):>7.2f}{unit} {statistics.median(values):>7.2f}{unit}"


def batch(folders: list[Path], banal_path: Path, runs: int, baseline: Path | None = None) -> int:
    """One `tracker check --json` call over every PDF of the folders against banal file by file.

    With `baseline` (a copy of the code before a change, e.g. from `git archive`), its call and
    in-process totals are measured too, interleaved with this tree's, so both see the same load.
    """
    files = sorted(p for folder in folders for p in folder.iterdir() if p.suffix.lower() == ".pdf")
    if not files:
        print("error: no PDF files in the folders", file=sys.stderr)
        return 2
    trees = [ROOT] + ([baseline.resolve()] if baseline is not None else [])
    calls: dict[Path, list[tuple[float, float, int]]] = {tree: [] for tree in trees}
    inside: dict[Path, list[tuple[float, float]]] = {tree: [] for tree in trees}
    for _ in range(runs):
        for tree in trees:
            calls[tree].append(timed_call(tree, files))
            inside[tree].append(in_process(tree, files))
    theirs = []
    for _ in range(runs):
        started = time.perf_counter()
        for path in files:
            banal(banal_path, path)
        theirs.append(time.perf_counter() - started)
    ours = [wall for wall, _, _ in calls[ROOT]]
    peak_kb = max(rss for _, _, rss in calls[ROOT])
    pages = sum(_page_count(path) for path in files)
    print(f"{len(files)} PDFs, {pages} pages, from {', '.join(str(f) for f in folders)}")
    print(f"{'':<44} {'best':>8} {'median':>8}")
    print(_row("one `tracker check --json` call", ours))
    print(_row("banal, file by file", theirs))
    best_ratio, median_ratio = min(ours) / min(theirs), statistics.median(ours) / statistics.median(theirs)
    print(f"{'ratio checker / banal':<44} {best_ratio:>8.2f} {median_ratio:>8.2f}")
    print(f"peak resident memory of one process of the call: {peak_kb / 1024:.0f} MB")
    for tree in trees:
        name = "this tree" if tree == ROOT else f"baseline {tree}"
        print(f"{name}:")
        print(_row("  the call, wall", [wall for wall, _, _ in calls[tree]]))
        print(_row("  the call, CPU of all its processes", [cpu for _, cpu, _ in calls[tree]]))
        print(_row("  in one process, CPU (all files, warm)", [cpu for cpu, _ in inside[tree]]))
        print(_row("  in one process, wall (all files, warm)", [wall for _, wall in inside[tree]]))
    cpu = platform.processor() or platform.machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}; runs: {runs}; load average at the end: {load:.1f}"
    )
    return 0


def _page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 0
    try:
        return len(document)
    finally:
        document.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="+", help="folder(s) of PDFs (one unless --batch)")
    parser.add_argument("--batch", action="store_true", help="one tracker check call over all folders vs banal")
    parser.add_argument("--banal", type=Path, help="path to a copy of HotCRP's src/banal (see above)")
    parser.add_argument("--runs", type=int, default=5, help="runs per file; the best one counts (default 5)")
    parser.add_argument("--ruleset", default="report", help="rule set for files EXPECTED.tsv does not name")
    parser.add_argument(
        "--baseline", type=Path, metavar="TREE", help="with --batch: also time the code in TREE (before a change)"
    )
    parser.add_argument("--all-as", metavar="R", help="check every file with this rule set, ignoring EXPECTED.tsv")
    args = parser.parse_args(argv)
    if args.batch:
        if not args.banal or not args.banal.is_file() or shutil.which("pdftohtml") is None:
            print("error: --batch needs --banal PATH and pdftohtml (Debian: poppler-utils)", file=sys.stderr)
            return 2
        return batch(args.folder, args.banal, args.runs, args.baseline)
    if len(args.folder) != 1:
        print("error: give one folder (or --batch)", file=sys.stderr)
        return 2
    args.folder = args.folder[0]

    import logging

    from app.formatcheck import check_pdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken files are part of the corpus
    warnings.simplefilter("ignore")

    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() == ".pdf")
    if not files:
        print(f"error: no PDF files in {args.folder}", file=sys.stderr)
        return 2
    labels = rulesets_for(args.folder, args.ruleset)
    rulesets = [args.all_as or labels.get(f.name, args.ruleset) for f in files]

    use_banal = False
    if args.banal:
        missing = [tool for tool in ("perl", "pdftohtml") if shutil.which(tool) is None]
        if missing or not args.banal.is_file():
            print(f"note: banal baseline skipped (missing: {', '.join(missing) or args.banal})", file=sys.stderr)
        else:
            use_banal = True

    rows = []
    for path, ruleset in zip(files, rulesets, strict=True):
        ours = best_of(args.runs, functools.partial(check_pdf, path, ruleset))
        text = best_of(args.runs, functools.partial(pypdf_extract, path))
        hotcrp = best_of(args.runs, functools.partial(banal, args.banal, path)) if use_banal else None
        rows.append((path.name, ruleset, ours, text, hotcrp))

    out = io.StringIO()
    header = f"{'file':<52} {'ruleset':<8} {'checker':>9} {'pypdf text':>11}"
    header += f" {'banal':>9}" if use_banal else ""
    print(header, file=out)
    for name, ruleset, ours, text, hotcrp in rows:
        line = f"{name[:52]:<52} {ruleset:<8} {ours * 1000:>7.1f}ms {text * 1000:>9.1f}ms"
        line += f" {hotcrp * 1000:>7.1f}ms" if hotcrp is not None else ""
        print(line, file=out)
    med_ours = statistics.median(r[2] for r in rows)
    med_text = statistics.median(r[3] for r in rows)
    line = f"{'median per file':<61} {med_ours * 1000:>7.1f}ms {med_text * 1000:>9.1f}ms"
    ratios = f"{'ratio to the checker':<61} {1:>8.2f}x {med_text / med_ours:>10.2f}x"
    if use_banal:
        med_banal = statistics.median(r[4] for r in rows)
        line += f" {med_banal * 1000:>7.1f}ms"
        ratios += f" {med_banal / med_ours:>8.2f}x"
    print(line, file=out)
    print(ratios, file=out)
    total_ours = sum(r[2] for r in rows)
    print(f"sum over {len(rows)} files, checker in process: {total_ours * 1000:.0f} ms", file=out)
    base, peak = peak_memory_mb(files, rulesets)
    print(f"peak memory (VmHWM of a child checking every file): {peak:.0f} MB (after imports: {base:.0f} MB)", file=out)
    wall = cli_wall_time(files, max(1, min(args.runs, 3)))
    print(f"one `python -m app.cli check <all {len(files)} files> --json` call: {wall:.2f} s wall", file=out)
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}; runs per file: {args.runs}",
        file=out,
    )
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
