"""The LogSource interface: one account's records and population-wide figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from acctsec.model import AccountRecords, PopulationQuery, PopulationStats


class LogSource(Protocol):
    """A backend holding the tables of spec/data-model.md.

    `account` raises InputError for an unknown uid or an unreadable source, and
    reports rows that break the contract in `AccountRecords.problems` (or raises
    InputError on the first one when the source is strict).
    """

    @property
    def name(self) -> str: ...

    def account(self, uid: str) -> AccountRecords: ...

    def population(self, query: PopulationQuery) -> PopulationStats: ...

    def uids(self) -> Iterator[str]: ...
