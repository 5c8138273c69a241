"""Typed values of the link graph: accounts, shared attribute values, edges, a cluster."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from acctsec.core.signals import NotChecked

# What can join two accounts. Shared-value links come from one attribute value
# used by several accounts; direct links name the other account themselves.
SHARED_VIAS = (
    "device_id",
    "ip",
    "email",
    "phone",
    "withdrawal_address",
    "deposit_address",
)
DIRECT_VIAS = (
    "email_lookalike",
    "referral",
    "internal_transfer",
    "p2p",
    "address_flow",
)
VIAS = SHARED_VIAS + DIRECT_VIAS


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """The accounts-table row of a linked account, and the hints an analyst wants first."""

    uid: str
    email: str | None = None
    phone: str | None = None
    created_at: datetime | None = None
    kyc_country: str | None = None
    status: str | None = None
    referrer_uid: str | None = None
    # (ts, event) of protection changes (password reset, e-mail change, 2FA off …)
    security_changes: tuple[tuple[datetime, str], ...] = ()
    alerts: tuple[tuple[datetime | None, str], ...] = ()  # (ts, "source: kind")


@dataclass(frozen=True, slots=True)
class Member:
    """One account's use of a shared value."""

    uid: str
    first_seen: datetime | None
    last_seen: datetime | None
    events: int
    role: str  # the via under which this account used it (withdrawal_address, ip, …)


@dataclass(frozen=True, slots=True)
class SharedValue:
    """One device id, IP, e-mail, phone or address used by two or more accounts."""

    family: str  # device_id, ip, email, phone, address
    value: str
    accounts: int  # how many distinct accounts use it in the whole source
    members: tuple[Member, ...]
    network: str | None = None  # for IPs: mobile, university, vpn, hosting, private, …
    network_reason: str | None = None

    def member(self, uid: str) -> Member | None:
        for m in self.members:
            if m.uid == uid:
                return m
        return None

    def uids(self) -> frozenset[str]:
        return frozenset(m.uid for m in self.members)


@dataclass(frozen=True, slots=True)
class Hub:
    """A value used by too many accounts to join them (carrier NAT, exchange hot wallet)."""

    family: str
    value: str
    accounts: int
    network: str | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """Two accounts joined by one thing, with when it was seen and how much it counts.

    For directed links (referral, transfer, address flow) `a` is the side money or
    the referral comes from and `b` the side it goes to.
    """

    a: str
    b: str
    via: str
    value: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    weight: float
    accounts_sharing: int = 2
    detail: Mapping[str, Any] = field(default_factory=dict)

    def other(self, uid: str) -> str:
        return self.b if uid == self.a else self.a

    def touches(self, uid: str) -> bool:
        return uid in (self.a, self.b)


@dataclass(frozen=True, slots=True)
class LinkContext:
    """The cluster around one account: who is linked to it, through what, and since when."""

    uid: str
    depth: int
    accounts: Mapping[str, AccountInfo]
    edges: tuple[Edge, ...]
    shared: tuple[SharedValue, ...] = ()
    hubs: tuple[Hub, ...] = ()
    referral_chain: tuple[str, ...] = ()  # uid, its referrer, that one's referrer, …
    referral_cycle: bool = False
    not_checked: tuple[NotChecked, ...] = ()
    total_accounts: int | None = None

    def edges_of(self, uid: str) -> Iterator[Edge]:
        return iter([e for e in self.edges if e.a == uid or e.b == uid])

    def neighbours(self, uid: str, min_weight: float = 0.0) -> dict[str, list[Edge]]:
        """Each account linked to `uid`, with the edges that join them."""
        out: dict[str, list[Edge]] = {}
        for edge in self.edges:  # edges_of and other, without a call per edge
            if edge.weight >= min_weight:
                if edge.a == uid:
                    out.setdefault(edge.b, []).append(edge)
                elif edge.b == uid:
                    out.setdefault(edge.a, []).append(edge)
        return out

    def strength(self, uid: str, other: str) -> float:
        """Combined weight of the links between two accounts (a shared value counts once)."""
        return sum(e.weight for e in self.edges if e.touches(uid) and e.touches(other))

    def shared_by(self, family: str, uid: str | None = None) -> list[SharedValue]:
        who = uid or self.uid
        return [s for s in self.shared if s.family == family and s.member(who) is not None]


def money(value: Any) -> Decimal | None:
    """A DuckDB DECIMAL or text as Decimal, None when absent."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
