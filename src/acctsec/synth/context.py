"""What stories share: the table builder, cross-account infrastructure and alert ids."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acctsec.synth import values as v
from acctsec.synth.tables import Tables
from acctsec.synth.world import (
    END,
    Block,
    Person,
    Wallet,
    hosting,
    mobile,
    own_wallet,
    residential,
)

STUFFING_COUNTRIES = ("US", "BR", "VN", "IN", "DE", "GB", "NL", "TR", "UA", "FR", "JP", "PH")


@dataclass
class Ctx:
    """Shared state of one generation run."""

    t: Tables
    rng: random.Random
    people: dict[str, Person] = field(default_factory=dict)
    proxies: list[str] = field(default_factory=list)
    campaign_days: list[datetime] = field(default_factory=list)
    mule_uids: list[str] = field(default_factory=list)
    alert_no: int = 0

    def alert(self, uid: str, ts: datetime, source: str, kind: str, note: str) -> None:
        self.alert_no += 1
        self.t.add("alerts", alert_id=f"AL-{260000 + self.alert_no}", uid=uid,
                   ts=min(ts, END), source=source, kind=kind, note=note)


def build_proxies(rng: random.Random, n: int = 40) -> list[str]:
    """A credential-stuffing proxy pool: datacenter exits and residential proxies worldwide."""
    out: list[str] = []
    for i in range(n):
        if i % 3 == 0:
            block: Block = rng.choice(hosting())
        else:
            country = rng.choice(STUFFING_COUNTRIES)
            block = rng.choice(residential(country) or mobile(country) or hosting())
        out.append(block.ip(rng))
    return out


def campaign_days(rng: random.Random) -> list[datetime]:
    """Days when the stuffing campaign ran (bursts of a few hours)."""
    base = END - timedelta(days=70)
    return sorted(
        base + timedelta(days=rng.randint(0, 62), hours=rng.randint(0, 23)) for _ in range(4)
    )


@dataclass
class Attacker:
    """Whoever took over an account: their device and where they connect from."""

    device: v.Device
    ips: list[str]
    wallet: Wallet


def attacker_for(p: Person, style: str) -> Attacker:
    """style: vpn (hosting exit), foreign (residential abroad), local (same-country proxy)."""
    rng = p.rng
    if style == "vpn":
        blocks = [rng.choice(hosting())]
    elif style == "local":
        blocks = [rng.choice(residential(p.country) or mobile(p.country) or hosting())]
    else:
        country = rng.choice([c for c in ("NG", "VN", "UA", "TR", "BR", "IN", "PH", "US", "GB")
                              if c != p.country])
        blocks = [rng.choice(residential(country) or mobile(country))]
    ips = [blocks[0].ip(rng) for _ in range(rng.randint(1, 2))]
    kind = rng.choice(("desktop_web", "desktop_web", "android", "ios", "mobile_web"))
    asset = rng.choice(("USDT", "USDT", "BTC", "ETH"))
    return Attacker(v.make_device(rng, kind), ips, own_wallet(rng, asset))
