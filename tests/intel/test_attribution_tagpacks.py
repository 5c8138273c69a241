"""Attribution from TagPacks (header inheritance), OFAC lists and Forta CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec.chain.report import attribute_address
from acctsec.config import Settings
from acctsec.errors import InputError
from acctsec.intel.attribution import build_index

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _real(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent: ../shared is only beside a developer checkout")
    return path


def test_tags_inherit_header_fields(tmp_path: Path) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(
        "title: T\ncategory: exchange\nactor: acme\nconfidence: service_data\ncurrency: ETH\n"
        "tags:\n- address: '0xAbCdEf0000000000000000000000000000000001'\n  label: Acme hot\n"
        "- address: '0xabcdef0000000000000000000000000000000002'\n  category: mixing_service\n"
        "  actor: mixy\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  currency: BTC\n"
        "  abuse: scam\n",
        encoding="utf-8")
    index = build_index(tagpacks=[pack])
    hot = index.lookup("0xabcdef0000000000000000000000000000000001", "evm")
    assert hot and (hot.category, hot.entity, hot.label, hot.confidence) == (
        "exchange", "acme", "Acme hot", "service_data")
    mixer = index.lookup("0xABCDEF0000000000000000000000000000000002", "evm")
    assert mixer and (mixer.category, mixer.entity) == ("mixer", "mixy")
    scam = index.lookup("1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "btc")
    assert scam and scam.category == "scam"
    assert index.lookup("1boatslrhtknngkdxeeobr76b53lettpyt", "btc") is None  # base58 keeps case


def test_a_broken_tagpack_is_one_clear_error(tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text("tags: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.yaml"):
        build_index(tagpacks=[pack])
    with pytest.raises(InputError, match="does not exist"):
        build_index(ofac=[tmp_path / "missing.json"])


def test_real_tagpacks_ofac_and_forta() -> None:
    settings = Settings(tagpacks=(_real("tagpacks"),), ofac=(_real("ofac"),),
                        forta=(_real("forta"),), data_dir=Path("/nonexistent-acctsec"))
    binance = attribute_address(settings, "0x28C6c06298d514Db089934071355E5743bf21d60", "ETH")
    assert binance and binance.category == "exchange" and binance.entity == "binance"
    tornado = attribute_address(settings, "0x8589427373D6D84E98730D7795D8f6f8731FDA16", "BSC")
    assert tornado and tornado.category == "sanctioned"
    ofac_only = attribute_address(settings, "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1", "ETH")
    assert ofac_only and ofac_only.category == "sanctioned"
    hack = attribute_address(settings, "1HVi6re6zDr5c5v9Sk2mmL9u7svEHfiBt4", "BTC")
    assert hack and hack.category == "hack"
    phish = attribute_address(settings, "0x80d7bb18521acbef32d7906502ebe94928690e93", "ETH")
    assert phish and phish.category == "scam" and "Phishing" in phish.entity
    assert attribute_address(settings, "0x" + "12" * 20, "ETH") is None
    with pytest.raises(InputError, match="unknown network"):
        attribute_address(settings, "0x" + "12" * 20, "NOPE")


def test_a_shared_payout_address_is_attributed_on_the_network_it_was_paid_on() -> None:
    """Binance's hot wallet, which three accounts pay: links give it lower-cased, the
    records as written; without attribution data nothing is said of payouts."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from acctsec.model import Account, AccountRecords, Transaction
    from acctsec.service import deposit_attribution

    binance = "0x28C6c06298d514Db089934071355E5743bf21d60"
    paid = Transaction(ts=datetime(2026, 9, 1, tzinfo=UTC), uid="a", kind="withdrawal",
                       asset="USDT", amount=Decimal(5), network="ETH", address=binance)
    records = AccountRecords(Account("a"), transactions=(paid,))
    settings = Settings(tagpacks=(_real("tagpacks"),), data_dir=Path("/nonexistent-acctsec"))
    labels, unchecked = deposit_attribution(settings, records, [binance.lower()])
    assert labels == {binance.lower(): "exchange"} and not unchecked
    bare = Settings(data_dir=Path("/nonexistent-acctsec"))
    assert deposit_attribution(bare, records, [binance.lower()]) == ({}, [])
