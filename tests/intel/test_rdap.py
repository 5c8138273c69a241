"""RDAP: parsing ipwhois's documented result, caching, and every failure becoming not_checked."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from acctsec.config import Settings
from acctsec.intel.ip import OfflineIpIntel
from acctsec.intel.rdap import RdapInfo, parse_rdap, rdap_lookup

# The shape of IPWhois.lookup_rdap() as documented (ipwhois docs, "RDAP.lookup() results").
RESULT: Mapping[str, Any] = {
    "query": "8.8.8.8",
    "asn": "15169",
    "asn_cidr": "8.8.8.0/24",
    "asn_country_code": "US",
    "asn_date": "1992-12-01",
    "asn_description": "GOOGLE, US",
    "asn_registry": "arin",
    "entities": ["ABUSE5250-ARIN", "GOGL"],
    "network": {
        "cidr": "8.8.8.0/24", "country": None, "end_address": "8.8.8.255",
        "handle": "NET-8-8-8-0-2", "ip_version": "v4", "name": "GOGL",
        "parent_handle": "NET-8-0-0-0-0", "start_address": "8.8.8.0", "type": "ALLOCATION",
    },
    "objects": {
        "ABUSE5250-ARIN": {
            "contact": {"email": [{"type": None, "value": "network-abuse@google.com"}],
                        "kind": "group", "name": "Abuse"},
            "handle": "ABUSE5250-ARIN", "roles": ["abuse"],
        },
        "GOGL": {"contact": {"name": "Google LLC", "email": None}, "roles": ["registrant"]},
    },
    "raw": None,
}


def _online(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(cache_dir=tmp_path, offline=False, **kw)


def test_parse_documented_result() -> None:
    info = parse_rdap(RESULT)
    assert info == RdapInfo(
        asn=15169, asn_cidr="8.8.8.0/24", asn_country="US", asn_description="GOOGLE, US",
        asn_registry="arin", network_name="GOGL", network_handle="NET-8-8-8-0-2",
        network_cidr="8.8.8.0/24", network_country=None,
        abuse_emails=("network-abuse@google.com",),
    )


def test_parse_tolerates_missing_and_odd_fields() -> None:
    info = parse_rdap({"asn": "NA", "network": "oops", "objects": {"x": {"roles": None}}})
    assert info == RdapInfo()
    assert parse_rdap({"asn": "AS13335 209242"}).asn == 13335


def test_offline_mode_never_calls_the_network(tmp_path: Path) -> None:
    def boom(ip: str, timeout: float) -> Mapping[str, Any]:
        raise AssertionError("network used in offline mode")

    outcome = rdap_lookup("8.8.8.8", Settings(cache_dir=tmp_path, offline=True), fetch=boom)
    assert outcome.problem == "rdap: offline mode" and outcome.info is None


def test_answer_is_cached_on_disk_and_reused(tmp_path: Path) -> None:
    calls: list[str] = []

    def fetch(ip: str, timeout: float) -> Mapping[str, Any]:
        calls.append(ip)
        return RESULT

    first = rdap_lookup("8.8.8.8", _online(tmp_path), fetch=fetch)
    second = rdap_lookup("8.8.8.8", _online(tmp_path), fetch=fetch)
    assert calls == ["8.8.8.8"]
    assert first.info == second.info and second.cached and not first.cached
    assert list((tmp_path / "rdap").glob("*.json"))


def test_damaged_cache_entry_is_refetched(tmp_path: Path) -> None:
    (tmp_path / "rdap").mkdir()
    (tmp_path / "rdap" / "8.8.8.8.json").write_text("{not json")
    outcome = rdap_lookup("8.8.8.8", _online(tmp_path), fetch=lambda ip, t: RESULT)
    assert outcome.info is not None and not outcome.cached


def test_hanging_network_becomes_a_timeout_entry(tmp_path: Path) -> None:
    def hang(ip: str, timeout: float) -> Mapping[str, Any]:
        time.sleep(30)
        return RESULT

    started = time.monotonic()
    outcome = rdap_lookup("8.8.8.8", _online(tmp_path, rdap_timeout_s=0.3), fetch=hang)
    assert time.monotonic() - started < 2
    assert outcome.problem == "rdap: timeout after 0.3 s"


def test_socket_timeout_is_reported_as_timeout(tmp_path: Path) -> None:
    def slow(ip: str, timeout: float) -> Mapping[str, Any]:
        raise TimeoutError("timed out")

    outcome = rdap_lookup("8.8.8.8", _online(tmp_path, rdap_timeout_s=5), fetch=slow)
    assert outcome.problem == "rdap: timeout after 5 s"


def test_real_ipwhois_against_a_closed_local_port_fails_cleanly(tmp_path: Path) -> None:
    from ipwhois import IPWhois

    closed = "http://127.0.0.1:9"  # discard port: nothing listens, connection refused
    proxies = urllib.request.ProxyHandler({"http": closed, "https": closed})
    opener = urllib.request.build_opener(proxies)

    def via_closed_port(ip: str, timeout: float) -> Mapping[str, Any]:
        whois = IPWhois(ip, timeout=1, proxy_opener=opener)
        return whois.lookup_rdap(asn_methods=["http"], retry_count=0, rate_limit_timeout=0)

    started = time.monotonic()
    outcome = rdap_lookup("8.8.8.8", _online(tmp_path, rdap_timeout_s=3), fetch=via_closed_port)
    assert time.monotonic() - started < 4
    assert outcome.info is None
    assert outcome.problem is not None and outcome.problem.startswith("rdap: ")


def test_intel_records_rdap_failure_and_skips_further_calls(tmp_path: Path) -> None:
    calls: list[str] = []

    def refused(ip: str, timeout: float) -> Mapping[str, Any]:
        calls.append(ip)
        raise ConnectionRefusedError(111, "Connection refused")

    intel = OfflineIpIntel(_online(tmp_path, rdap_timeout_s=1), rdap_fetch=refused)
    first = intel.lookup("8.8.8.8")
    second = intel.lookup("1.1.1.1")
    assert calls == ["8.8.8.8"]
    assert any(n.startswith("rdap: ConnectionRefusedError") for n in first.not_checked)
    assert any(n.startswith("rdap: skipped after an earlier failure") for n in second.not_checked)
    assert first.as_org == "GOOGLE"  # the offline facts are still there


def test_rdap_fills_the_as_number_the_offline_data_lacks(tmp_path: Path) -> None:
    answer = {**RESULT, "asn": "64500", "asn_description": "EXAMPLE-NET"}
    intel = OfflineIpIntel(_online(tmp_path), rdap_fetch=lambda ip, t: answer)
    info = intel.lookup("5.1.2.3")  # geoip2fast names this network but has no AS number
    assert info.asn == 64500 and "asn:rdap" in info.sources
    assert info.as_org == "Private Joint Stock Company datagroup"  # offline name kept
    google = intel.lookup("8.8.8.8")  # the offline table knows AS15169: RDAP does not override
    assert google.asn == 15169 and "asn:rdap" not in google.sources
