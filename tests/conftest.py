"""Shared test helpers: paths of the repository, the example data and ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "data"
TRUTH = ROOT / "examples" / "truth.csv"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def examples_dir() -> Path:
    if not (EXAMPLES / "accounts.csv").exists():
        pytest.skip("examples/data has not been generated")
    return EXAMPLES
