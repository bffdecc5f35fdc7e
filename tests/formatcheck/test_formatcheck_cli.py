"""`tracker check FILE... --ruleset R [--json]` through run_check_command and `python -m app.cli check`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from app.formatcheck.cli import run_check_command
from tests.formatcheck.formatcheck_pdfs import (
    A4,
    ColumnBreak,
    Heading,
    PageBreak,
    Paper,
    References,
    build_paper,
    filler,
)

REPO = Path(__file__).resolve().parents[2]
BLOCKS = [
    Heading("Abstract", size=10),
    *filler(2, 1),
    Heading("1 Introduction"),
    *filler(3, 2),
    Heading("2 Related Work"),
    *filler(3, 3),
    PageBreak(),
    Heading("3 Project Plan"),
    *filler(3, 4),
    ColumnBreak(),
    References(12),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    made = {
        "good": build_paper(Paper(BLOCKS)),
        "a4": build_paper(Paper(BLOCKS, page_size=A4)),
        "broken": b"%PDF-1.5\nnot really\n",
    }
    paths = {}
    for name, data in made.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def test_all_accepted_exits_0_with_a_readable_report(files: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    code = run_check_command([files["good"]], "proposal", False)

    out, err = capsys.readouterr()
    assert code == 0
    assert out == (
        f"{files['good']}: accepted (proposal, 2 pages)\n"
        "  headings found: Abstract; 1 Introduction; 2 Related Work; 3 Project Plan; References\n"
    )
    assert err == ""


def test_any_rejected_exits_1_and_json_has_one_object_per_line(
    files: dict[str, str], capsys: pytest.CaptureFixture
) -> None:
    code = run_check_command([files["good"], files["a4"], files["broken"]], "proposal", True)

    out, _ = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [(r["file"], r["verdict"], [e["code"] for e in r["errors"]]) for r in lines] == [
        (files["good"], "accept", []),
        (files["a4"], "reject", ["page-size"]),
        (files["broken"], "reject", ["unreadable"]),
    ]
    assert list(lines[0]) == ["file", "ruleset", "verdict", "pages", "errors", "warnings", "facts"]


def test_rejected_report_lists_errors_and_warnings(files: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    code = run_check_command([files["a4"]], "report", False)

    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[:3] == [
        f"{files['a4']}: REJECTED (report, 2 pages)",
        "  error   page-size: Pages 1–2 are 595 × 842 pt (A4); every page must be US Letter, "
        "612 × 792 pt (8.5 × 11 in).",
        "  warning missing-section:proposed-solution: No Proposed Solution section heading was found "
        "(accepted headings: proposed solution, proposed method, method, methods, methodology, approach, "
        "our approach, proposed approach, model).",
    ]


def test_missing_file_is_a_usage_error(files: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    code = run_check_command([files["good"], "/no/such/paper.pdf"], "proposal", True)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == "error: no such file: /no/such/paper.pdf\n"


def test_unknown_ruleset_is_a_usage_error(files: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    code = run_check_command([files["good"]], "thesis", False)

    _, err = capsys.readouterr()
    assert code == 2
    assert err == "error: unknown rule set 'thesis'; choose one of: proposal, report, poster, slides\n"


def test_python_dash_m_runs_the_command_with_its_default_ruleset(files: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", files["good"], "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert (report["file"], report["ruleset"], report["verdict"]) == (files["good"], "report", "accept")
    assert [w["code"] for w in report["warnings"]] == [
        "missing-section:proposed-solution",
        "missing-section:experiments",
        "missing-section:conclusion",
    ]


def test_pictures_are_saved_for_each_page_a_finding_concerns(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run_check_command([files["a4"], files["good"]], "proposal", True, pictures=str(tmp_path)) == 1
    a4, good = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert a4["errors"][0]["code"] == "page-size"
    assert a4["pictures"] == [str(tmp_path / f"a4-page{n}.png") for n in a4["errors"][0]["pages"]]
    assert good["pictures"] == []
    with Image.open(a4["pictures"][0]) as image:
        assert image.width == 600
        # The whole sheet is the problem: its outline runs along the picture's edge.
        assert image.convert("RGB").getpixel((1, image.height // 2))[0] > 150
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in a4["pictures"])


def test_a_missing_pictures_folder_is_a_usage_error(files: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    assert run_check_command([files["good"]], "proposal", False, pictures="/nonexistent/folder") == 2
    assert capsys.readouterr().err == "error: no such folder for the pictures: /nonexistent/folder\n"
