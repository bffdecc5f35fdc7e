"""Compile papers with TeX Live through scripts/make_corpus.py, cached by a hash of their sources."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "test-artifacts"


def make_corpus() -> ModuleType:
    """scripts/make_corpus.py as a module (scripts/ is not a package)."""
    name = "make_corpus"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "make_corpus.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def require_tex() -> None:
    """Skip with a clear message where TeX Live is absent (./scripts/test installs it)."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex (TeX Live) is not installed; ./scripts/test installs it from Debian")


def compiled(**choices: Any) -> tuple[Path, Any]:
    """Compile a make_corpus Variant built from `choices` (once per distinct source); its PDF and build facts."""
    require_tex()
    mc = make_corpus()
    variant = mc.Variant(**choices)
    source = mc.latex_source(variant) + mc.KIT.read_text(encoding="utf-8")
    folder = CACHE / "tex" / hashlib.sha256(source.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{variant.name}.pdf", mc.compile_cached(variant, folder)
