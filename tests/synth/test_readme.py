"""examples/README.md lists each family's uids exactly as the committed truth file has them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_readme_uid_table_matches_truth() -> None:
    with (EXAMPLES / "truth.csv").open(newline="", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    listed: dict[str, set[str]] = {}
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\| (\w+) \| (\w+) \| ([\d, ]+) \|", line)
        if m:
            listed[m.group(1)] = set(m.group(3).split(", "))
    expected: dict[str, set[str]] = {}
    for r in truth:
        if r["family"] != "ordinary":
            expected.setdefault(r["family"], set()).add(r["uid"])
    assert listed == expected
    assert "10007" in listed["phishing"]
