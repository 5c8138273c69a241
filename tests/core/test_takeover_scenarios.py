"""The verdict on hand-written account histories: attacks and their honest look-alikes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from acctsec.model import KeyStats
from acctsec_testkit import IPHONE, T0, Story, ids

HOME = "84.150.3.4"
DAY = timedelta(days=1)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def owner(days: int = 40) -> Story:
    s = Story()
    s.ip(HOME, "berlin")
    s.routine(days, HOME, "dev-home")
    s.tx(T0 + DAY, "deposit", "12000", address="0x" + "a" * 40)
    return s


def test_phishing_chain_is_takeover_with_actions_and_advice() -> None:
    s = owner()
    evil = s.ip("159.89.10.20", "do_ams")
    t = T0 + 45 * DAY
    s.login(t, evil, "dev-evil", session="x1")
    s.event(t + 3 * M, "api_key_create", evil, "dev-evil",
            {"key_id": "k1", "permissions": ["read", "withdraw"]})
    s.event(t + 5 * M, "withdrawal_address_add", evil, "dev-evil",
            {"address": "0x" + "b" * 40, "network": "ETH"})
    s.tx(t + 9 * M, "withdrawal", "11800", address="0x" + "b" * 40, ip=evil, device="dev-evil")
    report = s.investigate()
    assert report.verdict.label == "takeover"
    assert report.verdict.risk >= 80
    assert {"new_device", "anonymising_network", "security_change",
            "withdrawal_to_new_address", "balance_drain"} <= ids(report)
    actions = {a.action for a in report.actions}
    assert {"restrict_withdrawals", "revoke_api_keys", "trace_funds"} <= actions
    assert report.advice
    drain = next(x for x in report.signals if x.id == "balance_drain")
    assert drain.evidence["moved"] == "11800" and drain.evidence["balance"] == "12000"


def test_new_phone_at_home_is_clear() -> None:
    s = owner()
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-newphone", ua=IPHONE)
    s.login(t + DAY, HOME, "dev-newphone", ua=IPHONE)
    report = s.investigate()
    assert report.verdict.label == "clear"
    assert "known_network" in ids(report)


def test_traveller_with_own_device_is_clear() -> None:
    s = owner()
    lisbon = s.ip("85.240.1.1", "lisbon")
    t = T0 + 45 * DAY
    # Berlin to Lisbon is ~2,300 km: a 4-hour trip is plausible.
    s.login(t, HOME, "dev-home")
    s.login(t + 5 * H, lisbon, "dev-home")
    s.tx(t + 6 * H, "withdrawal", "200", address="0x" + "a" * 40, ip=lisbon, device="dev-home")
    report = s.investigate()
    assert report.verdict.label == "clear"
    assert "impossible_travel" not in ids(report)


def test_impossible_travel_from_new_device_is_flagged() -> None:
    s = owner()
    lagos = s.ip("102.89.1.1", "lagos")
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home")
    s.login(t + 40 * M, lagos, "dev-other")
    report = s.investigate()
    travel = [x for x in report.signals if x.id == "impossible_travel"]
    assert travel and travel[0].evidence["speed_kmh"] > 900
    assert report.verdict.label in ("suspicious", "takeover")


def _two_devices_in_use(far_place: str, far_ip: str) -> Story:
    """The owner at home in Berlin; a second device of the account, used for weeks, whose
    IP places it in `far_place`."""
    s = owner()
    s.ip(far_ip, far_place)
    s.routine(30, far_ip, "dev-laptop", start=T0 + 5 * DAY + 12 * H)
    return s


def _travel_weights(s: Story, second: str, far_ip: str) -> list[float]:
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home")
    s.login(t + 20 * M, far_ip, second)
    return [x.weight for x in s.investigate().signals
            if x.id == "impossible_travel" and x.ts == t + 20 * M]


def test_two_known_devices_in_two_cities_of_one_country_are_a_household() -> None:
    # Berlin and Freiburg are ~640 km apart: 20 minutes is too quick, but both devices
    # have been the account's for weeks, in one country.
    s = _two_devices_in_use("freiburg", "88.70.1.1")
    assert _travel_weights(s, "dev-laptop", "88.70.1.1") == [0.3]


def test_a_new_device_in_another_city_is_still_travel() -> None:
    s = _two_devices_in_use("freiburg", "88.70.1.1")
    assert _travel_weights(s, "dev-new", "88.70.1.1") == [1.5]


def test_two_known_devices_in_two_countries_are_still_travel() -> None:
    # A device id can be replayed from abroad; across a border the finding stays.
    s = _two_devices_in_use("lisbon", "85.240.1.1")
    assert _travel_weights(s, "dev-laptop", "85.240.1.1") == [1.5]


def test_many_weak_travel_findings_do_not_hide_a_strong_one() -> None:
    s = owner()
    lisbon = s.ip("85.240.1.1", "lisbon")
    lagos = s.ip("102.89.1.1", "lagos")
    t = T0 + 45 * DAY
    for i in range(6):  # the owner's own device hopping between two far places
        s.login(t + 2 * i * M, HOME if i % 2 else lisbon, "dev-home")
    s.login(t + 30 * M, HOME, "dev-home")
    s.login(t + 50 * M, lagos, "dev-evil")
    weights = [x.weight for x in s.investigate().signals if x.id == "impossible_travel"]
    assert 1.5 in weights and len(weights) == 5


def test_big_withdrawal_to_long_whitelisted_address_is_clear() -> None:
    s = owner()
    dest = "0x" + "c" * 40
    s.event(T0 + 2 * DAY, "withdrawal_address_add", HOME, "dev-home", {"address": dest})
    s.tx(T0 + 44 * DAY, "withdrawal", "11900", address=dest, ip=HOME, device="dev-home")
    report = s.investigate()
    assert report.verdict.label == "clear"


def test_forgotten_password_reset_from_own_device_is_clear() -> None:
    s = owner()
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home", event="login_failure", failure_reason="bad_password")
    s.login(t + M, HOME, "dev-home", event="login_failure", failure_reason="bad_password")
    s.event(t + 5 * M, "password_reset", HOME, "dev-home", {"via": "email"})
    s.login(t + 8 * M, HOME, "dev-home")
    assert s.investigate().verdict.label == "clear"


def test_sim_swap_reset_over_sms_from_new_device_is_takeover() -> None:
    s = owner()
    mobile = s.ip("176.0.1.1", "berlin_mobile")
    t = T0 + 45 * DAY
    s.event(t, "password_reset", mobile, "dev-swap", {"via": "sms"})
    s.login(t + 2 * M, mobile, "dev-swap", mfa_method="sms")
    s.tx(t + 20 * M, "withdrawal", "11000", address="bc1q" + "x" * 38, ip=mobile,
         device="dev-swap")
    report = s.investigate()
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "sim_swap"
    assert "sms_reset_new_device" in ids(report)


def test_session_reused_from_another_device_is_takeover() -> None:
    s = owner()
    evil = s.ip("159.89.10.21", "do_ams")
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home", session="sess-42")
    s.login(t + 2 * H, evil, "dev-thief", event="session_refresh", session="sess-42")
    s.tx(t + 2 * H + 5 * M, "withdrawal", "9000", address="T" + "Q" * 33, ip=evil)
    report = s.investigate()
    assert "session_hijack" in ids(report)
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "stolen_session"


def test_mobile_session_moving_between_networks_is_not_hijack() -> None:
    s = owner()
    mobile = s.ip("176.0.1.2", "berlin_mobile")
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home", session="sess-7")
    s.login(t + H, mobile, "dev-home", event="session_refresh", session="sess-7")
    report = s.investigate()
    assert "session_hijack" not in ids(report)
    assert report.verdict.label == "clear"


def test_stuffing_source_that_got_in_is_takeover() -> None:
    s = owner()
    proxy = s.ip("45.1.2.3", "m247_fra")
    s.population[proxy] = KeyStats(events=300, accounts=120, successes=3, success_accounts=3,
                                   failures=297, failure_accounts=118)
    t = T0 + 45 * DAY
    s.login(t, proxy, "dev-bot", event="login_failure", ua="python-requests/2.32.3")
    s.login(t + M, proxy, "dev-bot", ua="python-requests/2.32.3")
    s.event(t + 3 * M, "withdrawal_address_add", proxy, "dev-bot", {"address": "0x" + "d" * 40})
    s.tx(t + 6 * M, "withdrawal", "11000", address="0x" + "d" * 40, ip=proxy, device="dev-bot")
    report = s.investigate()
    assert "credential_stuffing_success" in ids(report)
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "credential_stuffing"


def test_stuffing_that_never_got_in_stays_clear() -> None:
    s = owner()
    proxy = s.ip("45.1.2.4", "m247_fra")
    s.population[proxy] = KeyStats(events=300, accounts=120, successes=0, success_accounts=0,
                                   failures=300, failure_accounts=120)
    t = T0 + 45 * DAY
    for i in range(3):
        s.login(t + i * M, proxy, None, event="login_failure", ua="python-requests/2.32.3")
    report = s.investigate()
    assert "credential_stuffing_attempts" in ids(report)
    assert report.verdict.label == "clear"
    # nothing to restrict, but the customer should hear that their password is out there
    assert [a.action for a in report.actions] == ["advise_password_change"]
    assert any("did not get in" in line for line in report.advice)


def test_habitual_vpn_user_is_clear() -> None:
    s = Story()
    vpn = s.ip("45.1.2.5", "m247_fra")
    vpn2 = s.ip("45.1.2.6", "m247_fra")
    s.routine(40, vpn, "dev-a")
    s.tx(T0 + DAY, "deposit", "500")
    s.login(T0 + 45 * DAY, vpn2, "dev-a")
    s.tx(T0 + 45 * DAY + M, "withdrawal", "100", address="0x" + "e" * 40, ip=vpn2,
         device="dev-a")
    assert s.investigate().verdict.label == "clear"


def test_slow_takeover_is_named() -> None:
    s = owner()
    lagos = s.ip("102.89.1.9", "lagos")
    t = T0 + 45 * DAY
    s.login(t, lagos, "dev-slow")
    s.event(t + 10 * M, "email_change", lagos, "dev-slow", {"old": "a@x.com", "new": "b@y.com"})
    s.login(t + 6 * DAY, lagos, "dev-slow")
    s.tx(t + 6 * DAY + 5 * M, "withdrawal", "11900", address="0x" + "f" * 40, ip=lagos,
         device="dev-slow")
    report = s.investigate()
    assert report.verdict.label == "takeover"
    assert report.verdict.attack == "slow_takeover"


def test_risk_grows_with_evidence() -> None:
    quiet = owner()
    t = T0 + 45 * DAY
    evil = quiet.ip("159.89.10.22", "do_ams")
    quiet.login(t, evil, "dev-x")
    louder = owner()
    louder.ip("159.89.10.22", "do_ams")
    louder.login(t, evil, "dev-x")
    louder.event(t + M, "email_change", evil, "dev-x", {"old": "a", "new": "b"})
    assert louder.investigate().verdict.risk > quiet.investigate().verdict.risk


@pytest.mark.parametrize(("ip", "place"), [
    ("176.36.0.251", "lagos"),  # abroad
    ("51.75.151.165", "ovh_fra"),  # a data centre in the victim's own country
])
def test_session_used_elsewhere_without_sign_in_then_cashout_is_takeover(
        ip: str, place: str) -> None:
    # A stolen cookie often carries the exchange's device id with it; info-stealers
    # replay it from a server, often through the victim's own country.
    s = owner()
    elsewhere = s.ip(ip, place)
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home", session="sess-9")
    s.login(t + 20 * H, elsewhere, "dev-home", event="session_refresh", session="sess-9")
    s.tx(t + 20 * H + 10 * M, "withdrawal", "11500", address="0x" + "9" * 40, ip=elsewhere,
         device="dev-home")
    report = s.investigate()
    assert "session_moved" in ids(report)
    assert report.verdict.label == "takeover"


def test_phone_ip_jumping_between_cities_of_one_country_is_not_travel() -> None:
    s = owner()
    s.ip("176.0.9.9", "berlin_mobile")
    s.infos["176.0.9.9"] = s.infos["176.0.9.9"].__class__(
        ip="176.0.9.9", country="DE", city="Munich", lat=48.14, lon=11.58, accuracy_km=50.0,
        asn=6805, as_org="Telefonica Germany", network_kind="mobile")
    t = T0 + 45 * DAY
    s.login(t, HOME, "dev-home")
    s.login(t + 10 * M, "176.0.9.9", "dev-phone")
    assert "impossible_travel" not in ids(s.investigate())


def test_since_keeps_history_as_baseline_but_reports_only_recent_findings() -> None:
    from acctsec.core.investigation import Inputs, run
    from acctsec.model import PopulationStats

    s = owner()
    old = s.ip("159.89.10.30", "do_ams")
    s.login(T0 + 20 * DAY, old, "dev-old-trip")
    s.login(T0 + 21 * DAY, HOME, "dev-home")
    since = T0 + 30 * DAY
    report = run(Inputs(records=s.records(), ip_info=s.infos, population=PopulationStats(),
                        generated_at=T0 + 60 * DAY, since=since))
    assert all(x.ts is None or x.ts >= since for x in report.signals)
    assert report.verdict.label == "clear"
    everything = s.investigate()
    assert any(x.id == "new_device" for x in everything.signals)


def test_stuffing_tool_from_rotating_proxies_that_got_in_is_takeover() -> None:
    s = owner()
    tool = "Go-http-client/2.0"
    s.population = {}
    proxy = s.ip("102.89.7.7", "lagos")
    t = T0 + 45 * DAY
    s.login(t, proxy, None, event="login_failure", ua=tool)
    s.login(t + M, proxy, "dev-bot", ua=tool)
    s.tx(t + 9 * M, "withdrawal", "11000", address="0x" + "7" * 40, ip=proxy, device="dev-bot")
    from acctsec.core.investigation import Inputs, run
    from acctsec.model import PopulationStats

    stats = KeyStats(events=90, accounts=40, successes=2, success_accounts=2, failures=88,
                     failure_accounts=40)
    report = run(Inputs(records=s.records(), ip_info=s.infos, generated_at=T0 + 60 * DAY,
                        population=PopulationStats(user_agents={tool: stats})))
    found = [x for x in report.signals if x.id == "credential_stuffing_success"]
    assert found and found[0].evidence["source_user_agent"] == tool
    assert report.verdict.label == "takeover"
