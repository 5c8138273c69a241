"""The compact ASN index: built once into the cache, reused, and faithful to geoip2fast's data."""

from __future__ import annotations

import gzip
import ipaddress
import pickle
import random
from pathlib import Path

import pytest

from acctsec.config import Settings
from acctsec.intel import asnindex
from acctsec.intel.asnindex import geoip2fast_data_path, index_file_name, open_index
from acctsec.intel.ip import OfflineIpIntel


def test_index_is_built_into_the_cache_dir_once_and_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = open_index(tmp_path)
    built = tmp_path / index_file_name(geoip2fast_data_path())
    assert built.is_file() and built.stat().st_size > 1_000_000
    assert index.size[0] > 400_000 and index.size[1] > 100_000

    def no_rebuild(source: Path) -> bytes:
        raise AssertionError("the index was rebuilt although the cache held it")

    monkeypatch.setattr(asnindex, "build_index_bytes", no_rebuild)
    again = open_index(tmp_path)
    hit = again.lookup(int(ipaddress.ip_address("8.8.8.8")), 4)
    assert hit is not None and hit.org == "GOOGLE"
    assert [p.name for p in tmp_path.iterdir()] == [built.name]  # no temp files left


def test_no_cache_builds_in_memory_and_writes_nothing(tmp_path: Path) -> None:
    intel = OfflineIpIntel(Settings(cache_dir=tmp_path / "cache", no_cache=True))
    assert intel.lookup("8.8.8.8").as_org == "GOOGLE"
    assert not (tmp_path / "cache").exists()


def test_a_damaged_index_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / index_file_name(geoip2fast_data_path())).write_bytes(b"garbage" * 100)
    with pytest.raises(ValueError, match="not an acctsec ASN index"):
        open_index(tmp_path)


def _original_networks() -> tuple[list[str], list[tuple[int, int, int]]]:
    with gzip.open(geoip2fast_data_path(), "rb") as fh:
        _version, _info, _total, db = pickle.load(fh)
    flat = [
        entry
        for chunk in zip(db[5], db[7], db[9], strict=True)
        for entry in zip(*chunk, strict=True)
    ]
    return db[3], flat


def test_every_answer_matches_geoip2fast_and_lies_within_its_network(intel_cache: Path) -> None:
    names, networks = _original_networks()
    index = open_index(intel_cache)
    rng = random.Random(7)
    checked = 0
    for start, org_id, prefix in rng.sample(networks, 3000):
        version = 4 if start < 2**32 else 6
        size = 2 ** ((32 if version == 4 else 128) - prefix)
        value = start + rng.randrange(size)
        hit = index.lookup(value, version)
        if names[org_id] in ("<unknown>", "IANA.ORG", ""):
            assert hit is None
            continue
        assert hit is not None and hit.org == names[org_id]
        network = ipaddress.ip_network(hit.cidr)
        assert ipaddress.ip_address(value) in network
        checked += 1
    assert checked > 2000


def test_addresses_in_gaps_between_networks_have_no_owner(intel_cache: Path) -> None:
    index = open_index(intel_cache)
    # 0.0.0.0/8 and the end of IPv4 space are not announced by anyone.
    assert index.lookup(int(ipaddress.ip_address("0.1.2.3")), 4) is None
    assert index.lookup(int(ipaddress.ip_address("255.255.255.254")), 4) is None
    assert index.lookup(int(ipaddress.ip_address("ffff::1")), 6) is None
