"""API keys: a key is judged against its own history, not its owner's browser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from acctsec.core.report import Report
from acctsec_testkit import T0, Story, ids

HOME = "84.150.3.4"
BOT = "3.121.91.205"
DAY, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
PERMS = ["read", "trade", "withdraw"]


def trader(whitelist: list[str] | None = None, per_call: bool = False) -> Story:
    """An owner at home who runs a trading bot on AWS through an API key for months.
    `per_call`: the exchange logs each API session's own id instead of the key's."""
    s = Story()
    s.ip(HOME, "berlin")
    s.ip(BOT, "aws_fra")
    s.routine(30, HOME, "DEV")
    s.tx(T0 + DAY, "deposit", "60000", address="0x" + "1" * 40)
    s.event(T0 + 20 * DAY, "api_key_create", HOME, "DEV",
            {"key_id": "k1", "permissions": PERMS, "ip_whitelist": whitelist or []})
    for d in range(21, 120):
        s.login(T0 + d * DAY, BOT, None, session=f"s{d}" if per_call else "k1", ua="",
                channel="api")
    return s


def label(report: Report) -> str:
    return report.verdict.label


@pytest.mark.parametrize("per_call", [False, True])
def test_the_owners_bot_in_a_cloud_is_no_anonymiser(per_call: bool) -> None:
    report = trader(per_call=per_call).investigate()
    assert label(report) == "clear"
    assert "anonymising_network" not in ids(report)


def test_a_bot_on_an_address_its_key_whitelists_is_the_owners() -> None:
    report = trader(whitelist=[BOT]).investigate()
    assert "whitelisted_api_address" in ids(report)
    assert label(report) == "clear" and report.verdict.risk < 30


@pytest.mark.parametrize("per_call", [False, True])
def test_a_key_called_from_a_new_network_that_drains_the_account_is_a_leaked_key(
        per_call: bool) -> None:
    s = trader(per_call=per_call)
    thief = s.ip("159.89.1.1", "do_ams")
    t = T0 + 121 * DAY
    session = "s999" if per_call else "k1"
    for i in range(4):
        s.login(t + i * 3 * M, thief, None, session=session, ua="", channel="api")
    s.event(t + 10 * M, "withdrawal_address_add", thief, None, {"address": "T" + "9" * 33},
            session=session)
    s.tx(t + 25 * M, "withdrawal", "55000", address="T" + "9" * 33, ip=thief)
    report = s.investigate()
    assert label(report) == "takeover"
    assert report.verdict.attack == "leaked_api_key"
    assert "api_key_moved" in ids(report)
    assert "revoke_api_keys" in {a.action for a in report.actions}
    # the thief's own calls do not make its address one the account "used before"
    assert "known_network" not in ids(report)


def drained_by_a_call_from(ip: str, place: str) -> Report:
    """The trader's key called once from `ip`, which empties the account minutes later."""
    s = trader()
    thief = s.ip(ip, place)
    t = T0 + 121 * DAY
    s.login(t, thief, None, session="k1", ua="", channel="api")
    s.tx(t + 15 * M, "withdrawal", "55000", address="T" + "8" * 33, ip=thief)
    return s.investigate()


def test_a_key_moved_to_another_cloud_in_its_home_country_is_still_caught() -> None:
    report = drained_by_a_call_from("51.75.1.1", "ovh_fra")
    assert label(report) == "takeover", report.verdict


def test_a_key_called_from_another_address_of_the_bots_own_cloud_is_still_caught() -> None:
    """The owner's bot ran from one AWS address for months; the thief rents another AWS
    machine. Same network, so only the address says the key moved."""
    report = drained_by_a_call_from("3.120.0.9", "aws_fra")
    moved = next(x for x in report.signals if x.id == "api_key_moved")
    assert moved.weight == 1.5
    assert report.verdict.label == "takeover"


def test_a_key_moving_to_a_second_whitelisted_server_is_the_owners_move() -> None:
    second = "3.120.0.10"
    s = trader(whitelist=[BOT, second])
    s.ip(second, "aws_fra")
    t = T0 + 121 * DAY
    for d in range(5):
        s.login(t + d * DAY, second, None, session="k1", ua="", channel="api")
    s.tx(t + 4 * DAY, "withdrawal", "20000", address="T" + "5" * 33, ip=second)
    report = s.investigate()
    assert "api_key_moved" not in ids(report)
    assert "whitelisted_api_address" in ids(report)
    assert label(report) == "clear"


def test_ipv4_mapped_addresses_are_their_ipv4_blocks() -> None:
    from acctsec.core.access import _block

    assert _block("::ffff:3.121.91.205") == _block("3.121.91.205") == "3.121.91.0/24"
    assert _block("2a01:4f8:1c1c:abcd::1") == "2a01:4f8:1c1c::/48"


@pytest.mark.parametrize("created_after, owners", [(18 * M, True), (3 * H, False)])
def test_a_new_keys_calls_logged_minutes_before_its_creation_are_still_whitelisted(
        created_after: timedelta, owners: bool) -> None:
    """The bot moves to a new server with a new key whose whitelist names it; the
    gateway's clock logs its first calls 18 minutes before the account's records the
    key (two systems, two clocks). Hours apart is no clock's drift."""
    new = "3.120.0.10"
    s = trader(whitelist=[BOT])
    s.ip(new, "ovh_fra")
    t = T0 + 121 * DAY
    for d in range(5):
        s.login(t + d * DAY, new, None, session="k2", ua="", channel="api")
    s.event(t + created_after, "api_key_create", HOME, "DEV",
            {"key_id": "k2", "permissions": ["read", "trade"], "ip_whitelist": [new]})
    assert ("whitelisted_api_address" in {x.id for x in s.investigate().signals
                                          if x.evidence.get("actor", "").startswith("api@3.120")}
            ) is owners
