"""Accesses to an account, who made them (actors), and how familiar each actor was."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from acctsec.intel.interface import IpInfo
from acctsec.intel.useragent import parse_user_agent
from acctsec.model import AccountRecords, Login, SecurityEvent, Transaction

# A device, network or country counts as new for this long after the account
# first used it. Attackers who wait before draining (a "slow" takeover) rarely
# wait longer than a couple of weeks; an owner's new phone is long established
# by then.
NOVELTY_WINDOW = timedelta(days=14)

# A baseline needs this much history (on at least two days) before the first use
# of a new device: with less, nothing is "familiar" yet and novelty means little.
MIN_BASELINE_ACCESSES = 3
# An address is the account's own ("known") once it was used this long before.
KNOWN_IP_AGE = timedelta(hours=1)
# An access with no device id is taken to be the device last seen on its IP this recently.
IP_OWNER_SPAN = timedelta(days=1)


# Not frozen: a working object of the detectors, made once per sign-in (100,000 for a
# busy account), where a frozen dataclass's per-field object.__setattr__ cost 0.1 s.
# Nothing assigns to it after it is built.
@dataclass(slots=True)
class Access:
    """One use of the account: a login, a session refresh, a security change, a withdrawal."""

    ts: datetime
    kind: str  # login | session_refresh | security | transaction
    record: Login | SecurityEvent | Transaction
    ip: str | None
    device_id: str | None
    session_id: str | None
    ua_key: str | None
    automated: bool
    info: IpInfo | None

    @property
    def country(self) -> str | None:
        return self.info.country if self.info else None

    @property
    def asn(self) -> int | None:
        return self.info.asn if self.info else None

    @property
    def network(self) -> str | None:
        """The network owner: its AS number when known, else its organisation name."""
        if self.info is None:
            return None
        if self.info.asn is not None:
            return f"AS{self.info.asn}"
        return self.info.as_org.strip().lower() if self.info.as_org else None

    @property
    def network_kind(self) -> str:
        return self.info.network_kind if self.info else "unknown"

    def where(self) -> dict[str, Any]:
        """The access's place and network, as evidence."""
        info = self.info
        out: dict[str, Any] = {"ts": self.ts.isoformat(), "kind": self.kind, "ip": self.ip,
                               "device_id": self.device_id}
        if info is not None:
            out.update(country=info.country, city=info.city, asn=info.asn, as_org=info.as_org,
                       network_kind=info.network_kind)
        if self.record.origin is not None:
            out["row"] = str(self.record.origin)
        return out


API_ACTOR = "api@"  # key prefix of the actors that are API calls from one address block


@dataclass
class Actor:
    """Whoever used one device (or, with no device id, one browser on one network)."""

    key: str
    accesses: list[Access] = field(default_factory=list)

    @property
    def is_api(self) -> bool:
        return self.key.startswith(API_ACTOR)

    @property
    def first_seen(self) -> datetime:
        return self.accesses[0].ts

    @property
    def last_seen(self) -> datetime:
        return self.accesses[-1].ts

    def logins(self) -> list[Access]:
        return [a for a in self.accesses if a.kind in ("login", "session_refresh")]

    def actions(self) -> list[Access]:
        return [a for a in self.accesses if a.kind in ("security", "transaction")]


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the account looked like before an actor first appeared."""

    accesses: int
    days: int
    devices: frozenset[str]
    ua_keys: frozenset[str]
    ips: frozenset[str]
    networks: frozenset[str]
    countries: frozenset[str]
    anonymising_share: float  # share of accesses from hosting / VPN / Tor networks

    @property
    def established(self) -> bool:
        return self.accesses >= MIN_BASELINE_ACCESSES and self.days >= 2

    @property
    def exists(self) -> bool:
        """Some earlier use of the account by someone else to compare with."""
        return self.accesses > 0


def access_of(kind: str, record: Any, infos: Mapping[str, IpInfo]) -> Access:
    ua = getattr(record, "user_agent", None)
    parsed = parse_user_agent(ua) if ua is not None else None
    ip = record.ip
    ua_key = parsed.family_key if parsed else None
    automated = bool(parsed and parsed.automated_on(getattr(record, "channel", None)))
    # In field order: keywords cost a third of the time of making it.
    return Access(record.ts, kind, record, ip, record.device_id,
                  getattr(record, "session_id", None), ua_key, automated,
                  infos.get(ip) if ip else None)


def build_accesses(records: AccountRecords, infos: Mapping[str, IpInfo]) -> list[Access]:
    """Every successful use of the account, in time order (failed logins are not uses)."""
    out: list[Access] = []
    for login in records.logins:
        if login.event == "login_success":
            out.append(access_of("login", login, infos))
        elif login.event == "session_refresh":
            out.append(access_of("session_refresh", login, infos))
    out.extend(access_of("security", e, infos) for e in records.security_events)
    out.extend(
        access_of("transaction", t, infos)
        for t in records.transactions
        if t.is_outflow and (t.ip or t.device_id)
    )
    out.sort(key=lambda a: a.ts)
    return out


def _actor_key(access: Access, session_owner: Mapping[str, str],
               ip_owner: Mapping[str, tuple[datetime, str]], api_keys: set[str],
               ip_signer: Mapping[str, tuple[datetime, str]]) -> str | None:
    if access.device_id:
        return f"device:{access.device_id}"
    if is_api(access) or (access.session_id and access.session_id in api_keys):
        # API calls come from the servers a bot runs on: their actor is the API on one
        # block of addresses (a /24, or a /48 for IPv6: a cloud's rotating addresses stay
        # one actor), so the API used from somewhere new is somebody new.
        if access.session_id:
            api_keys.add(access.session_id)
        return f"{API_ACTOR}{_block(access.ip) if access.ip else access.network or 'unknown'}"
    if access.session_id and access.session_id in session_owner:
        return session_owner[access.session_id]
    if access.ip and access.ip in ip_owner:
        when, key = ip_owner[access.ip]
        if access.ts - when <= IP_OWNER_SPAN:
            return key
    if access.kind in ("security", "transaction") and access.ip and access.ip in ip_signer:
        when, key = ip_signer[access.ip]  # a change or payment with only an address
        if access.ts - when <= IP_OWNER_SPAN:
            return key
    if access.ua_key and access.network:
        return f"browser:{access.ua_key}@{access.network}"
    if access.ip:
        return f"ip:{access.ip}"
    return None


def _block(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address is in, as text; the address itself when it
    is not one."""
    if ":" not in ip and ip.count(".") == 3:  # the common case, without parsing
        return ip.rsplit(".", 1)[0] + ".0/24"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:a.b.c.d is IPv4
    if mapped is not None:
        return _block(str(mapped))
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


def is_api(access: Access) -> bool:
    """A sign-in through the API channel: a key's call, not a person's."""
    return getattr(access.record, "channel", None) == "api"


class _Sessions:
    """Where each session was opened, and devices whose session moved: to another
    country, or from a consumer network into a data centre (an info-stealer's cookies
    replayed from a server, often in the victim's own country)."""

    def __init__(self) -> None:
        self.opened_in: dict[str, tuple[str | None, bool]] = {}  # sid -> (country, hosting)
        self.moved: dict[str, tuple[str, str]] = {}  # device key -> (actor key, place)

    def see(self, access: Access, key: str, habitual_exit: bool = False) -> str:
        """The actor key for this access: a moved session is an actor of its own. Not
        for an account that habitually goes through VPNs and data centres, when this
        access comes through one of the networks it used so (`habitual_exit`): such an
        owner's sessions hop between exit countries all the time."""
        sid, country = access.session_id, access.country
        hosting = access.network_kind == "hosting"
        place = (access.network if hosting else country) or ""
        if access.kind == "login":
            self.moved.pop(key, None)
            if sid:
                self.opened_in.setdefault(sid, (country, hosting))
            return key
        opened = self.opened_in.get(sid) if sid else None
        if access.kind == "session_refresh" and opened is not None and place \
                and not habitual_exit:
            opened_country, opened_hosting = opened
            if (opened_country and country and country != opened_country) \
                    or (hosting and not opened_hosting):
                self.moved[key] = (f"session:{sid}@{place}", place)
        moved = self.moved.get(key)
        if moved and place == moved[1]:
            return moved[0]
        return key


def group_actors(accesses: Iterable[Access]) -> dict[str, Actor]:
    """Accesses grouped by who made them; an access with no clue at all is left out.

    An access without a device id belongs to the device whose login opened its
    session, else to the device last seen on its IP within a day; a change or a
    payment with only an IP, to whoever signed in from that IP within the day
    before. A session used from another country than the one it was opened in,
    with no new sign-in, is an actor of its own until the device signs in again: a
    stolen session token carries the device id with it. API calls (`channel=api`, and
    what carries their session ids) are one actor per address block they come from.
    """
    actors: dict[str, Actor] = {}
    session_owner: dict[str, str] = {}
    ip_owner: dict[str, tuple[datetime, str]] = {}
    api_keys: set[str] = set()  # session ids (API keys or API sessions) of API calls
    sessions = _Sessions()
    places = _Places()
    ip_signer: dict[str, tuple[datetime, str]] = {}  # who last signed in from an address
    for access in accesses:
        key = _actor_key(access, session_owner, ip_owner, api_keys, ip_signer)
        if key is None:
            continue
        if access.kind == "login" and access.session_id:
            session_owner.setdefault(access.session_id, key)
        if access.ip and (access.device_id or key.startswith(API_ACTOR)):
            ip_owner[access.ip] = (access.ts, key)
        if access.ip and access.kind == "login":
            ip_signer[access.ip] = (access.ts, key)
        key = places.see(access, sessions.see(access, key, places.habitual_exit(access)))
        actor = actors.get(key)
        if actor is None:
            actor = actors[key] = Actor(key)
        actor.accesses.append(access)
    return actors


HABITUAL_ANONYMISED = 0.2


class _Places:
    """A known device turning up through an anonymising network in a new country is an
    actor of its own: device ids can be replayed by anti-detect browsers and stolen
    cookies, and the owner seldom hides behind a data centre abroad."""

    def __init__(self) -> None:
        self.countries: set[str] = set()
        self.seen = 0
        self.anonymised = 0
        self.displaced: dict[str, str] = {}  # device key -> displaced actor key
        self.devices: set[str] = set()
        self.exits: dict[str, set[date]] = {}  # anonymising network -> days it was used

    def habitual_anonymiser(self) -> bool:
        """A fifth or more of the account's accesses so far came through VPNs, Tor or
        data centres (and there were some)."""
        return self.seen > 0 and self.anonymised / self.seen >= HABITUAL_ANONYMISED

    def habitual_exit(self, access: Access) -> bool:
        """The account habitually goes through anonymisers, and went through this one on
        two or more earlier days (a thief's replays come from their own exits, in one
        sitting)."""
        days = self.exits.get(access.network or "")
        if not days or not self.habitual_anonymiser():
            return False
        return len(days) - (access.ts.date() in days) >= 2  # without copying the set

    def see(self, access: Access, key: str) -> str:
        info = access.info
        country = access.country
        anonymising = info is not None and info.anonymising
        if anonymising and country and country not in self.countries \
                and key.startswith("device:") and key in self.devices \
                and not self.habitual_anonymiser():
            self.displaced[key] = f"{key}@{access.network or country}"
        moved = self.displaced.get(key)
        if moved and info is not None and moved.endswith(f"@{access.network or country}"):
            key = moved
        else:
            self.seen += 1
            self.anonymised += anonymising
            self.devices.add(key)
            if anonymising and access.network:
                self.exits.setdefault(access.network, set()).add(access.ts.date())
            if country:
                self.countries.add(country)
        return key


def baseline_before(accesses: list[Access], when: datetime, exclude: str | None,
                    actors: Mapping[str, Actor]) -> Baseline:
    """The account's habits from accesses before `when`, leaving out one actor's own."""
    excluded = {id(a) for a in actors[exclude].accesses} if exclude and exclude in actors \
        else set()
    prior = [a for a in accesses if a.ts < when and id(a) not in excluded]
    days = {a.ts.date() for a in prior}
    anonymising = sum(1 for a in prior if a.info is not None and a.info.anonymising)
    return Baseline(
        accesses=len(prior),
        days=len(days),
        devices=frozenset(a.device_id for a in prior if a.device_id),
        ua_keys=frozenset(a.ua_key for a in prior if a.ua_key),
        # An address is the account's own once it was used an hour or more before: one
        # first seen minutes before is as likely the same intruder's.
        ips=frozenset(a.ip for a in prior if a.ip and a.ts <= when - KNOWN_IP_AGE),
        networks=frozenset(a.network for a in prior if a.network),
        countries=frozenset(a.country for a in prior if a.country),
        anonymising_share=anonymising / len(prior) if prior else 0.0,
    )
