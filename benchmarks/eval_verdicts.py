"""Confusion matrix of the verdicts against a ground-truth file, for any data set.

Run: .venv/bin/python benchmarks/eval_verdicts.py DATA_DIR TRUTH_CSV
     .venv/bin/python benchmarks/eval_verdicts.py --batch OUT.jsonl TRUTH_CSV
(TRUTH_CSV has columns uid, family, label, as examples/truth.csv and the
generator's --truth file.) The first form runs `investigate` on every account of
the truth file; the second reads the reports of an `acctsec batch` run (for large
data sets, where only a sample of accounts is decided: the accounts of the truth
file that are not in the batch output are left out). Prints the matrix and every
account labelled otherwise, grouped by family.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

LABELS = ("takeover", "fraud", "suspicious", "clear")

Verdict = tuple[str, str, int]  # uid, label, risk


def investigated(data: Path, uids: list[str]) -> Iterator[Verdict]:
    from acctsec.config import load_settings
    from acctsec.intel.ip import OfflineIpIntel
    from acctsec.service import investigate, open_source

    settings = load_settings()
    source = open_source(settings, data)
    intel = OfflineIpIntel(settings)
    for uid in uids:
        report = investigate(settings, source, uid, intel=intel)
        yield uid, report.verdict.label, report.verdict.risk


def batched(out: Path) -> Iterator[Verdict]:
    with out.open(encoding="utf-8") as fh:
        for line in fh:
            report = json.loads(line)
            yield report["uid"], report["verdict"]["label"], report["verdict"]["risk"]


def main(verdicts: Iterator[Verdict], truth: dict[str, dict[str, str]]) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    wrong = []
    began = time.perf_counter()
    for uid, got, risk in verdicts:
        row = truth.get(uid)
        if row is None:
            continue
        counts[(row["label"], got)] += 1
        if got != row["label"]:
            wrong.append((row["family"], uid, row["label"], got, risk))
    print(f"{sum(counts.values())} accounts in {time.perf_counter() - began:.1f} s")
    print("truth \\ verdict " + " ".join(f"{x:>10}" for x in LABELS))
    for label in LABELS:
        print(f"{label:>15} " + " ".join(f"{counts[(label, got)]:>10}" for got in LABELS))
    for family, uid, expected, got, risk in sorted(wrong):
        print(f"  {uid} {family}: expected {expected}, got {got} (risk {risk})")


if __name__ == "__main__":
    args = sys.argv[1:]
    from_batch = args[:1] == ["--batch"]
    args = args[1:] if from_batch else args
    if len(args) != 2:
        raise SystemExit(__doc__)
    with Path(args[1]).open(encoding="utf-8") as fh:
        truth = {row["uid"]: row for row in csv.DictReader(fh)}
    main(batched(Path(args[0])) if from_batch else investigated(Path(args[0]), list(truth)),
         truth)
