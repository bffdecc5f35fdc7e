"""Draw the imports between app's top-level packages and modules: DOT text, rendered to SVG by Graphviz.

Usage: python scripts/import_graph.py [--out docs/imports] [--package app]
Writes <out>.dot and, when Graphviz's `dot` is installed, <out>.svg (scripts/import-graph installs it).
The domain packages are drawn in the order of the `domain-layers` contract in pyproject.toml (higher
layers above); an edge drawn red is one half of an import cycle between two top-level packages, and a
dashed box is a module outside the layers that imports a domain (the contract should place it).
"""

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = ("main", "cli", "demo", "demo_work", "web")


def top_level_imports(graph: grimp.ImportGraph, package: str) -> set[tuple[str, str]]:
    """(importer, imported) pairs between the direct children of `package`, both given without the prefix."""
    prefix = package + "."

    def top(module: str) -> str:
        return module.removeprefix(prefix).split(".")[0]

    pairs = set()
    for module in graph.modules:
        if not module.startswith(prefix):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith(prefix) and top(module) != top(imported):
                pairs.add((top(module), top(imported)))
    return pairs


def domain_layers(pyproject: Path, package: str) -> list[list[str]]:
    """The layers of the `domain-layers` contract, top first, each a list of names without the prefix."""
    config = tomllib.loads(pyproject.read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c.get("id") == "domain-layers")
    return [
        [name.strip(" ()").removeprefix(package + ".") for name in layer.replace(":", "|").split("|")]
        for layer in layers
    ]


def to_dot(nodes: set[str], pairs: set[tuple[str, str]], layers: list[list[str]], *, every_edge: bool = False) -> str:
    """The graph as DOT: entry points on top, then the domain layers, then the foundations.

    Imports of a foundation from above are left out unless `every_edge` (every layer may make them,
    and they would hide the rest); an import that closes a cycle is always drawn.
    """
    in_layers = {name for layer in layers for name in layer}
    entry = sorted(n for n in nodes if n in ENTRY_POINTS)
    rest = {n for n in nodes if n not in in_layers and n not in ENTRY_POINTS}
    # A module outside the layers that imports a domain is no foundation: it is drawn apart until
    # the layers contract places it.
    unplaced = sorted(n for n in rest if any(a == n and b in in_layers for a, b in pairs))
    foundations = sorted(rest - set(unplaced))
    lines = [
        "digraph imports {",
        '  graph [rankdir=TB, newrank=true, ranksep=0.5, nodesep=0.3, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=11];',
        '  edge [color="#7a869a", arrowsize=0.6];',
        f"  {{ rank=same; {' '.join(_q(n) for n in entry)} }}" if entry else "",
    ]
    for n in entry:
        lines.append(f'  {_q(n)} [fillcolor="#fdf1dc"];')
    for layer in layers:
        present = [n for n in layer if n in nodes]
        if present:
            lines.append(f"  {{ rank=same; {' '.join(_q(n) for n in present)} }}")
    for n in unplaced:
        lines.append(f'  {_q(n)} [style="rounded,dashed", fillcolor="#ffffff", tooltip="in no layer yet"];')
    lines.append("  subgraph cluster_foundations {")
    label = "foundations: any layer above may import them" + ("" if every_edge else " (those imports not drawn)")
    lines.append(f'    label="{label}"; style=dashed; color="#9aa5b8";')
    for n in foundations:
        lines.append(f'    {_q(n)} [fillcolor="#eeeeee"];')
    lines.append("  }")
    for importer, imported in sorted(pairs):
        cyclic = (imported, importer) in pairs
        style = ' [color="#d0312d", penwidth=2.0]' if cyclic else ""
        if imported in foundations and not cyclic:
            if importer not in foundations and not every_edge:
                continue
            style = ' [color="#c7cdd8"]'
        lines.append(f"  {_q(importer)} -> {_q(imported)}{style};")
    lines.append("}")
    return "\n".join(line for line in lines if line) + "\n"


def _q(name: str) -> str:
    return f'"{name}"'


def main() -> int:
    """Write the DOT file and render it when Graphviz is there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "imports"), help="output path without extension")
    parser.add_argument("--package", default="app")
    parser.add_argument("--every-edge", action="store_true", help="also draw the imports of the foundations")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    # As the contracts do (pyproject.toml): imports for type checking only do not run, so they make no cycle.
    graph = grimp.build_graph(args.package, cache_dir=None, exclude_type_checking_imports=True)
    prefix = args.package + "."
    nodes = {m.removeprefix(prefix).split(".")[0] for m in graph.modules if m.startswith(prefix)}
    pairs = top_level_imports(graph, args.package)
    layers = domain_layers(ROOT / "pyproject.toml", args.package)
    dot_text = to_dot(nodes, pairs, layers, every_edge=args.every_edge)
    out = Path(args.out)
    out.with_suffix(".dot").write_text(dot_text)
    cycles = sorted((a, b) for a, b in pairs if (b, a) in pairs and a < b)
    print(
        f"{len(nodes)} modules, {len(pairs)} imports between them, {len(cycles)} cycles"
        + (": " + ", ".join(f"{a} <-> {b}" for a, b in cycles) if cycles else "")
    )
    dot = shutil.which("dot")
    if dot is None:
        print(
            f"wrote {out.with_suffix('.dot')}; Graphviz's dot is missing, so no SVG (scripts/import-graph installs it)"
        )
        return 0
    subprocess.run([dot, "-Tsvg", "-o", str(out.with_suffix(".svg")), str(out.with_suffix(".dot"))], check=True)
    print(f"wrote {out.with_suffix('.dot')} and {out.with_suffix('.svg')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
