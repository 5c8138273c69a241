"""The world the stories happen in: time window, places and networks, prices, people."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from acctsec.synth import values as v
from acctsec.synth.netblocks import NETBLOCKS

END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
START = END - timedelta(days=122)

# Rough local offset to make honest activity follow a day/night rhythm.
UTC_OFFSET = {
    "DE": 1, "FR": 1, "GB": 0, "US": -5, "ES": 1, "IT": 1, "NL": 1, "TR": 3, "BR": -3,
    "JP": 9, "SG": 8, "AE": 4, "UA": 2, "VN": 7, "PL": 1, "CA": -5, "AU": 11, "KR": 9,
    "NG": 1, "IN": 5, "PH": 8,
}
HOME_COUNTRIES = (
    ("DE", 14), ("GB", 11), ("US", 14), ("FR", 9), ("ES", 5), ("IT", 5), ("NL", 4), ("TR", 6),
    ("BR", 5), ("JP", 3), ("SG", 2), ("AE", 2), ("UA", 3), ("VN", 3), ("PL", 3), ("CA", 3),
    ("AU", 2), ("KR", 2), ("NG", 2), ("IN", 1), ("PH", 1),
)


@dataclass(frozen=True, slots=True)
class Block:
    """A real /24 of one operator in one city."""

    prefix: str
    country: str
    city: str
    lat: float
    lon: float
    kind: str
    operator: str

    def ip(self, rng: random.Random) -> str:
        return f"{self.prefix}.{rng.randint(2, 253)}"


def _index() -> tuple[dict[tuple[str, str], list[Block]], dict[str, list[Block]]]:
    by_place: dict[tuple[str, str], list[Block]] = defaultdict(list)
    by_country_kind: dict[str, list[Block]] = defaultdict(list)
    for row in NETBLOCKS:
        b = Block(*row)
        by_place[(b.kind, b.country)].append(b)
        by_country_kind[b.kind].append(b)
    return by_place, by_country_kind


BY_PLACE, BY_KIND = _index()


def residential(country: str) -> list[Block]:
    return BY_PLACE.get(("residential", country), [])


def mobile(country: str) -> list[Block]:
    return BY_PLACE.get(("mobile", country), [])


def hosting(country: str | None = None) -> list[Block]:
    if country is None:
        return BY_KIND["hosting"]
    return BY_PLACE.get(("hosting", country), [])


def home_block(rng: random.Random, country: str) -> Block:
    blocks = residential(country) or mobile(country)
    return rng.choice(blocks)


def same_city(block: Block, kind: str) -> list[Block]:
    return [b for b in BY_PLACE.get((kind, block.country), []) if b.city == block.city]


def km_between(a: Block, b: Block) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(
        (lo2 - lo1) / 2
    ) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


# asset -> (networks, usd price at START, daily drift amplitude, decimals)
ASSETS: dict[str, tuple[tuple[str, ...], float, float, int]] = {
    "BTC": (("BTC",), 97_000.0, 0.12, 8),
    "ETH": (("ETH", "ARB"), 3_400.0, 0.18, 6),
    "USDT": (("TRX", "ETH", "BSC"), 1.0, 0.0, 2),
    "USDC": (("ETH", "ARB", "SOL"), 1.0, 0.0, 2),
    "BNB": (("BSC",), 880.0, 0.15, 4),
    "SOL": (("SOL",), 185.0, 0.25, 4),
    "TRX": (("TRX",), 0.31, 0.1, 2),
}


def price(asset: str, ts: datetime) -> float:
    _, base, amp, _ = ASSETS[asset]
    days = (ts - START).total_seconds() / 86400
    return base * (1 + amp * math.sin(days / 19.0) * 0.6 + amp * math.sin(days / 7.3) * 0.4)


def quantize(asset: str, amount: float) -> Decimal:
    decimals = ASSETS[asset][3]
    return Decimal(repr(amount)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def usd(amount: Decimal, asset: str, ts: datetime) -> Decimal:
    value = Decimal(repr(price(asset, ts))) * amount
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt_ts(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Wallet:
    """An on-chain address the owner controls (or an attacker's)."""

    asset: str
    network: str
    address: str


@dataclass
class Person:
    """One account holder, with the habits that make their logs look like theirs."""

    uid: str
    rng: random.Random
    country: str
    home: Block
    email: str
    phone: str
    created_at: datetime
    devices: list[v.Device]
    mfa: str
    activity: float  # expected sessions per day
    kyc_level: int = 2
    status: str = "active"
    restrictions: str = ""
    referrer_uid: str = ""
    home_ips: list[str] = field(default_factory=list)
    wallets: list[Wallet] = field(default_factory=list)
    balance: dict[str, Decimal] = field(default_factory=dict)
    app_sessions: dict[str, str] = field(default_factory=dict)

    def home_ip(self) -> str:
        return self.rng.choice(self.home_ips)

    def mobile_ip(self) -> str:
        blocks = mobile(self.country)
        if not blocks:
            return self.home_ip()
        return self.rng.choice(blocks).ip(self.rng)

    def local_hour_ts(self, day: datetime, lo: float = 7.0, hi: float = 23.5) -> datetime:
        """A moment of `day` when people of this country are awake."""
        hour = self.rng.uniform(lo, hi) - UTC_OFFSET.get(self.country, 0)
        return day.replace(hour=0, minute=0, second=0) + timedelta(
            hours=hour, seconds=self.rng.randint(0, 59)
        )


def pick_country(rng: random.Random) -> str:
    names = [c for c, _ in HOME_COUNTRIES]
    weights = [w for _, w in HOME_COUNTRIES]
    return rng.choices(names, weights)[0]


MFA_CHOICES = (("totp", 45), ("sms", 25), ("email", 10), ("passkey", 10), ("hardware_key", 3),
               ("none", 7))


def new_person(uid: str, seed: int, country: str | None = None,
               created_after: datetime | None = None) -> Person:
    """A person with a home, devices and habits, drawn from their own seeded stream."""
    rng = random.Random(f"{seed}:{uid}")
    country = country or pick_country(rng)
    home = home_block(rng, country)
    earliest = created_after or datetime(2021, 3, 1, tzinfo=UTC)
    span = (START + timedelta(days=60) - earliest).total_seconds()
    created = earliest + timedelta(seconds=rng.uniform(0, max(span, 3600)))
    p = Person(
        uid=uid, rng=rng, country=country, home=home, email=v.email_for(rng, country),
        phone=v.phone_for(rng, country), created_at=created,
        devices=_devices(rng), mfa=rng.choices(*zip(*MFA_CHOICES, strict=True))[0],
        activity=rng.choice((0.04, 0.08, 0.15, 0.25, 0.4, 0.7)),
        kyc_level=rng.choices((0, 1, 2, 3), (4, 16, 55, 25))[0],
    )
    others = same_city(home, "residential") or [home]
    p.home_ips = [home.ip(rng)] + [rng.choice(others).ip(rng) for _ in range(rng.randint(0, 2))]
    p.wallets = [own_wallet(rng) for _ in range(rng.randint(1, 3))]
    return p


def _devices(rng: random.Random) -> list[v.Device]:
    phone = rng.choice(("ios", "android", "mobile_web"))
    kinds = [phone]
    if rng.random() < 0.7:
        kinds.append("desktop_web")
    if rng.random() < 0.08:
        kinds.append("desktop")
    return [v.make_device(rng, k) for k in kinds]


def own_wallet(rng: random.Random, asset: str | None = None) -> Wallet:
    asset = asset or rng.choice(("BTC", "ETH", "USDT", "USDT", "USDC", "SOL", "BNB"))
    network = rng.choice(ASSETS[asset][0])
    return Wallet(asset, network, v.address_for(network, rng))
