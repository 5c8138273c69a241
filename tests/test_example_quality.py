"""How well investigate labels the bundled example accounts against their ground truth."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from acctsec.config import load_settings
from acctsec.intel.ip import OfflineIpIntel
from acctsec.service import investigate, open_source
from conftest import TRUTH

LABELS = ("takeover", "fraud", "suspicious", "clear")


def matrix_text(counts: Counter[tuple[str, str]]) -> str:
    lines = ["truth \\ verdict " + " ".join(f"{x:>10}" for x in LABELS)]
    for truth in LABELS:
        row = " ".join(f"{counts[(truth, got)]:>10}" for got in LABELS)
        lines.append(f"{truth:>15} {row}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str]]:
    examples = TRUTH.parent / "data"
    if not TRUTH.exists():
        pytest.skip("examples have not been generated")
    home = tmp_path_factory.mktemp("home")
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(home),
                                      "ACCTSEC_CACHE_DIR": str(home / "cache"),
                                      "ACCTSEC_DATA_DIR": str(home / "data")})
    source = open_source(settings, Path(examples))
    intel = OfflineIpIntel(settings)
    with TRUTH.open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    return [(row["uid"], row["family"], row["label"],
             investigate(settings, source, row["uid"], intel=intel).verdict.label)
            for row in truth]


def test_confusion_matrix_on_the_example_data(outcomes: list[tuple[str, str, str, str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    counts = Counter((truth, got) for _, _, truth, got in outcomes)
    with capsys.disabled():
        print("\n" + matrix_text(counts))
    missed = [(uid, fam, got) for uid, fam, truth, got in outcomes
              if truth in ("takeover", "fraud") and got != truth]
    accused = [(uid, fam, got) for uid, fam, truth, got in outcomes
               if truth == "clear" and got in ("takeover", "fraud")]
    doubted = [(uid, fam) for uid, fam, truth, got in outcomes
               if truth == "clear" and got == "suspicious"]
    honest = sum(1 for *_, truth, _ in outcomes if truth == "clear")
    assert not missed, f"takeover/fraud accounts labelled otherwise: {missed}"
    assert not accused, f"honest accounts labelled takeover or fraud: {accused}"
    # "At most a few" honest look-alikes may need a person's look: 3% of them.
    assert len(doubted) <= max(3, honest * 3 // 100), f"honest accounts suspicious: {doubted}"
