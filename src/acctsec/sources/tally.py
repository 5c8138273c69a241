"""Counting how one login attribute (an IP, a device, …) is used across accounts."""

from __future__ import annotations

from acctsec.model import KeyStats

# How many account ids a KeyStats carries as a sample (the first ones in sorted order).
SAMPLE = 25


class KeyCounter:
    """Events, accounts, successes and failures seen for one attribute value."""

    __slots__ = ("events", "uids", "successes", "success_uids", "failures", "failure_uids")

    def __init__(self) -> None:
        self.events = self.successes = self.failures = 0
        self.uids: set[str] = set()
        self.success_uids: set[str] = set()
        self.failure_uids: set[str] = set()

    def add(self, uid: str, event: str, times: int = 1) -> None:
        self.events += times
        self.uids.add(uid)
        if event == "login_success":
            self.successes += times
            self.success_uids.add(uid)
        elif event in ("login_failure", "mfa_failure"):
            self.failures += times
            self.failure_uids.add(uid)

    def stats(self) -> KeyStats:
        return KeyStats(
            events=self.events,
            accounts=len(self.uids),
            successes=self.successes,
            success_accounts=len(self.success_uids),
            failures=self.failures,
            failure_accounts=len(self.failure_uids),
            sample_uids=tuple(sorted(self.uids)[:SAMPLE]),
        )
