"""Confusion matrix of `investigate` against a ground-truth file, for any data set.

Run: .venv/bin/python benchmarks/eval_verdicts.py DATA_DIR TRUTH_CSV
(TRUTH_CSV has columns uid, family, label, as examples/truth.csv and the
generator's --truth file.) Prints the matrix and every account labelled otherwise.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

from acctsec.config import load_settings
from acctsec.intel.ip import OfflineIpIntel
from acctsec.service import investigate, open_source

LABELS = ("takeover", "fraud", "suspicious", "clear")


def main(data: Path, truth_file: Path) -> None:
    settings = load_settings()
    source = open_source(settings, data)
    intel = OfflineIpIntel(settings)
    with truth_file.open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    counts: Counter[tuple[str, str]] = Counter()
    wrong = []
    began = time.perf_counter()
    for row in truth:
        report = investigate(settings, source, row["uid"], intel=intel)
        counts[(row["label"], report.verdict.label)] += 1
        if report.verdict.label != row["label"]:
            wrong.append((row["uid"], row["family"], row["label"], report.verdict.label,
                          report.verdict.risk))
    print(f"{len(truth)} accounts in {time.perf_counter() - began:.1f} s")
    print("truth \\ verdict " + " ".join(f"{x:>10}" for x in LABELS))
    for label in LABELS:
        print(f"{label:>15} " + " ".join(f"{counts[(label, got)]:>10}" for got in LABELS))
    for uid, family, expected, got, risk in wrong:
        print(f"  {uid} {family}: expected {expected}, got {got} (risk {risk})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
