"""Compile papers with TeX Live through scripts/make_corpus.py, cached by a hash of their sources."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from scripts import make_corpus

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "test-artifacts"


def require_tex() -> None:
    """Skip with a clear message where TeX Live is absent (./scripts/test installs it)."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex (TeX Live) is not installed; ./scripts/test installs it from Debian")


def compiled(**choices: Any) -> tuple[Path, Any]:
    """Compile a make_corpus Variant built from `choices` (once per distinct source); its PDF and build facts."""
    require_tex()
    variant = make_corpus.Variant(**choices)
    source = make_corpus.latex_source(variant) + make_corpus.KIT.read_text(encoding="utf-8")
    folder = CACHE / "tex" / hashlib.sha256(source.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{variant.name}.pdf", make_corpus.compile_cached(variant, folder)
