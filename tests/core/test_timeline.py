"""The report's timeline: what each security change did, from --since on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from acctsec.core.investigation import Inputs, run
from acctsec.core.report import Report, account_facts
from acctsec.core.signals import FRAUD, Signal
from acctsec.model import PopulationStats
from acctsec_testkit import T0, Story

HOME = "84.150.3.4"
DAY, M = timedelta(days=1), timedelta(minutes=1)


def story() -> Story:
    s = Story()
    s.ip(HOME, "berlin")
    s.routine(30, HOME, "DEV")
    t = T0 + 31 * DAY
    s.event(t, "device_authorize", HOME, None, {"device_id": "NEWDEV"})
    s.event(t + M, "email_change", HOME, "DEV", {"old": "a@x.io", "new": "b@y.io"})
    s.event(t + 2 * M, "withdrawal_address_add", HOME, "DEV",
            {"address": "0xabc", "network": "ETH", "asset": "USDT"})
    s.event(t + 3 * M, "account_freeze", None, None, {"reason": "customer request"})
    return s


def details(report: Report) -> dict[str, str]:
    return {e.kind: e.what for e in report.timeline}


def test_a_security_change_says_what_it_changed() -> None:
    got = details(story().investigate())
    assert got["device_authorize"] == f"{HOME} authorised device NEWDEV"
    assert got["email_change"] == f"{HOME} device DEV a@x.io → b@y.io"
    assert got["withdrawal_address_add"] == f"{HOME} device DEV address 0xabc on ETH for USDT"
    assert got["account_freeze"] == "reason customer request"


def test_the_timeline_starts_at_since() -> None:
    s = story()
    since = T0 + 31 * DAY + 2 * M
    report = run(Inputs(records=s.records(), ip_info=s.infos, since=since,
                        population=PopulationStats(total_logins=1000, total_accounts=100,
                                                   ips=s.population),
                        generated_at=datetime(2026, 11, 22, tzinfo=UTC)))
    assert [e.kind for e in report.timeline] == ["withdrawal_address_add", "account_freeze"]
    assert len(s.investigate().timeline) == 4


def test_until_before_the_account_existed_says_there_is_nothing_to_judge() -> None:
    s = story()
    records = s.records()
    records = replace(records, account=replace(records.account, created_at=T0))
    ring = Signal("shared_device_ring", "high", FRAUD, 3.0, "one device runs 6 accounts")
    report = run(Inputs(records=records, ip_info=s.infos, until=T0 - DAY,
                        population=PopulationStats(total_logins=1000, total_accounts=100),
                        generated_at=datetime(2026, 11, 22, tzinfo=UTC),
                        extra_signals=[ring]))
    assert "did not exist yet" in report.verdict.summary
    assert (report.verdict.label, report.verdict.risk, report.actions) == ("clear", 0, ())
    assert [n.check for n in report.not_checked] == ["window"]
    assert report.verdict.confidence == "low"


def test_with_until_the_status_shown_is_said_to_be_todays() -> None:
    s = story()
    records = s.records()
    records = replace(records, account=replace(records.account, status="frozen"))
    until = T0 + 40 * DAY
    report = run(Inputs(records=records, ip_info=s.infos, until=until,
                        population=PopulationStats(total_logins=1000, total_accounts=100),
                        generated_at=datetime(2026, 11, 22, tzinfo=UTC)))
    assert ("status today", "frozen") in account_facts(report)
    assert ("status", "frozen") in account_facts(replace(report, until=None))
    assert not any(n.check == "window" for n in report.not_checked)


def test_chargebacks_and_alerts_are_on_the_timeline() -> None:
    from decimal import Decimal

    from acctsec.model import Alert, Transaction

    s = story()
    records = s.records()
    charged = Transaction(ts=T0 + 5 * DAY, uid=s.uid, kind="fiat_deposit", asset="EUR",
                          amount=Decimal("150"), payment_method="card", chargeback=True,
                          status="completed")
    alerts = (Alert("A-7", s.uid, T0 + 40 * DAY, "chargeback", "card dispute",
                    "customer\nsays [bold]not me[/bold] " + "x" * 100),
              Alert("A-8", s.uid, None, "email"))
    records = replace(records, transactions=(*records.transactions, charged), alerts=alerts)
    report = run(Inputs(records=records, ip_info=s.infos,
                        population=PopulationStats(total_logins=1000, total_accounts=100),
                        generated_at=datetime(2026, 11, 22, tzinfo=UTC)))
    got = details(report)
    assert got["fiat_deposit"] == "150 EUR card (charged back)"
    assert got["alert"].startswith("A-7 chargeback card dispute: customer says [bold]not me")
    assert len(got["alert"]) < 120 and got["alert"].endswith("…")
    assert sum(e.kind == "alert" for e in report.timeline) == 1  # no time, no place on it
