"""scripts/import_graph.py: the imports between top-level modules, cycles marked, layers from the contract."""

import importlib.util
from pathlib import Path
from types import ModuleType

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def import_graph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imports_are_folded_to_top_level_modules_and_cycles_drawn_red(
    tmp_path: Path, import_graph: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "demo_pkg/__init__.py": "",
        "demo_pkg/models.py": "",
        "demo_pkg/main.py": "import demo_pkg.marks.service\n",
        "demo_pkg/marks/__init__.py": "",
        "demo_pkg/marks/service.py": "import demo_pkg.reviews.rules\nimport demo_pkg.models\n",
        "demo_pkg/reviews/__init__.py": "",
        "demo_pkg/reviews/rules.py": "import demo_pkg.marks\nimport demo_pkg.models\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("demo_pkg", cache_dir=None)
    pairs = import_graph.top_level_imports(graph, "demo_pkg")
    assert pairs == {
        ("main", "marks"),
        ("marks", "reviews"),
        ("marks", "models"),
        ("reviews", "marks"),
        ("reviews", "models"),
    }

    dot = import_graph.to_dot({"main", "marks", "reviews", "models"}, pairs, [["marks"], ["reviews"]])
    edges = [line.strip() for line in dot.splitlines() if "->" in line]
    # Imports of a foundation (models) from above are left out; the marks <-> reviews cycle is red.
    assert edges == [
        '"main" -> "marks";',
        '"marks" -> "reviews" [color="#d0312d", penwidth=2.0];',
        '"reviews" -> "marks" [color="#d0312d", penwidth=2.0];',
    ]
    assert '  { rank=same; "marks" }' in dot.splitlines()
    assert '    "models" [fillcolor="#eeeeee"];' in dot.splitlines()
    every = import_graph.to_dot(
        {"main", "marks", "reviews", "models"}, pairs, [["marks"], ["reviews"]], every_edge=True
    )
    assert '  "marks" -> "models" [color="#c7cdd8"];' in every.splitlines()


def test_the_layers_are_read_from_the_contract_in_pyproject(import_graph: ModuleType) -> None:
    layers = import_graph.domain_layers(ROOT / "pyproject.toml", "app")
    assert layers[:2] == [["notify"], ["dashboard"]]
    assert layers[-1] == ["audit", "outbox"]
    assert ["submissions", "courses"] in layers
    assert layers.index(["milestones"]) > layers.index(["submissions", "courses"])
