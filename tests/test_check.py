"""scripts/check: each gate fails on its kind of fault, shown on a copy with a small sample `app` package.

The copy holds the real scripts/check, scripts/_common.sh and pyproject.toml (so the real tool
configuration and import contracts apply) beside a sample package laid out like the real app/. The
sample is clean, so the test shows what the gates catch without depending on the real app/ being clean.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GATES = ("ruff format", "ruff check", "mypy", "import contracts")
DOMAINS = (
    "courses",
    "milestones",
    "submissions",
    "reviews",
    "selection",
    "marks",
    "groups",
    "topics",
    "roster",
    "people",
    "dashboard",
    "audit",
    "programme",
    "notify",
    "outbox",
)
# The modules below the domains that the contracts name, one line each in the sample.
FOUNDATIONS = (
    "errors",
    "clock",
    "security",
    "timefmt",
    "spreadsheet",
    "logs",
    "access",
    "inputs",
    "tokens",
    "downloads",
    "middleware",
    "health",
    "demo_work",
    "demo_pdfs",
)

RULES = '''"""Deadlines: pure functions of the course's settings."""

from datetime import datetime, timedelta


def deadline_after(start: datetime, days: int) -> datetime:
    """The instant `days` whole days after `start`."""
    return start + timedelta(days=days)
'''

CYCLE = "from app.submissions.service import submission_lateness\n"
CYCLIC_RULES = (
    RULES.replace("timedelta\n", f"timedelta\n\n{CYCLE}", 1)
    + '''

def late_by(received_at: datetime, start: datetime) -> timedelta:
    """How late a version is against a deadline a week after `start`."""
    return submission_lateness(received_at, start, 7)
'''
)

SUBMISSIONS_SERVICE = '''"""Submissions: lateness of a received version."""

from datetime import datetime, timedelta

from app.milestones.rules import deadline_after


def submission_lateness(received_at: datetime, start: datetime, days: int) -> timedelta:
    """How late a version received at `received_at` is (zero when on time)."""
    return max(received_at - deadline_after(start, days), timedelta(0))
'''

SUBMISSIONS_ROUTER = '''"""Submissions API: thin routes over the service."""

from datetime import UTC, datetime, timedelta

from app.submissions.service import submission_lateness


def lateness_seconds(received_at: datetime) -> float:
    """Seconds late against a deadline a week after the epoch (a stand-in for a route)."""
    return submission_lateness(received_at, datetime(1970, 1, 1, tzinfo=UTC), 7) / timedelta(seconds=1)
'''

WEB_PAGES = '''"""Pages: they call services, never routers."""

from datetime import datetime

from app.submissions.service import submission_lateness


def lateness_text(received_at: datetime, start: datetime) -> str:
    """The lateness of a version as a page shows it."""
    return f"{submission_lateness(received_at, start, 7).total_seconds():.0f} s late"
'''


def _module(doc: str) -> str:
    return f'"""{doc}"""\n'


def _write_sample(root: Path) -> None:
    """A clean sample `app` laid out like the real one: foundations, domain packages, pages."""
    files = {
        "app/__init__.py": _module("A sample laid out like the tracker."),
        "app/formatcheck/__init__.py": _module("The pure checker."),
        "app/models/__init__.py": _module("Tables."),
        "app/db.py": _module("Engine and session."),
        "app/config.py": _module("Settings."),
        "app/storage.py": _module("The file store."),
        "app/deps.py": _module("Request dependencies."),
        "app/main.py": _module("The FastAPI app."),
        "app/cli.py": _module("The command line."),
        "app/demo.py": _module("The demo course."),
        "app/web/__init__.py": _module("Pages."),
        "app/web/pages.py": WEB_PAGES,
        "app/milestones/rules.py": RULES,
        "app/submissions/service.py": SUBMISSIONS_SERVICE,
        "app/submissions/router.py": SUBMISSIONS_ROUTER,
    }
    for domain in DOMAINS:
        files[f"app/{domain}/__init__.py"] = _module(f"The {domain} domain.")
    for name in FOUNDATIONS:
        files[f"app/{name}.py"] = _module(f"The {name} module.")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "scripts").mkdir()
    for name in ("scripts/check", "scripts/_common.sh", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)


def _run_check(root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # The tools of the interpreter running the suite; one mypy cache for all copies keeps the runs short.
    env = {**os.environ, "CHECK_BIN": str(Path(sys.executable).parent), "MYPY_CACHE_DIR": str(cache)}
    return subprocess.run(
        [str(root / "scripts/check")], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _verdicts(output: str) -> dict[str, str]:
    """Each gate's closing line ('--> <gate>: ok' or FAILED) by gate."""
    lines = [line.removeprefix("--> ") for line in output.splitlines() if line.startswith("--> ")]
    return dict(line.rsplit(": ", 1) for line in lines)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def test_the_clean_sample_passes_every_gate(tmp_path: Path, mypy_cache: Path) -> None:
    _write_sample(tmp_path)
    result = _run_check(tmp_path, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _verdicts(result.stdout) == dict.fromkeys(GATES, "ok")
    assert result.stdout.splitlines()[-1] == "check: all 4 gates passed"


# Each fault: the file it rewrites, the new text, the gate that must fail and lines of its output.
FAULTS = {
    "lint": (
        "app/milestones/rules.py",
        RULES.replace("from datetime import", "import os\nfrom datetime import"),
        "ruff check",
        ("F401 [*] `os` imported but unused", " --> app/milestones/rules.py:3:8"),
    ),
    "format": (
        "app/milestones/rules.py",
        RULES.replace("start + timedelta(days=days)", "start+timedelta( days=days )"),
        "ruff format",
        ("-    return start+timedelta( days=days )", "+    return start + timedelta(days=days)"),
    ),
    "types": (
        "app/milestones/rules.py",
        RULES.replace("timedelta(days=days)", "timedelta(days=days) + days"),
        "mypy",
        ('app/milestones/rules.py:8: error: Unsupported operand types for + ("datetime" and "int")  [operator]',),
    ),
    # The cycle the layers forbid: milestones reaching up into submissions.
    "contract": (
        "app/milestones/rules.py",
        CYCLIC_RULES,
        "import contracts",
        (
            "app.milestones is not allowed to import app.submissions:",
            "- app.milestones.rules -> app.submissions.service (l.5)",
        ),
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_kind_of_fault_fails_its_gate_and_only_it(tmp_path: Path, mypy_cache: Path, fault: str) -> None:
    _write_sample(tmp_path)
    name, text, gate, findings = FAULTS[fault]
    (tmp_path / name).write_text(text)
    result = _run_check(tmp_path, mypy_cache)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _verdicts(result.stdout) == {g: "FAILED" if g == gate else "ok" for g in GATES}
    lines = result.stdout.splitlines()
    assert [line for line in findings if line in lines] == list(findings)
    assert result.stdout.splitlines()[-1] == f"check: FAILED: {gate}"
