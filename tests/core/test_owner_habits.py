"""Owners' own habits that look like a takeover's first steps: a new phone set up on the
home Wi-Fi, a phone carried abroad, a VPN switched on mid-session. Each test has its
attacker twin, which must still be a takeover."""

from __future__ import annotations

from datetime import datetime, timedelta

from acctsec.core.report import Report
from acctsec.model import PopulationStats
from acctsec_testkit import HOME, IPHONE, T0, Story, ids, owner

DAY, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def _new_phone_resets_over_sms(ip: str, place: str) -> Story:
    """A phone never seen before signs in with an SMS code, resets the second factor and
    moves the phone number to itself; the next day it pays the wallet that funded the
    account."""
    s = owner()
    s.ip(ip, place)
    t = T0 + 61 * DAY
    s.login(t, ip, "PHONE", mfa_method="sms", ua=IPHONE)
    s.event(t + 5 * M, "mfa_reset", ip, "PHONE", {"method": "sms"})
    s.event(t + 9 * M, "phone_change", ip, "PHONE", {"old": "+491511", "new": "+491522"})
    s.tx(t + DAY, "withdrawal", "900", address="0x" + "1" * 40, ip=ip, device="PHONE")
    return s


def test_a_new_phone_reset_over_sms_on_the_home_connection_is_no_sim_swap() -> None:
    report = _new_phone_resets_over_sms(HOME, "berlin").investigate()
    assert "sms_reset_new_device" not in ids(report)
    assert report.verdict.label != "takeover"


def test_the_same_reset_from_a_network_the_account_never_used_is_a_sim_swap() -> None:
    report = _new_phone_resets_over_sms("176.0.9.9", "berlin_mobile").investigate()
    assert "sms_reset_new_device" in ids(report)
    assert (report.verdict.label, report.verdict.attack) == ("takeover", "sim_swap")


def test_an_address_the_intruders_laptop_used_an_hour_before_is_no_home() -> None:
    """The swapper's laptop signs in from their network 70 minutes before their phone
    resets the second factor over SMS from the same address: one visit is no home."""
    s = owner()
    s.ip("176.0.9.9", "berlin_mobile")
    s.login(T0 + 61 * DAY - 70 * M, "176.0.9.9", "LAPTOP", mfa_method="sms")
    s.login(T0 + 61 * DAY, "176.0.9.9", "PHONE", mfa_method="sms", ua=IPHONE)
    s.event(T0 + 61 * DAY + 5 * M, "mfa_reset", "176.0.9.9", "PHONE", {"method": "sms"})
    s.event(T0 + 61 * DAY + 9 * M, "phone_change", "176.0.9.9", "PHONE",
            {"old": "+491511", "new": "+491522"})
    s.tx(T0 + 62 * DAY, "withdrawal", "900", address="0x" + "1" * 40, ip="176.0.9.9",
         device="PHONE")
    assert "sms_reset_new_device" in ids(s.investigate())


BANGKOK = "171.97.1.1"


def _session_carried_abroad(days_there: int, owner_at_home: bool = False,
                            paid: str = "800") -> Story:
    """The owner's phone keeps its session (no new sign-in) from Lisbon for
    `days_there` days; on the first, it whitelists and pays `paid` to a new address."""
    s = owner()
    s.ip("85.240.1.1", "lisbon")
    t = T0 + 60 * DAY + 6 * H
    s.login(t, HOME, "DEV", session="trip")
    there = t + 14 * H
    for d in range(days_there):
        s.login(there + d * DAY, "85.240.1.1", "DEV", event="session_refresh", session="trip")
        if owner_at_home:
            s.login(there + d * DAY + 2 * H, HOME, "DEV", event="session_refresh",
                    session="trip")
    s.event(there + 2 * H, "withdrawal_address_add", "85.240.1.1", "DEV",
            {"address": "0x" + "c" * 40}, session="trip")
    s.tx(there + 2 * H + 3 * M, "withdrawal", paid, address="0x" + "c" * 40, ip="85.240.1.1",
         device="DEV")
    return s


def test_a_session_that_stays_in_use_abroad_for_days_is_a_traveller() -> None:
    report = _session_carried_abroad(days_there=6).investigate()
    assert "travelled_with_session" in ids(report)
    assert report.verdict.label != "takeover"


def test_a_session_replayed_abroad_in_one_sitting_is_a_stolen_session() -> None:
    report = _session_carried_abroad(days_there=1).investigate()
    assert "travelled_with_session" not in ids(report)
    assert report.verdict.label == "takeover"


def test_a_stolen_session_kept_alive_for_days_after_draining_the_account_is_stolen() -> None:
    report = _session_carried_abroad(days_there=6, paid="9500").investigate()
    assert "travelled_with_session" not in ids(report)
    assert report.verdict.label == "takeover"


def test_a_session_used_abroad_while_the_owner_is_still_at_home_is_stolen() -> None:
    report = _session_carried_abroad(days_there=6, owner_at_home=True).investigate()
    assert "travelled_with_session" not in ids(report)
    assert report.verdict.label == "takeover"


VPN = "185.94.1.1"


def _session_into_a_vpn(signs_in_through_it: int) -> Story:
    """Sessions opened at home and, later, refreshed through a VPN exit in Frankfurt;
    before that the owner signed in through that VPN `signs_in_through_it` times."""
    s = Story()
    s.ip(HOME, "lisbon")
    s.ip(VPN, "m247_fra")
    start = datetime(2026, 8, 1, 8, 0, tzinfo=T0.tzinfo)
    for d in range(40):
        s.login(start + d * DAY, HOME, "DEV", session=f"s{d}")
    for n in range(signs_in_through_it):
        s.login(start + (40 + n) * DAY, VPN, "DEV", session=f"v{n}")
    t = start + 50 * DAY
    s.login(t, HOME, "DEV", session="later")
    s.login(t + 2 * H, VPN, "DEV", event="session_refresh", session="later")
    return s


def test_a_session_switched_onto_the_owners_own_vpn_is_no_hijack() -> None:
    assert "session_hijack" not in ids(_session_into_a_vpn(signs_in_through_it=3).investigate())


def test_a_session_turning_up_in_a_vpn_the_owner_never_signed_in_through_is_a_hijack() -> None:
    assert "session_hijack" in ids(_session_into_a_vpn(signs_in_through_it=0).investigate())


def _vpn_habit(every: int | None) -> Story:
    """The owner signs in daily, every `every`-th day through a VPN exit abroad (never
    when None); then a session opened at home is refreshed through that exit."""
    s = Story()
    s.ip(HOME, "lisbon")
    s.ip(VPN, "m247_fra")
    for d in range(40):
        through = every is not None and d % every == 0
        s.login(T0 + d * DAY, VPN if through else HOME, "DEV", session=f"s{d}")
    t = T0 + 41 * DAY
    s.login(t, HOME, "DEV", session="later")
    s.login(t + 2 * H, VPN, "DEV", event="session_refresh", session="later")
    return s


def test_an_owner_who_often_goes_through_vpns_keeps_their_sessions() -> None:
    """A fifth or more of the account's accesses came through VPN exits: a session
    refreshed through one abroad is the owner's VPN again, not an actor of its own."""
    assert "session_moved" not in ids(_vpn_habit(every=3).investigate())
    assert "session_moved" in ids(_vpn_habit(every=None).investigate())


def _card_cashed_out_through_a_vpn(history_days: int) -> Report:
    """`history_days` days of sign-ins from home, then through a VPN exit abroad: a card
    deposit, a new address, and the money out to it within the hour; the card issuer
    later charged the deposit back. Decided with the fraud evidence, as `investigate`
    does."""
    from dataclasses import replace

    from acctsec.core.fraud import fraud_signals
    from acctsec.core.investigation import Inputs, run
    from acctsec.link.model import LinkContext

    s = Story()
    s.ip(HOME, "lisbon")
    s.ip(VPN, "m247_fra")
    for d in range(history_days):
        s.login(T0 + d * DAY, HOME, "DEV", session=f"s{d}")
    t = T0 + (history_days + 14) * DAY
    s.login(t, VPN, "NEWDEV", session="cash")
    s.tx(t + 5 * M, "fiat_deposit", "1500", asset="EUR", payment_method="card",
         chargeback=True)
    s.event(t + 10 * M, "withdrawal_address_add", VPN, "NEWDEV", {"address": "bc1q" + "9" * 38})
    s.tx(t + 20 * M, "withdrawal", "1450", asset="BTC", address="bc1q" + "9" * 38, ip=VPN,
         device="NEWDEV", usd="1450")
    records = s.records()
    records = replace(records, account=replace(records.account, created_at=T0 - H))
    fraud = fraud_signals(records, LinkContext(s.uid, 1, {}, ()))
    return run(Inputs(records=records, ip_info=s.infos, population=PopulationStats(),
                      generated_at=t + 60 * DAY, extra_signals=fraud))


def test_a_charged_back_card_cashed_out_from_a_new_account_is_the_holders_fraud() -> None:
    """One sign-in of history: nothing tells an intruder from the holder, and the
    charge-back says whose scheme it was."""
    report = _card_cashed_out_through_a_vpn(history_days=1)
    assert "chargeback_fraud" in ids(report)
    assert report.verdict.label == "fraud"


def test_the_same_on_an_account_with_months_of_history_is_a_takeover() -> None:
    """An intruder buying coins with the owner's saved card and withdrawing them: the
    owner disputes the payment."""
    report = _card_cashed_out_through_a_vpn(history_days=60)
    assert "chargeback_fraud" in ids(report)
    assert report.verdict.label == "takeover"


def test_a_thiefs_own_replays_do_not_make_the_account_a_vpn_habit() -> None:
    """Nine sign-ins from home, never a VPN; the thief replays the session three times
    from one data centre, then drains the account from another."""
    s = Story()
    s.ip(HOME, "lisbon")
    do, aws = s.ip("159.89.1.1", "do_ams"), s.ip("3.120.9.9", "aws_fra")
    for d in range(9):
        s.login(T0 + d * DAY, HOME, "DEV", session=f"s{d}")
    s.tx(T0 + DAY, "deposit", "10000", address="0x" + "1" * 40)
    t = T0 + 10 * DAY
    s.login(t, HOME, "DEV", session="stolen")
    for i in range(3):
        s.login(t + (2 + i) * H, do, "DEV", event="session_refresh", session="stolen")
    s.login(t + 6 * H, aws, "DEV", event="session_refresh", session="stolen")
    s.event(t + 6 * H + 2 * M, "withdrawal_address_add", aws, "DEV",
            {"address": "0x" + "e" * 40}, session="stolen")
    s.tx(t + 6 * H + 6 * M, "withdrawal", "9500", address="0x" + "e" * 40, ip=aws, device="DEV")
    assert s.investigate().verdict.label == "takeover"


def _password_reset_by_a_new_browser(owner_gets_back_in: bool) -> Story:
    """On the owner's own (carrier) address, a new browser resets the password over
    e-mail and pays a new address; two days later the owner's phone fails to sign in
    three times, and (or not) gets in with the new password."""
    s = owner()
    t = T0 + 61 * DAY
    s.event(t, "password_reset", HOME, "WEB", {"channel": "email"})
    s.login(t + 4 * M, HOME, "WEB")
    s.event(t + 12 * M, "withdrawal_address_add", HOME, "WEB", {"address": "0x" + "d" * 40})
    s.tx(t + 16 * M, "withdrawal", "1200", address="0x" + "d" * 40, ip=HOME, device="WEB")
    for i in range(3):
        s.login(t + 2 * DAY + i * M, HOME, "DEV", event="login_failure",
                failure_reason="bad_password")
    if owner_gets_back_in:
        s.login(t + 2 * DAY + 5 * M, HOME, "DEV")
    return s


def test_an_owner_locked_out_after_someone_elses_password_reset_marks_a_takeover() -> None:
    report = _password_reset_by_a_new_browser(owner_gets_back_in=False).investigate()
    assert "owner_locked_out" in ids(report)
    assert report.verdict.label == "takeover"


def test_an_owner_who_reset_the_password_and_then_types_the_new_one_is_not_locked_out() -> None:
    report = _password_reset_by_a_new_browser(owner_gets_back_in=True).investigate()
    assert "owner_locked_out" not in ids(report)
    assert report.verdict.label != "takeover"
