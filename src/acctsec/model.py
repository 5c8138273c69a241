"""Typed records of the input contract (spec/data-model.md) shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, str] = MappingProxyType({})

LOGIN_EVENTS = frozenset(
    {"login_success", "login_failure", "mfa_failure", "logout", "session_refresh"}
)
TRANSACTION_KINDS = frozenset(
    {
        "deposit",
        "withdrawal",
        "internal_in",
        "internal_out",
        "fiat_deposit",
        "fiat_withdrawal",
        "p2p_buy",
        "p2p_sell",
    }
)
OUTFLOW_KINDS = frozenset({"withdrawal", "internal_out", "fiat_withdrawal", "p2p_sell"})
INFLOW_KINDS = frozenset({"deposit", "internal_in", "fiat_deposit", "p2p_buy"})
TABLES = ("accounts", "logins", "security_events", "transactions", "alerts")


@dataclass(frozen=True, slots=True)
class RowRef:
    """Where a record came from, so evidence can point back at it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that broke the contract: skipped, or kept with the bad cell read as unknown
    (an `ip` that is no address; the reason says so)."""

    file: str
    line: int
    reason: str
    kept: bool = False  # the row's record was kept (RowKept)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class GeoHint:
    """Geo columns an exchange already resolved; they win over acctsec's own lookup."""

    country: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    asn: int | None = None
    as_org: str | None = None

    def is_empty(self) -> bool:
        return all(
            v is None
            for v in (self.country, self.city, self.lat, self.lon, self.asn, self.as_org)
        )


@dataclass(frozen=True, slots=True)
class Account:
    uid: str
    email: str | None = None
    phone: str | None = None
    created_at: datetime | None = None
    kyc_level: int | None = None
    kyc_country: str | None = None
    status: str | None = None
    restrictions: tuple[str, ...] = ()
    referrer_uid: str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    origin: RowRef | None = None


# Not frozen, unlike the other records: a frozen dataclass sets each field through
# object.__setattr__, which made reading an account with 100,000 sign-ins 0.2 s
# slower. Nothing assigns to a Login after it is built (and it was never hashable:
# `extra` is a mapping), so it is immutable by convention.
@dataclass(slots=True)
class Login:
    ts: datetime
    uid: str
    event: str
    ip: str | None = None
    user_agent: str | None = None
    device_id: str | None = None
    session_id: str | None = None
    mfa_method: str | None = None
    channel: str | None = None
    failure_reason: str | None = None
    geo: GeoHint | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    origin: RowRef | None = None

    @property
    def succeeded(self) -> bool:
        return self.event == "login_success"

    @property
    def failed(self) -> bool:
        return self.event in ("login_failure", "mfa_failure")


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    ts: datetime
    uid: str
    event: str
    ip: str | None = None
    device_id: str | None = None
    user_agent: str | None = None
    session_id: str | None = None
    detail: Mapping[str, Any] | str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    origin: RowRef | None = None

    def detail_value(self, key: str) -> Any:
        """A field of a JSON `detail`, or None when detail is text or lacks it."""
        if isinstance(self.detail, Mapping):
            return self.detail.get(key)
        return None


@dataclass(frozen=True, slots=True)
class Transaction:
    ts: datetime
    uid: str
    kind: str
    asset: str
    amount: Decimal
    tx_id: str | None = None
    network: str | None = None
    usd_value: Decimal | None = None
    address: str | None = None
    txhash: str | None = None
    counterparty_uid: str | None = None
    status: str | None = None
    ip: str | None = None
    device_id: str | None = None
    payment_method: str | None = None
    chargeback: bool | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    origin: RowRef | None = None

    @property
    def is_outflow(self) -> bool:
        return self.kind in OUTFLOW_KINDS

    @property
    def is_inflow(self) -> bool:
        return self.kind in INFLOW_KINDS

    @property
    def settled(self) -> bool:
        """Counts toward money moved: completed, pending, or of unknown status."""
        return self.status not in ("failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: str
    uid: str
    ts: datetime | None = None
    source: str | None = None
    kind: str | None = None
    note: str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    origin: RowRef | None = None


@dataclass(frozen=True, slots=True)
class AccountRecords:
    """Everything the source holds about one account, each list in time order."""

    account: Account
    logins: tuple[Login, ...] = ()
    security_events: tuple[SecurityEvent, ...] = ()
    transactions: tuple[Transaction, ...] = ()
    alerts: tuple[Alert, ...] = ()
    problems: tuple[RowProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyStats:
    """How one login attribute (an IP, a device id, …) behaves across all accounts."""

    events: int = 0
    accounts: int = 0
    successes: int = 0
    success_accounts: int = 0
    failures: int = 0
    failure_accounts: int = 0
    sample_uids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PopulationQuery:
    """The attribute values of one account whose population-wide figures are wanted."""

    ips: frozenset[str] = frozenset()
    devices: frozenset[str] = frozenset()
    sessions: frozenset[str] = frozenset()
    user_agents: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    # The account's own sign-ins, already read: counted from here, skipped in the scan.
    own_uid: str | None = None
    own_logins: tuple[Login, ...] = ()


@dataclass(frozen=True, slots=True)
class PopulationStats:
    """Population-wide figures for the values asked in a PopulationQuery."""

    total_logins: int = 0
    total_accounts: int = 0
    ips: Mapping[str, KeyStats] = field(default_factory=dict)
    devices: Mapping[str, KeyStats] = field(default_factory=dict)
    sessions: Mapping[str, KeyStats] = field(default_factory=dict)
    user_agents: Mapping[str, KeyStats] = field(default_factory=dict)
