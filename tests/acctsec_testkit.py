"""Builders of account records and IP facts for tests of the detection core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from acctsec.core.investigation import Inputs, run
from acctsec.core.report import Report
from acctsec.intel.interface import IpInfo
from acctsec.model import (
    Account,
    AccountRecords,
    KeyStats,
    Login,
    PopulationStats,
    SecurityEvent,
    Transaction,
)

T0 = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")

# IP facts as an IP-intel backend would give them (data, not a stand-in for logic).
PLACES = {
    "berlin": dict(country="DE", city="Berlin", lat=52.52, lon=13.40, asn=3320,
                   as_org="Deutsche Telekom AG", network_kind="residential"),
    "berlin_mobile": dict(country="DE", city="Berlin", lat=52.52, lon=13.40, asn=6805,
                          as_org="Telefonica Germany", network_kind="mobile"),
    "freiburg": dict(country="DE", city="Freiburg", lat=47.99, lon=7.85, asn=3209,
                     as_org="Vodafone GmbH", network_kind="residential"),
    "lisbon": dict(country="PT", city="Lisbon", lat=38.72, lon=-9.14, asn=3243,
                   as_org="MEO", network_kind="residential"),
    "lagos": dict(country="NG", city="Lagos", lat=6.45, lon=3.39, asn=29465,
                  as_org="MTN Nigeria", network_kind="residential"),
    "do_ams": dict(country="NL", city="Amsterdam", lat=52.37, lon=4.89, asn=14061,
                   as_org="DigitalOcean", network_kind="hosting"),
    "m247_fra": dict(country="DE", city="Frankfurt", lat=50.11, lon=8.68, asn=9009,
                     as_org="M247 Europe", network_kind="vpn"),
    "aws_fra": dict(country="DE", city="Frankfurt", lat=50.11, lon=8.68, asn=16509,
                    as_org="Amazon.com, Inc.", network_kind="hosting"),
    "ovh_fra": dict(country="DE", city="Frankfurt", lat=50.11, lon=8.68, asn=16276,
                    as_org="OVH SAS", network_kind="hosting"),
}


class Story:
    """An account's history written event by event, in the order it happened."""

    def __init__(self, uid: str = "1000") -> None:
        self.uid = uid
        self.logins: list[Login] = []
        self.events: list[SecurityEvent] = []
        self.txs: list[Transaction] = []
        self.infos: dict[str, IpInfo] = {}
        self.population: dict[str, KeyStats] = {}

    def ip(self, ip: str, place: str) -> str:
        self.infos[ip] = IpInfo(ip=ip, accuracy_km=50.0, **PLACES[place])
        return ip

    def login(self, ts: datetime, ip: str, device: str | None, *, event: str = "login_success",
              session: str | None = None, ua: str = CHROME, **kw: Any) -> Story:
        self.logins.append(Login(ts=ts, uid=self.uid, event=event, ip=ip, device_id=device,
                                 session_id=session, user_agent=ua, **kw))
        return self

    def event(self, ts: datetime, event: str, ip: str | None, device: str | None,
              detail: dict[str, Any] | None = None, session: str | None = None) -> Story:
        self.events.append(SecurityEvent(ts=ts, uid=self.uid, event=event, ip=ip,
                                         device_id=device, detail=detail, session_id=session))
        return self

    def tx(self, ts: datetime, kind: str, amount: str, *, asset: str = "USDT",
           address: str | None = None, ip: str | None = None, device: str | None = None,
           usd: str | None = None, **kw: Any) -> Story:
        self.txs.append(Transaction(ts=ts, uid=self.uid, kind=kind, asset=asset,
                                    amount=Decimal(amount), usd_value=Decimal(usd or amount),
                                    address=address, ip=ip, device_id=device,
                                    status="completed", **kw))
        return self

    def routine(self, days: int, ip: str, device: str, start: datetime = T0,
                ua: str = CHROME) -> Story:
        """The owner signing in about once a day from home."""
        for d in range(days):
            self.login(start + timedelta(days=d, hours=d % 5), ip, device, session=f"s{d}",
                       ua=ua)
        return self

    def records(self) -> AccountRecords:
        return AccountRecords(
            account=Account(uid=self.uid, email="owner@example.com"),
            logins=tuple(sorted(self.logins, key=lambda x: x.ts)),
            security_events=tuple(sorted(self.events, key=lambda x: x.ts)),
            transactions=tuple(sorted(self.txs, key=lambda x: x.ts)),
        )

    def investigate(self) -> Report:
        return run(Inputs(records=self.records(), ip_info=self.infos,
                          population=PopulationStats(total_logins=1000, total_accounts=100,
                                                     ips=self.population),
                          generated_at=datetime(2026, 11, 22, tzinfo=UTC)))


HOME = "84.150.3.4"


def owner(days: int = 60) -> Story:
    """An owner signing in daily from home in Berlin on one device (DEV) for `days` days,
    with 10,000 USDT deposited on the second."""
    s = Story()
    s.ip(HOME, "berlin")
    s.routine(days, HOME, "DEV")
    s.tx(T0 + timedelta(days=1), "deposit", "10000", address="0x" + "1" * 40)
    return s


def ids(report: Report) -> set[str]:
    return {s.id for s in report.signals}
