"""`tracker check` over several files forks its workers from the command's process, largest files first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.formatcheck.rules import check_pdf
from tests.formatcheck.formatcheck_pdfs import A4, Heading, PageBreak, Paper, References, build_paper, filler

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh process so that it has one thread, as `tracker check` has when it starts its workers.
CHECK_ALL = """
import io, json, sys
from app.formatcheck.cli import _check_all
from app.formatcheck.isolate import default_pool
pool = default_pool(2)
reports = _check_all(sys.argv[1:], "report", io.StringIO())
workers = list(pool._idle)
kinds = sorted(type(w.process).__name__ for w in workers)
victim = workers[0].process
victim.kill()
print(json.dumps({"kinds": kinds, "killed": victim.wait(timeout=10), "reports": [r.to_dict() for r in reports]}))
"""

# As `tracker` runs it: the template is forked before the command line is parsed, imports the
# checker, and forks the workers; this process never imports the PDF libraries.
FROM_TEMPLATE = """
import io, json, sys
from pathlib import Path
from app.formatcheck import forked
from app.formatcheck.cli import _check_all
from app.formatcheck.isolate import default_pool
forked.template_start(2)
template = forked._TEMPLATE.pid
pool = default_pool(2)
reports = _check_all(sys.argv[1:], "report", io.StringIO())
workers = [w.process for w in pool._idle]
parents = [int(Path(f"/proc/{w.pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for w in workers]
victim = workers[0]
victim.kill()
print(json.dumps({
    "kinds": sorted(type(w).__name__ for w in workers),
    "adopted": parents == [forked.os.getpid()] * 2,
    "template_gone": not Path(f"/proc/{template}").exists(),
    "pdf_libraries_here": sorted(m for m in ("pypdf", "pypdfium2") if m in sys.modules),
    "killed": victim.wait(timeout=10),
    "reports": [r.to_dict() for r in reports],
}))
"""

# Any other command stops the template before it runs (here at `gc --help`).
OTHER_COMMAND = """
import contextlib, io, json, os
from pathlib import Path
from app.cli import cli
from app.formatcheck import forked
fds = sorted(os.listdir("/proc/self/fd"))
forked.template_start(2)
template = forked._TEMPLATE.pid
alive = Path(f"/proc/{template}").exists()
with contextlib.redirect_stdout(io.StringIO()):
    cli(["gc", "--help"], standalone_mode=False)
gone = forked._TEMPLATE is None and not Path(f"/proc/{template}").exists()
print(json.dumps([alive, gone, sorted(os.listdir("/proc/self/fd")) == fds]))
"""

# The console script: the template starts before typer is imported (app.cli's own call finds it started).
LAUNCH = """
import json, sys
from app.formatcheck import forked
typer_loaded = []
start = forked.template_start
def spy(slots):
    typer_loaded.append("typer" in sys.modules)
    start(slots)
forked.template_start = spy
sys.argv = ["tracker", "check", *sys.argv[1:], "--json"]
from app.launch import main
try:
    main()
except SystemExit as stop:
    print(json.dumps({"typer_loaded": typer_loaded, "exit": stop.code}))
"""

# Another thread is alive: a fork could copy a lock that thread holds, so a fresh interpreter is started.
WITH_A_THREAD = """
import json, threading
from app.formatcheck.isolate import WorkerPool
done = threading.Event()
helper = threading.Thread(target=done.wait)
helper.start()
pool = WorkerPool(1)
pool.warm(fork=True)
kinds = [type(w.process).__name__ for w in pool._idle]
done.set()
helper.join()
pool.close()
print(json.dumps(kinds))
"""

# A large process: its address space would count against a forked worker's memory cap.
WHEN_LARGE = """
import json
from app.formatcheck.forked import FORK_MAX_ADDRESS_SPACE
from app.formatcheck.isolate import WorkerPool
ballast = bytearray(FORK_MAX_ADDRESS_SPACE)
pool = WorkerPool(1)
pool.warm(fork=True)
kinds = [type(w.process).__name__ for w in pool._idle]
pool.close()
print(json.dumps(kinds))
"""


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("forked")
    short = [Heading("Abstract", size=10), *filler(2, 1), Heading("1 Introduction"), *filler(2, 2), References(8)]
    long = [*short[:-1], PageBreak(), Heading("2 Related Work"), *filler(6, 3), PageBreak(), References(20)]
    made = {
        "short": build_paper(Paper(short)),
        "broken": b"%PDF-1.5\nnot really\n",
        "long-a4": build_paper(Paper(long, page_size=A4)),
    }
    paths = []
    for name, data in made.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def _run(code: str, *args: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_forked_workers_report_what_the_checker_reports_in_input_order(papers: list[str]) -> None:
    sizes = [Path(p).stat().st_size for p in papers]
    assert sizes[2] > sizes[0] > sizes[1]  # the largest is checked first but reported last

    answer = _run(CHECK_ALL, *papers)

    assert isinstance(answer, dict)
    assert answer["kinds"] == ["ForkedProcess", "ForkedProcess"]
    assert answer["reports"] == [check_pdf(p, "report").to_dict() for p in papers]
    assert [r["verdict"] for r in answer["reports"]] == ["accept", "reject", "reject"]
    assert [e["code"] for e in answer["reports"][1]["errors"]] == ["unreadable"]
    assert [e["code"] for e in answer["reports"][2]["errors"]] == ["page-size"]
    assert answer["killed"] == -9  # a forked worker is stopped and reaped like a started one


def test_workers_come_from_the_template_and_become_children_of_the_command(papers: list[str]) -> None:
    answer = _run(FROM_TEMPLATE, *papers)

    assert isinstance(answer, dict)
    assert answer["kinds"] == ["ForkedProcess", "ForkedProcess"]
    assert answer["adopted"] is True  # the template has exited; its workers are this process's children
    assert answer["template_gone"] is True
    assert answer["pdf_libraries_here"] == []  # only the template imported the checker
    assert answer["killed"] == -9
    assert answer["reports"] == [check_pdf(p, "report").to_dict() for p in papers]


def test_a_command_other_than_check_stops_the_template() -> None:
    # [alive before the command, gone and reaped after it, this process's descriptors as before]
    assert _run(OTHER_COMMAND) == [True, True, True]


def test_the_console_script_starts_the_template_before_it_imports_typer(papers: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH, *papers], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )

    *reports, spied = result.stdout.splitlines()
    assert json.loads(spied) == {"typer_loaded": [False, True], "exit": 1}
    assert [json.loads(line)["verdict"] for line in reports] == ["accept", "reject", "reject"]


def test_workers_are_started_not_forked_while_other_threads_run() -> None:
    assert _run(WITH_A_THREAD) == ["Popen"]


def test_workers_are_started_not_forked_from_a_large_process() -> None:
    assert _run(WHEN_LARGE) == ["Popen"]


def test_the_command_prints_one_report_per_file_in_the_order_given(papers: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", *papers, "--ruleset", "report", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.pop("file") for line in lines] == papers
    assert lines == [check_pdf(p, "report").to_dict() for p in papers]
