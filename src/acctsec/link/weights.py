"""How much each kind of link says that two accounts are held by one hand.

The numbers are log-likelihood-ratio style strengths, chosen from how rings and
honest customers behave:

- An e-mail mailbox or phone number is one person's: two accounts on it are
  almost always one holder (3.0).
- A device fingerprint is shared by a couple or a family (2-3 accounts) and by
  ring operators who run a dozen accounts from one phone (2.5 per pair; the
  ring detector looks at the group size and creation times).
- An IP is weak: households, offices and carrier NAT put strangers on one
  address. Its weight falls with the number of accounts on it and is cut for
  mobile, university, VPN, hosting and Tor networks, and for uses far apart in
  time (dynamic addresses are re-assigned).
- A withdrawal address used by several accounts is a common payout point; a
  deposit source used by many is usually another exchange's hot wallet.
- Referral and P2P trades join strangers every day and count little.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

# A value used by more accounts than this joins strangers, not accomplices:
# it is reported as a hub and makes no pairwise edges.
HUB_LIMIT = {"ip": 50, "device_id": 50, "address": 50, "email": 20, "phone": 20}

BASE = {
    "device_id": 2.5,
    "email": 3.0,
    "phone": 3.0,
    "ip": 1.0,
    "withdrawal_address": 2.0,
    "deposit_address": 1.0,
    "address_flow": 1.5,
    "referral": 0.5,
    "internal_transfer": 1.0,
    "p2p": 0.3,
}
LOOKALIKE = {"same_local": 1.2, "digits": 1.0, "edit_1": 0.6}

# How much of an IP link survives on networks many unrelated customers share.
NETWORK_FACTOR = {
    "private": 0.0,
    "tor": 0.05,
    "vpn": 0.15,
    "mobile": 0.15,
    "university": 0.2,
    "hosting": 0.3,
    "residential": 1.0,
    "unknown": 1.0,
}

_NO_GAP = timedelta(0)
_WEEK = timedelta(days=7)
_YEAR = timedelta(days=365)

# Weights below this do not pull an account into a deeper cluster search.
EXPAND_MIN = 1.0

IpClassifier = Callable[[str, "str | None"], "tuple[str | None, str | None]"]

_ORG_KINDS = (
    ("mobile", ("mobile", "wireless", "cellular", "lte", "t-mobile", "vodafone", "telefonica",
                "airtel", "jio", "mts", "megafon", "beeline", "tele2", "verizon", "at&t")),
    ("university", ("university", "universit", "college", "school", "campus", "academic",
                    "research and education", "dfn", "janet", "renater", "edu")),
    ("vpn", ("vpn", "proxy", "nord", "express", "surfshark", "mullvad", "private internet",
             "m247", "datacamp", "cdn77")),
    ("hosting", ("hosting", "cloud", "amazon", "aws", "google llc", "microsoft", "digitalocean",
                 "ovh", "hetzner", "linode", "akamai", "vultr", "contabo", "leaseweb",
                 "choopa", "server", "data center", "datacenter")),
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def classify_ip(ip: str, as_org: str | None = None) -> tuple[str | None, str | None]:
    """(network kind, reason) from the address range and the AS owner name, offline."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None, None
    if address.version == 4 and address in _CGNAT:
        return "mobile", "carrier-grade NAT range 100.64.0.0/10"
    if address.is_private or address.is_loopback or address.is_link_local:
        return "private", "private address range, not routable: says nothing across accounts"
    if as_org:
        org = as_org.lower()
        for kind, words in _ORG_KINDS:
            word = next((w for w in words if w in org), None)
            if word is not None:
                return kind, f"network owner {as_org!r} reads as {kind} ({word!r})"
    return None, None


def share_discount(accounts: int, full_up_to: int) -> float:
    """1.0 up to `full_up_to` accounts, then falling as full_up_to / accounts."""
    return 1.0 if accounts <= full_up_to else full_up_to / accounts


def apart(a: tuple[datetime | None, datetime | None],
          b: tuple[datetime | None, datetime | None]) -> timedelta | None:
    """The gap between two (first, last) usage windows; zero when they overlap."""
    (a_first, a_last), (b_first, b_last) = a, b
    if a_first is None or a_last is None or b_first is None or b_last is None:
        return None
    if a_last < b_first:
        return b_first - a_last
    if b_last < a_first:
        return a_first - b_last
    return _NO_GAP


def shared_weight(via: str, accounts: int, network: str | None, gap: timedelta | None) -> float:
    """Weight of one pairwise edge through a value shared by `accounts` accounts."""
    # Of the gap, only whether it is over a week and over a year counts: the hundreds
    # of pairs of an account's values have a few weights between them, each worked out once.
    if gap is None:
        return _shared_weight(via, accounts, network, False, False)
    return _shared_weight(via, accounts, network, gap > _WEEK, gap > _YEAR)


@lru_cache(maxsize=4096)
def _shared_weight(via: str, accounts: int, network: str | None, week_apart: bool,
                   year_apart: bool) -> float:
    if via == "ip":
        factor = NETWORK_FACTOR.get(network or "unknown", 1.0) * share_discount(accounts, 2)
        if week_apart:
            factor *= 0.3  # dynamic addresses pass from one customer to the next
        return round(BASE["ip"] * factor, 3)
    if via in ("deposit_address",):
        return round(BASE[via] * share_discount(accounts, 2), 3)
    if via in ("withdrawal_address", "address_flow"):
        return round(BASE[via] * share_discount(accounts, 10), 3)
    if via in ("email", "phone"):
        # a year apart: a number or mailbox re-issued to someone else
        return round(BASE[via] * (0.3 if year_apart else 1.0), 3)
    return round(BASE.get(via, 1.0) * share_discount(accounts, 12), 3)


def lookalike_weight(reason: str, stem_accounts: int) -> float:
    """Look-alike e-mails: a stem many accounts share (a common first name) counts less."""
    return round(LOOKALIKE.get(reason, 0.5) * share_discount(stem_accounts, 5), 3)
