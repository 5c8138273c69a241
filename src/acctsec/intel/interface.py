"""The IpIntel interface: what acctsec knows about one IP address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

# Network kinds, from most to least anonymising.
NETWORK_KINDS = ("tor", "vpn", "hosting", "mobile", "residential", "private", "unknown")


@dataclass(frozen=True, slots=True)
class IpInfo:
    """Geolocation and network owner of one IP, with where each fact came from."""

    ip: str
    country: str | None = None  # ISO 3166-1 alpha-2
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_km: float | None = None  # how far off the position may be
    asn: int | None = None
    as_org: str | None = None
    network_kind: str = "unknown"  # one of NETWORK_KINDS
    network_reason: str | None = None  # why network_kind was chosen, for the evidence
    sources: tuple[str, ...] = ()  # e.g. ("logs", "dbip-city-lite", "geoip2fast-asn")
    not_checked: tuple[str, ...] = ()  # e.g. ("rdap: offline",)

    @property
    def anonymising(self) -> bool:
        return self.network_kind in ("tor", "vpn", "hosting")


class IpIntel(Protocol):
    """Looks up IPs. Never raises for a bad or unknown IP: it returns what it knows."""

    def lookup(self, ip: str) -> IpInfo: ...

    def lookup_all(self, ips: Iterable[str]) -> Mapping[str, IpInfo]: ...
