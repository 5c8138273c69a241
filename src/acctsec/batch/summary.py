"""What a batch run found, for stderr: labels, the riskiest accounts, skipped rows, failures."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from acctsec.batch.engine import Outcome

LABELS = ("takeover", "fraud", "suspicious", "clear")


@dataclass
class Tally:
    """Counts kept while results arrive; a heap holds only the riskiest few."""

    top: int = 10
    labels: Counter[str] = field(default_factory=Counter)
    riskiest: list[tuple[int, str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    failed: int = 0
    skipped_rows: int = 0
    accounts_with_skipped_rows: int = 0
    decided: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.report is None:
            self.failed += 1
            if len(self.failures) < self.top:
                self.failures.append((outcome.uid, outcome.error or "?"))
            return
        self.decided += 1
        verdict = outcome.report["verdict"]
        self.labels[verdict["label"]] += 1
        skipped = len(outcome.report["skipped_rows"])
        self.skipped_rows += skipped
        self.accounts_with_skipped_rows += skipped > 0
        item = (int(verdict["risk"]), outcome.uid, verdict["label"], verdict["summary"])
        if len(self.riskiest) < self.top:
            heapq.heappush(self.riskiest, item)
        else:
            heapq.heappushpop(self.riskiest, item)

    def lines(self, resumed: int, queue_problems: int, seconds: float,
              timings: dict[str, float] | None = None) -> list[str]:
        phases = ", ".join(f"{PHASES.get(k, k)} {v:.1f} s" for k, v in (timings or {}).items())
        out = [f"batch: {self.decided} accounts decided, {self.failed} failed, "
               f"{resumed} skipped as done by an earlier run, in {seconds:.1f} s"
               + (f" ({phases})" if phases else "")]
        out.append("labels: " + ", ".join(f"{name} {self.labels.get(name, 0)}"
                                          for name in LABELS))
        if self.riskiest:
            out.append("riskiest:")
            for risk, uid, label, summary in sorted(self.riskiest, key=_riskiest_first):
                out.append(f"  {uid}  {label} {risk}  {summary}")
        if self.skipped_rows:
            out.append(f"skipped rows: {self.skipped_rows} rows that break the data contract, "
                       f"in {self.accounts_with_skipped_rows} accounts (listed in each report)")
        if queue_problems:
            out.append(f"queue: {queue_problems} rows of the queue file were skipped")
        if self.failed:
            out.append(f"failed: {self.failed} accounts" + (" (first ones below)"
                                                              if self.failed > self.top else ""))
            out.extend(f"  {uid}: {error}" for uid, error in self.failures)
        return out


PHASES = {"csv_copies": "CSV copies", "population": "population figures",
          "link_graph": "link graph", "rows": "queue's rows", "decide": "deciding"}


def _riskiest_first(item: tuple[int, str, str, str]) -> tuple[int, str]:
    return (-item[0], item[1])


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts per label (tests and scripts)."""
    return dict(Counter(o.report["verdict"]["label"] for o in outcomes if o.report))
