"""Shared fixtures: one generated small data set per test session."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from acctsec.synth import generate


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    generate(root / "data", seed=7)
    return root


@pytest.fixture(scope="session")
def tables(dataset: Path) -> dict[str, list[dict[str, str]]]:
    names = ("accounts", "logins", "security_events", "transactions", "alerts")
    out = {n: read(dataset / "data" / f"{n}.csv") for n in names}
    out["truth"] = read(dataset / "truth.csv")
    return out
