"""Signals: one finding of a detector with its explanation and the rows it rests on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")

# Which way a signal points: toward the account having been taken over (the
# holder is a victim), toward the holder being the bad actor, or toward the
# activity being the owner's own (a mitigating fact).
TAKEOVER = "takeover"
FRAUD = "fraud"
BENIGN = "benign"
DIRECTIONS = (TAKEOVER, FRAUD, BENIGN)


@dataclass(frozen=True, slots=True)
class Signal:
    """A finding an analyst can paste into a case note.

    `weight` is the log-likelihood-ratio style strength the verdict adds up
    (positive: away from clear); `evidence` holds plain JSON values only.
    """

    id: str
    severity: str
    direction: str
    weight: float
    explanation: str
    ts: datetime | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}")


@dataclass(frozen=True, slots=True)
class NotChecked:
    """A check that could not run, and why: a verdict lists these, never hides them."""

    check: str
    reason: str
