"""Fixtures for the format checker tests: the PDF builders' folder on sys.path, the shared corpus."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # formatcheck_pdfs.py, however the tests tree is packaged

from formatcheck_pdfs import corpus_dir  # noqa: E402


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The labelled corpus; tests that need it skip when it is absent."""
    folder = corpus_dir()
    if folder is None:
        pytest.skip("the shared corpus (../shared/corpus or $TRACKER_CORPUS_DIR) is not present")
    return folder
