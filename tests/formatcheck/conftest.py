"""Fixtures for the format checker tests: the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.formatcheck.formatcheck_pdfs import corpus_dir


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The labelled corpus; tests that need it skip when it is absent."""
    folder = corpus_dir()
    if folder is None:
        pytest.skip("the shared corpus (../shared/corpus or $TRACKER_CORPUS_DIR) is not present")
    return folder
