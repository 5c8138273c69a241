"""Attacks that hide in the owner's own traces, and owners' habits that look like attacks."""

from __future__ import annotations

from datetime import datetime, timedelta

from acctsec.core.report import Report
from acctsec.model import KeyStats
from acctsec_testkit import CHROME, HOME, T0, Story, ids, owner

DAY, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def test_attacker_replaying_the_owners_device_id_from_a_data_centre_abroad() -> None:
    s = owner()
    evil = s.ip("159.89.1.1", "do_ams")
    t = T0 + 61 * DAY
    s.login(t, evil, "DEV")
    s.event(t + 2 * M, "email_change", evil, "DEV", {"old": "a@x.io", "new": "b@y.io"})
    s.event(t + 3 * M, "withdrawal_whitelist_off", evil, "DEV")
    s.tx(t + 9 * M, "withdrawal", "9800", address="0x" + "2" * 40, ip=evil, device="DEV")
    report = s.investigate()
    assert "known_device_elsewhere" in ids(report)
    assert report.verdict.label == "takeover"


def test_leaked_api_key_drain_with_nothing_logged() -> None:
    s = owner()
    s.event(T0 + 5 * DAY, "api_key_create", HOME, "DEV",
            {"key_id": "k9", "permissions": ["read", "trade", "withdraw"]})
    s.tx(T0 + 70 * DAY, "withdrawal", "9200", address="0x" + "3" * 40)
    report = s.investigate()
    assert "withdrawal_without_sign_in" in ids(report)
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "leaked_api_key"
    assert "revoke_api_keys" in {a.action for a in report.actions}


def test_stuffing_success_counts_toward_the_verdict() -> None:
    s = owner()
    proxy = s.ip("102.89.2.2", "lagos")
    s.population[proxy] = KeyStats(events=40, accounts=9, successes=1, success_accounts=1,
                                   failures=39, failure_accounts=9)
    t = T0 + 61 * DAY
    s.login(t, proxy, "dev-x", event="login_failure")
    s.login(t + M, proxy, "dev-x")
    s.event(t + 3 * M, "email_change", proxy, "dev-x", {"old": "a", "new": "b"})
    report = s.investigate()
    assert report.verdict.label in ("takeover", "suspicious")
    assert report.verdict.risk >= 60


def test_a_phone_in_use_for_months_then_paying_a_new_address_is_the_owner() -> None:
    s = owner(days=200)
    phone = s.ip("176.0.3.3", "berlin_mobile")
    for d in range(0, 150, 3):
        s.login(T0 + (50 + d) * DAY, phone, "PHONE")
    t = T0 + 201 * DAY
    s.event(t, "withdrawal_address_add", phone, "PHONE", {"address": "0x" + "4" * 40})
    s.tx(t + H, "withdrawal", "500", address="0x" + "4" * 40, ip=phone, device="PHONE")
    assert s.investigate().verdict.label == "clear"


def test_owner_resetting_a_password_over_sms_from_an_old_phone_is_no_sim_swap() -> None:
    s = owner()
    t = T0 + 61 * DAY
    s.event(t, "password_reset", HOME, "DEV", {"via": "sms"})
    s.login(t + M, HOME, "DEV", mfa_method="sms")
    s.tx(t + H, "withdrawal", "300", address="0x" + "1" * 40, ip=HOME, device="DEV")
    report = s.investigate()
    assert "sms_reset_new_device" not in ids(report)
    assert report.verdict.label == "clear"


def test_an_innocent_extra_device_does_not_hide_the_attacker() -> None:
    s = owner()
    vpn = s.ip("45.1.9.9", "m247_fra")
    evil = s.ip("102.89.3.3", "lagos")
    t = T0 + 61 * DAY
    s.login(t, vpn, "TABLET")
    s.login(t + H, vpn, "TABLET")
    s.login(t + 2 * DAY, evil, "EVIL")
    s.event(t + 2 * DAY + M, "withdrawal_address_add", evil, "EVIL", {"address": "0x" + "5" * 40})
    assert s.investigate().verdict.label == "takeover"


def test_a_browser_updating_itself_mid_session_is_no_hijack() -> None:
    s = Story()
    s.ip(HOME, "berlin")
    for d in range(30):
        s.login(T0 + d * DAY, HOME, None, session=f"s{d}", ua=CHROME)
    newer = CHROME.replace("Chrome/131", "Chrome/132")
    t = T0 + 31 * DAY
    s.login(t, HOME, None, session="s-up", ua=CHROME)
    s.login(t + H, HOME, None, event="session_refresh", session="s-up", ua=newer)
    s.event(t + 2 * H, "password_change", HOME, None)
    report = s.investigate()
    assert "session_hijack" not in ids(report)
    assert report.verdict.label == "clear"


def test_owners_typos_without_device_ids_are_no_guessing() -> None:
    s = Story()
    s.ip(HOME, "berlin")
    for d in range(20):
        s.login(T0 + d * DAY, HOME, None)
    t = T0 + 21 * DAY
    for i in range(6):
        s.login(t + i * M, HOME, None, event="login_failure", failure_reason="bad_password")
    s.login(t + 7 * M, HOME, None)
    assert "password_guessing" not in ids(s.investigate())


def test_the_owners_bot_on_the_api_channel_is_no_stuffing_tool() -> None:
    s = owner()
    tool = "python-requests/2.32.3"
    for d in range(10):
        s.login(T0 + (61 + d) * DAY, HOME, "BOT", ua=tool, channel="api")
    from acctsec.core.investigation import Inputs, run
    from acctsec.model import PopulationStats

    stats = KeyStats(events=500, accounts=80, successes=20, success_accounts=2,
                     failures=480, failure_accounts=78)
    report = run(Inputs(records=s.records(), ip_info=s.infos, generated_at=T0 + 90 * DAY,
                        population=PopulationStats(user_agents={tool: stats})))
    assert "credential_stuffing_success" not in ids(report)


def test_monthly_payouts_to_the_usual_address_are_no_drain() -> None:
    s = owner()
    phone = s.ip("176.0.4.4", "berlin_mobile")
    dest = "0x" + "6" * 40
    s.event(T0 + 2 * DAY, "withdrawal_address_add", HOME, "DEV", {"address": dest})
    s.login(T0 + 61 * DAY, phone, "PHONE")
    for month in range(3):
        s.tx(T0 + (62 + month * 4) * DAY, "deposit", "1000", address="0x" + "1" * 40)
        s.tx(T0 + (63 + month * 4) * DAY, "withdrawal", "900", address=dest, ip=phone,
             device="PHONE")
    assert "balance_drain" not in ids(s.investigate())


def test_records_without_any_ip_device_or_browser_say_so() -> None:
    from acctsec.model import Login

    s = Story()
    for d in range(10):
        s.logins.append(Login(ts=T0 + d * DAY, uid=s.uid, event="login_success"))
    report = s.investigate()
    assert any(n.check == "takeover" for n in report.not_checked)
    assert report.verdict.confidence == "low"


def test_typos_on_a_new_phone_at_home_then_a_reset_is_no_guessing() -> None:
    s = owner()
    t = T0 + 61 * DAY
    for i in range(6):
        s.login(t + i * M, HOME, "NEWPHONE", event="login_failure", failure_reason="bad_password")
    s.event(t + 8 * M, "password_reset", HOME, "NEWPHONE", {"channel": "email"})
    s.login(t + 10 * M, HOME, "NEWPHONE")
    report = s.investigate()
    assert "password_guessing" not in ids(report)
    assert report.verdict.label == "clear"


PAYOUT = "0x" + "8" * 40


def _local_proxy_login() -> tuple[Story, str, datetime]:
    """A thief on a residential proxy in the owner's own city and ISP signs in: nothing
    but the device is new."""
    s = owner()
    proxy = s.ip("84.150.9.9", "berlin")
    t = T0 + 61 * DAY
    s.login(t, proxy, "MAC")
    return s, proxy, t


def test_local_proxy_attacker_who_secures_the_account_first_is_takeover() -> None:
    s, proxy, t = _local_proxy_login()
    s.event(t + 4 * M, "api_key_create", proxy, "MAC",
            {"key_id": "k1", "permissions": ["read", "withdraw"]})
    s.event(t + 14 * M, "withdrawal_address_add", proxy, "MAC", {"address": PAYOUT})
    s.tx(t + 32 * M, "withdrawal", "9000", address=PAYOUT, ip=proxy, device="MAC")
    report = s.investigate()
    assert "early_lockout_change" in ids(report)
    assert report.verdict.label == "takeover"


def test_local_proxy_attacker_who_empties_the_account_at_once_is_takeover() -> None:
    # No lock-out change: a new address, then the money.
    s, proxy, t = _local_proxy_login()
    s.event(t + 3 * M, "withdrawal_address_add", proxy, "MAC", {"address": PAYOUT})
    s.tx(t + 7 * M, "withdrawal", "9000", address=PAYOUT, ip=proxy, device="MAC")
    report = s.investigate()
    assert "early_cashout" in ids(report)
    assert report.verdict.label == "takeover"


def test_paying_out_more_than_the_records_show_is_no_early_cashout() -> None:
    # Deposits missing from the records: the "drain" share is unknown, not a race.
    s = owner()
    t = T0 + 61 * DAY
    s.login(t, HOME, "NEWPHONE")
    s.tx(t + 2 * M, "withdrawal", "30000", address="0x" + "8" * 40, ip=HOME, device="NEWPHONE")
    assert "early_cashout" not in ids(s.investigate())


def test_new_phone_that_pays_a_new_address_days_later_is_not_a_race() -> None:
    s = owner()
    t = T0 + 61 * DAY
    s.login(t, HOME, "NEWPHONE")
    s.login(t + 2 * DAY, HOME, "NEWPHONE")
    s.event(t + 2 * DAY + M, "withdrawal_address_add", HOME, "NEWPHONE",
            {"address": "0x" + "8" * 40})
    s.tx(t + 2 * DAY + 5 * M, "withdrawal", "9000", address="0x" + "8" * 40, ip=HOME,
         device="NEWPHONE")
    report = s.investigate()
    assert "early_cashout" not in ids(report)
    assert report.verdict.label != "takeover"


def test_a_new_account_setting_up_its_anti_phishing_code_is_clear() -> None:
    s = Story()
    s.ip(HOME, "berlin")
    s.login(T0, HOME, "FIRST")
    s.login(T0 + H, HOME, "SECOND")
    s.event(T0 + H + M, "anti_phishing_change", HOME, "SECOND")
    assert s.investigate().verdict.label == "clear"


def test_a_new_phone_kept_for_months_is_the_owners_whatever_it_did_first() -> None:
    """A P2P merchant's new phone pays a new counterparty at once, then serves as the
    account's phone for months: thieves cash out and leave."""
    s = owner(days=20)
    mobile = s.ip("176.0.1.1", "berlin_mobile")
    t = T0 + 21 * DAY
    s.login(t, mobile, "PHONE")
    s.tx(t + 15 * M, "withdrawal", "300", address="0x" + "4" * 40, ip=mobile, device="PHONE")
    for d in range(1, 120, 3):
        s.login(t + d * DAY, HOME if d % 2 else mobile, "PHONE")
    report = s.investigate()
    assert "kept_in_use" in ids(report)
    assert report.verdict.label == "clear"


def test_a_thief_who_keeps_a_locked_out_account_is_no_owner() -> None:
    """Tenure does not launder a takeover that locked the owner out: the owner's own
    device falls silent, the thief's stays."""
    s = owner(days=20)
    evil = s.ip("159.89.1.1", "do_ams")
    t = T0 + 21 * DAY
    s.login(t, evil, "EVIL")
    s.event(t + 2 * M, "email_change", evil, "EVIL", {"old": "a@x.io", "new": "b@y.io"})
    s.tx(t + 20 * M, "withdrawal", "9000", address="0x" + "5" * 40, ip=evil, device="EVIL")
    keeps_coming_back(s, evil, "EVIL", t)
    report = s.investigate()
    assert "kept_in_use" not in ids(report)
    assert report.verdict.label == "takeover"


def test_a_new_phone_settled_at_home_for_days_before_it_pays_is_the_owners() -> None:
    s = owner(days=60)
    t = T0 + 61 * DAY
    s.event(t, "device_authorize", HOME, "PHONE", {"device_id": "PHONE"})
    s.login(t + 2 * M, "84.150.9.9", "PHONE")  # the same ISP, another address
    s.ip("84.150.9.9", "berlin")
    s.login(t + 7 * DAY, HOME, "PHONE")
    s.event(t + 7 * DAY + 4 * M, "withdrawal_address_add", HOME, "PHONE",
            {"address": "0x" + "6" * 40})
    s.tx(t + 7 * DAY + 20 * M, "withdrawal", "7000", address="0x" + "6" * 40, ip=HOME,
         device="PHONE")
    report = s.investigate()
    assert "settled_before_acting" in ids(report)
    assert report.verdict.label != "takeover"


def test_suspicion_of_the_holder_is_reviewed_without_tipping_them_off() -> None:
    """Evidence that leans toward the holder being the bad actor gets a review, not a
    call to the customer or security advice meant for victims."""
    from dataclasses import replace as with_

    from acctsec.core.investigation import Inputs, run
    from acctsec.core.signals import FRAUD, Signal
    from acctsec.model import PopulationStats

    s = owner()
    base = Inputs(records=s.records(), ip_info=s.infos,
                  population=PopulationStats(total_logins=1000, total_accounts=100),
                  generated_at=T0 + 90 * DAY)
    mule = Signal("money_mule_pass_through", "medium", FRAUD, 2.0, "money passes through")
    report = run(with_(base, extra_signals=[mule]))
    assert (report.verdict.label, report.verdict.leaning) == ("suspicious", "fraud")
    assert [a.action for a in report.actions] == ["manual_review"]
    assert report.advice == () and "money passes through" in report.verdict.summary
    assert run(base).verdict.leaning is None


def test_a_stuffing_tools_hit_used_days_later_by_a_browser_is_credential_stuffing() -> None:
    """The checker proves the password from a proxy; the buyer of the hit signs in with a
    device of their own two days later and drains: advice is about the reused password."""
    s = owner()
    proxy = s.ip("102.89.2.2", "lagos")
    s.population[proxy] = KeyStats(events=40, accounts=9, successes=1, success_accounts=1,
                                   failures=39, failure_accounts=9)
    t = T0 + 61 * DAY
    s.login(t, proxy, None, event="login_failure", ua="python-requests/2.31.0")
    s.login(t + M, proxy, None, ua="python-requests/2.31.0")
    evil = s.ip("159.89.1.1", "do_ams")
    s.login(t + 2 * DAY, evil, "EVIL")
    s.event(t + 2 * DAY + 3 * M, "withdrawal_address_add", evil, "EVIL",
            {"address": "0x" + "8" * 40})
    s.tx(t + 2 * DAY + 9 * M, "withdrawal", "9500", address="0x" + "8" * 40, ip=evil,
         device="EVIL")
    report = s.investigate()
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "credential_stuffing"
    assert any("unique" in line for line in report.advice)


def test_a_faint_finding_stays_out_of_a_strong_summary() -> None:
    from dataclasses import replace as with_

    from acctsec.core.investigation import Inputs, run
    from acctsec.core.signals import FRAUD, Signal
    from acctsec.model import PopulationStats

    s = owner()
    base = Inputs(records=s.records(), ip_info=s.infos,
                  population=PopulationStats(total_logins=1000, total_accounts=100),
                  generated_at=T0 + 90 * DAY)
    strong = Signal("shared_device_ring", "high", FRAUD, 3.0, "one device runs 6 accounts")
    faint = Signal("lookalike_identities", "low", FRAUD, 0.3,
                   "1 other account uses a similar e-mail, and nothing else: namesakes")
    report = run(with_(base, extra_signals=[strong, faint]))
    assert report.verdict.label == "fraud"
    assert "one device runs 6 accounts" in report.verdict.summary
    assert "namesakes" not in report.verdict.summary
    alone = run(with_(base, extra_signals=[faint]))
    assert "namesakes" in alone.verdict.summary  # the only finding is still named


def test_an_address_first_seen_minutes_before_is_not_the_owners_network() -> None:
    """The intruder's second device on the address its first one used minutes earlier is
    not on a 'network this account used before'."""
    s = owner()
    proxy = s.ip("71.160.203.178", "freiburg")
    t = T0 + 61 * DAY
    s.login(t, proxy, "EVIL1")
    s.login(t + 10 * M, proxy, "EVIL2")
    s.tx(t + 20 * M, "withdrawal", "9500", address="0x" + "9" * 40, ip=proxy, device="EVIL2")
    assert "known_network" not in ids(s.investigate())
    s.login(t + 2 * DAY, proxy, "EVIL3")  # days on, the address is part of the history
    assert "known_network" in ids(s.investigate())


def racing_intruder() -> Story:
    """A new device on the owner's own ISP that whitelists a destination and empties the
    account to it within minutes (the records show less than the money that left)."""
    s = owner(days=60)
    proxy = s.ip("84.150.77.7", "berlin")
    t = T0 + 61 * DAY
    s.login(t, proxy, "EVIL")
    s.event(t + 7 * M, "withdrawal_address_add", proxy, "EVIL", {"address": "T" + "6" * 33})
    s.tx(t + 12 * M, "withdrawal", "37000", address="T" + "6" * 33, ip=proxy, device="EVIL")
    return s


def keeps_coming_back(s: Story, ip: str, device: str, since: datetime) -> None:
    """The device signs in every other day for two months after `since`."""
    for d in range(1, 60, 2):
        s.login(since + d * DAY, ip, device)


def test_a_new_device_that_whitelists_and_pays_within_minutes_races_the_owner() -> None:
    """On the owner's own ISP, with the records not showing the whole balance: adding a
    destination and emptying the account to it within the hour is still the race."""
    report = racing_intruder().investigate()
    race = next(x for x in report.signals if x.id == "early_cashout")
    assert report.verdict.label == "takeover"
    # what the records show it held is less than it paid: no share of "the balance"
    assert "%" not in race.explanation and "37000 USD moved out" in race.explanation
    assert race.evidence["share"] is None


def test_a_thief_on_the_owners_isp_who_waits_days_then_locks_the_owner_out() -> None:
    """Two visits days apart from the owner's own ISP do not make an intruder 'settled'
    once it changes the e-mail and empties the account."""
    s = owner(days=60)
    proxy = s.ip("84.150.66.6", "berlin")
    t = T0 + 61 * DAY
    s.login(t, proxy, "EVIL")
    s.login(t + 3 * DAY, proxy, "EVIL")
    s.event(t + 3 * DAY + 2 * M, "email_change", proxy, "EVIL", {"old": "a@x.io", "new": "b@y"})
    s.tx(t + 3 * DAY + 20 * M, "withdrawal", "9500", address="0x" + "a" * 40, ip=proxy,
         device="EVIL")
    report = s.investigate()
    assert "settled_before_acting" not in ids(report)
    assert report.verdict.label == "takeover"


def test_a_payment_carrying_only_the_address_of_the_intruders_sign_in_is_theirs() -> None:
    """No device id anywhere: the stuffing tool's buyer signs in from a phone network
    abroad and an internal transfer leaves from that address ten minutes later."""
    s = owner()
    proxy = s.ip("102.89.2.2", "lagos")
    s.population[proxy] = KeyStats(events=40, accounts=9, successes=1, success_accounts=1,
                                   failures=39, failure_accounts=9)
    t = T0 + 61 * DAY
    s.login(t, proxy, None, event="login_failure")
    s.login(t + M, proxy, None)
    s.tx(t + 11 * M, "internal_out", "9000", counterparty_uid="mule", ip=proxy)
    report = s.investigate()
    assert report.verdict.label == "takeover"
    paid = next(x for x in report.signals if x.id == "withdrawal_to_new_address")
    assert paid.evidence["actor"].startswith("browser:")


def _recovered_through_support(event: str, detail: dict[str, str], after: timedelta
                               ) -> Report:
    """Support made `event` for a caller (no address, device or session of the
    account's); `after` it, the caller signs in and empties the account."""
    s = owner()
    t = T0 + 61 * DAY
    s.event(t, event, None, None, {**detail, "by": "support"})
    evil = s.ip("159.89.1.1", "do_ams")
    s.login(t + after, evil, "EVIL")
    s.event(t + after + 3 * M, "withdrawal_address_add", evil, "EVIL",
            {"address": "0x" + "b" * 40})
    s.tx(t + after + 9 * M, "withdrawal", "9500", address="0x" + "b" * 40, ip=evil,
         device="EVIL")
    return s.investigate()


def test_an_intruder_right_after_a_recovery_through_support_names_the_technique() -> None:
    report = _recovered_through_support(
        "email_change", {"old": "a@x.io", "new": "caller@y.io"}, DAY)
    assert (report.verdict.label, report.verdict.attack) == ("takeover", "account_recovery")
    actions = [a.action for a in report.actions]
    assert "review_support_recovery" in actions and "restore_contact_details" in actions
    assert "reset_2fa" not in actions
    assert any("support" in line for line in report.advice)


def test_a_second_factor_reset_by_support_is_reset_again_and_no_contact_is_restored() -> None:
    report = _recovered_through_support("mfa_reset", {"method": "totp"}, DAY)
    assert report.verdict.attack == "account_recovery"
    actions = [a.action for a in report.actions]
    assert "reset_2fa" in actions and "review_support_recovery" in actions
    assert "restore_contact_details" not in actions  # the e-mail and phone were not changed


def test_an_old_support_change_does_not_shape_todays_actions() -> None:
    """A year-old e-mail change by support, then today's 2FA reset by support and the
    intruder: reset the second factor, but there is no contact detail to restore."""
    s = owner()
    s.event(T0 + 2 * DAY, "email_change", None, None, {"old": "o@x.io", "new": "a@x.io"})
    t = T0 + 61 * DAY
    s.event(t, "mfa_reset", None, None, {"method": "totp", "by": "support"})
    evil = s.ip("159.89.1.1", "do_ams")
    s.login(t + DAY, evil, "EVIL")
    s.event(t + DAY + 3 * M, "withdrawal_address_add", evil, "EVIL", {"address": "0x" + "b" * 40})
    s.tx(t + DAY + 9 * M, "withdrawal", "9500", address="0x" + "b" * 40, ip=evil, device="EVIL")
    report = s.investigate()
    assert report.verdict.attack == "account_recovery"
    actions = [a.action for a in report.actions]
    assert "reset_2fa" in actions and "restore_contact_details" not in actions


def test_a_support_recovery_names_the_technique_only_within_three_days() -> None:
    change = {"old": "a@x.io", "new": "caller@y.io"}
    late = _recovered_through_support("email_change", change, 5 * DAY)
    assert late.verdict.label == "takeover"
    assert late.verdict.attack != "account_recovery"
    assert _recovered_through_support("email_change", change, 2 * DAY + 23 * H
                                      ).verdict.attack == "account_recovery"


def test_a_clear_verdicts_risk_stays_below_every_suspicious_one() -> None:
    """Strong access evidence from an actor that did nothing hostile is explained away:
    the label is clear, and its risk must not outrank a suspicious account's in a queue."""
    s = owner()
    other = s.ip("91.0.0.9", "freiburg")
    s.login(T0 + 61 * DAY, other, "ELSEWHERE")  # a new device on a new network
    report = s.investigate()
    assert report.verdict.label == "clear"
    assert float(report.stats["takeover_score"]) >= 1.5  # risk 39 or more uncapped
    assert report.verdict.risk <= 38


def test_changes_from_records_that_never_say_where_they_came_from_are_not_out_of_band() -> None:
    s = Story()
    s.ip(HOME, "berlin")
    s.routine(30, HOME, "DEV")
    s.event(T0 + 31 * DAY, "email_change", None, None, {"old": "a@x.io", "new": "b@x.io"})
    assert "out_of_band_recovery" not in ids(s.investigate())
    s.event(T0 + 5 * DAY, "withdrawal_address_add", HOME, "DEV", {"address": "0xabc"})
    assert "out_of_band_recovery" in ids(s.investigate())


def test_an_intruder_who_races_to_empty_the_account_is_not_laundered_by_staying() -> None:
    s = racing_intruder()
    keeps_coming_back(s, "84.150.77.7", "EVIL", T0 + 61 * DAY)
    report = s.investigate()
    assert "kept_in_use" not in ids(report)
    assert report.verdict.label == "takeover"
