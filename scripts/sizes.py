"""List the modules over a line limit and the functions over a length limit (STYLE.md: < 400 and < 60).

Usage: python scripts/sizes.py [PATH ...] [--module-lines 400] [--function-lines 60]
Prints one line per offender, longest first, and exits 1 when there is any (0 when none).
A function's length runs from its `def` (decorators excluded) to its last line, docstring included.
"""

import argparse
import ast
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_functions(path: Path, limit: int) -> list[tuple[int, str]]:
    """(length, "path:line name") of every function or method in `path` longer than `limit` lines."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((length, f"{_shown(path)}:{node.lineno} {node.name}"))
    return found


def _shown(path: Path) -> str:
    return os.path.relpath(path)


def main() -> int:
    """Print the offenders under the given paths (default: app)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "app")])
    parser.add_argument("--module-lines", type=int, default=400)
    parser.add_argument("--function-lines", type=int, default=60)
    args = parser.parse_args()
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    files = sorted(f for p in args.paths for f in (Path(p).resolve().rglob("*.py") if Path(p).is_dir() else [Path(p)]))
    modules = []
    functions = []
    for path in files:
        lines = len(path.read_text().splitlines())
        if lines > args.module_lines:
            modules.append((lines, _shown(path)))
        functions += long_functions(path, args.function_lines)
    for lines, name in sorted(modules, reverse=True):
        print(f"module   {lines:4d} lines  {name}")
    for length, name in sorted(functions, reverse=True):
        print(f"function {length:4d} lines  {name}")
    print(
        f"{len(modules)} modules over {args.module_lines} lines, {len(functions)} functions over {args.function_lines}"
    )
    return 1 if modules or functions else 0


if __name__ == "__main__":
    sys.exit(main())
