"""Putting one account's rows, read by any source, together in the order detectors expect."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from acctsec.model import Account, AccountRecords, RowProblem

# At one instant a sign-in comes before what its session then does.
EVENT_ORDER = {"login_failure": 0, "mfa_failure": 1, "login_success": 2, "session_refresh": 3,
               "logout": 4}


def in_order(records: Iterable[Any]) -> tuple[Any, ...]:
    """Records by time; sign-in events at the same instant in the order they happen."""
    return tuple(sorted(records, key=lambda r: (r.ts, EVENT_ORDER.get(getattr(r, "event", ""),
                                                                      9))))


def assemble(account: Account, parts: Mapping[str, Sequence[Any]],
             problems: Iterable[RowProblem]) -> AccountRecords:
    """AccountRecords from the account row and its rows per table (`parts`)."""
    return AccountRecords(
        account=account,
        logins=in_order(parts.get("logins", ())),
        security_events=in_order(parts.get("security_events", ())),
        transactions=in_order(parts.get("transactions", ())),
        alerts=tuple(parts.get("alerts", ())),
        problems=tuple(problems),
    )
