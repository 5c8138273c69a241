"""Takeover detectors: who used the account, how unfamiliar they were, and what they did."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from acctsec.core.access import (
    API_ACTOR,
    NOVELTY_WINDOW,
    Access,
    Actor,
    Baseline,
    baseline_before,
)
from acctsec.core.signals import BENIGN, TAKEOVER, Signal
from acctsec.model import Login, SecurityEvent, Transaction

# Security changes that hand control of the account to whoever makes them.
CONTROL_EVENTS = {
    "email_change": 1.5,
    "phone_change": 1.5,
    "password_change": 1.0,
    "password_reset": 1.0,
    "mfa_disable": 1.5,
    "mfa_reset": 1.5,
    "mfa_enable": 0.7,  # an attacker binds their own authenticator
    "anti_phishing_change": 1.0,  # hides the phishing e-mails that follow
    "device_authorize": 0.7,
}
# Changes that open a path for money to leave.
MONEY_PATH_EVENTS = {
    "withdrawal_address_add": 1.5,
    "withdrawal_whitelist_off": 1.5,
    "api_key_create": 1.0,  # 2.0 when the key may withdraw
}

# A destination whitelisted this long before a withdrawal, before the withdrawing
# actor appeared, is the owner's own, long-standing choice.
ESTABLISHED_DESTINATION = timedelta(days=7)
# Share of the balance that makes an outflow a drain. Owners rarely empty an
# account through a new destination; takeovers almost always do.
DRAIN_SHARE = Decimal("0.7")
# An actor is unfamiliar from this much access evidence: e.g. a new device on a
# new network, or any one strong finding (a stuffing source, a moved session).
UNFAMILIAR = 1.5


@dataclass
class ActorFindings:
    """The signals about one actor, split into how unfamiliar it was and what it did."""

    actor: Actor
    baseline: Baseline
    access: list[Signal] = field(default_factory=list)
    actions: list[Signal] = field(default_factory=list)

    @property
    def access_score(self) -> float:
        return sum(s.weight for s in self.access)

    @property
    def action_score(self) -> float:
        return sum(s.weight for s in self.actions)

    @property
    def unfamiliar(self) -> bool:
        return self.access_score >= UNFAMILIAR


def history_factor(baseline: Baseline) -> float:
    """How much novelty means given the history: half after one access, fully after 20+.

    This is the smoothing of Freeman et al. (NDSS 2016): the likelihood of a value
    the user never used falls with the number of observations of that user. Half
    weight remains with a thin history because most exchange accounts sign in
    rarely, and a takeover of a quiet account is no less a takeover.
    """
    return 0.5 + 0.5 * min(1.0, math.log1p(baseline.accesses) / math.log1p(20))


def _window(actor: Actor) -> list[Access]:
    end = actor.first_seen + NOVELTY_WINDOW
    return [a for a in actor.accesses if a.ts <= end]


def _sig(sid: str, weight: float, text: str, ts: datetime | None, actor: Actor,
         direction: str = TAKEOVER, **evidence: Any) -> Signal:
    severity = ("info" if weight < 0.3 else "low" if weight < 1.0
                else "medium" if weight < 2.0 else "high")
    if direction == BENIGN:
        severity = "info"
    return Signal(sid, severity, direction, round(weight, 2), text, ts,
                  {"actor": actor.key, **evidence})


def novelty_signals(actor: Actor, baseline: Baseline) -> list[Signal]:
    """New device, network, country and anonymising network, relative to the baseline."""
    seen = _window(actor)
    first = seen[0]
    factor = history_factor(baseline)
    out: list[Signal] = []
    base_ev: dict[str, Any] = {"first_access": first.where(), "baseline": _baseline_ev(baseline)}
    is_device = actor.key.startswith("device:")
    if is_device and "@" in actor.key:
        out.append(_sig("known_device_elsewhere", 0.5, f"device {first.device_id}, known on "
                        f"this account, came through a {first.network_kind} network in "
                        f"{first.country}: a replayed device id, or the owner on a VPN abroad",
                        first.ts, actor, **base_ev))
    elif actor.key.startswith("session:"):
        org = (first.info.as_org if first.info else None) or first.network
        place = (" ".join(p for p in ("a data centre", f"({org})" if org else None,
                                      f"in {first.country}" if first.country else None) if p)
                 if first.network_kind == "hosting" else first.country or "another place")
        out.append(_sig("session_moved", 1.0, f"session {first.session_id} was used from "
                        f"{place} with no new sign-in, though it was opened elsewhere: "
                        "a stolen session token carries the device id with it",
                        first.ts, actor, **base_ev))
    elif is_device or (first.ua_key and first.ua_key not in baseline.ua_keys
                       and not actor.is_api):
        what = f"device {first.device_id}" if is_device else f"browser {first.ua_key}"
        out.append(_sig("new_device", 1.0 * factor,
                        f"{what} never used on this account in {baseline.accesses} earlier "
                        f"accesses over {baseline.days} days", first.ts, actor, **base_ev))
    out.extend(_network_novelty(actor, seen, baseline, factor))
    out.extend(_client_signals(actor, seen, baseline))
    return out


def _baseline_ev(b: Baseline) -> dict[str, Any]:
    return {"accesses": b.accesses, "days": b.days, "devices": len(b.devices),
            "countries": sorted(b.countries), "networks": sorted(b.networks)}


def _network_novelty(actor: Actor, seen: list[Access], baseline: Baseline,
                     factor: float) -> list[Signal]:
    out: list[Signal] = []
    known_ip = [a for a in seen if a.ip in baseline.ips]
    new_net = [a for a in seen if a.network and a.network not in baseline.networks]
    new_country = [a for a in seen if a.country and a.country not in baseline.countries]
    if known_ip:
        a = known_ip[0]
        out.append(_sig("known_network", -0.8, f"used from {a.ip}, an IP this account has "
                        "used before (home or office network)", a.ts, actor, BENIGN,
                        access=a.where()))
    elif new_net:
        a = new_net[0]
        mobile = a.network_kind == "mobile" and a.country in baseline.countries
        weight = (0.3 if mobile else 0.8) * factor
        org = a.info.as_org if a.info else ""
        asn = f"AS{a.asn} " if a.asn is not None else ""
        out.append(_sig("new_network", weight, f"network {asn}{org}"
                        f" ({a.network_kind}) never seen on this account before"
                        + (" - a mobile carrier in a familiar country" if mobile else ""),
                        a.ts, actor, access=a.where(), known_networks=sorted(baseline.networks)))
    if new_country:
        a = new_country[0]
        known = ", ".join(sorted(baseline.countries))
        out.append(_sig("new_country", 1.0 * factor, f"access from {a.country}, a country this "
                        f"account never used before (known: {known})",
                        a.ts, actor, access=a.where()))
    return out


def _client_signals(actor: Actor, seen: list[Access], baseline: Baseline) -> list[Signal]:
    out: list[Signal] = []
    # API keys run on servers, so a cloud network is their home, not a disguise.
    anon = [a for a in seen if a.info is not None and a.info.anonymising
            and not (actor.is_api and a.network_kind == "hosting")]
    if anon:
        a = anon[0]
        reason = a.info.network_reason if a.info else None
        if baseline.anonymising_share >= 0.5:
            out.append(_sig("habitual_anonymiser", -0.5, f"{a.network_kind} network, but "
                            f"{baseline.anonymising_share:.0%} of this account's earlier accesses "
                            "came through such networks too", a.ts, actor, BENIGN,
                            access=a.where()))
        elif baseline.anonymising_share < 0.2:
            out.append(_sig("anonymising_network", 1.0, f"access through a {a.network_kind} "
                            f"network ({reason or 'classified by network owner'}); this account "
                            f"used such networks for {baseline.anonymising_share:.0%} of earlier "
                            "accesses", a.ts, actor, access=a.where()))
    bots = [a for a in seen if a.automated]
    if bots:
        a = bots[0]
        ua = getattr(a.record, "user_agent", None)
        out.append(_sig("automation_client", 1.0, "signed in with an automation client or HTTP "
                        f"library (user agent {ua!r}) outside the API channel", a.ts, actor,
                        access=a.where(), user_agent=ua))
    return out


UNATTRIBUTED = "unattributed"


def attribute_outflows(transactions: Iterable[Transaction], actors: Mapping[str, Actor],
                       ) -> dict[str, list[Transaction]]:
    """Outflows per actor: as grouped by device, session or IP, else the last actor that
    signed in within a day before; the rest under UNATTRIBUTED."""
    grouped = {id(a.record): key for key, actor in actors.items() for a in actor.accesses
               if a.kind == "transaction"}
    out: dict[str, list[Transaction]] = {}
    for tx in transactions:
        if not tx.is_outflow or not tx.settled:
            continue
        key = grouped.get(id(tx)) or _last_actor_before(tx.ts, actors) or UNATTRIBUTED
        out.setdefault(key, []).append(tx)
    return out


def _last_actor_before(ts: datetime, actors: Mapping[str, Actor]) -> str | None:
    best: tuple[datetime, str] | None = None
    for key, actor in actors.items():
        for a in actor.logins():
            if ts - timedelta(days=1) <= a.ts <= ts and (best is None or a.ts > best[0]):
                best = (a.ts, key)
    return best[1] if best else None


def in_action_window(actor: Actor, ts: datetime) -> bool:
    """Whether something done at `ts` still counts against this actor: within the two
    weeks after it first appeared (after that, a device is part of the furniture)."""
    return ts <= actor.first_seen + NOVELTY_WINDOW


def security_signals(actor: Actor, novel: bool, accesses: Sequence[Access] = ()
                     ) -> list[Signal]:
    """Control and money-path changes this actor made while it was new. `accesses`: the
    account's, in time order (for the addresses it used before the actor appeared)."""
    out: list[Signal] = []
    for access in actor.actions():
        event = access.record
        if not isinstance(event, SecurityEvent) or not in_action_window(actor, event.ts):
            continue
        weight, what = _security_weight(event)
        if weight <= 0:
            continue
        out.append(_sig("security_change", weight, f"{what} by this device/network",
                        event.ts, actor, event=event.event, detail=_detail(event),
                        row=str(event.origin) if event.origin else None))
        if novel and _via_sms(event, actor) and event.event in ("password_reset", "mfa_reset",
                                                               "phone_change") \
                and not _at_home(access, _home_ips(accesses, actor)):
            out.append(_sig("sms_reset_new_device", 2.0, f"{event.event} completed over SMS "
                            "from a device or network never used before: the pattern of a SIM "
                            "swap", event.ts, actor, event=event.event, detail=_detail(event)))
    return out


def _home_ips(accesses: Sequence[Access], actor: Actor) -> frozenset[str]:
    """Addresses the account used, before `actor` appeared, on two or more days: a
    home's, not one an intruder's laptop used an hour before their phone did."""
    days: dict[str, set[Any]] = {}
    for a in accesses:
        if a.ts >= actor.first_seen:
            break
        if a.ip:
            days.setdefault(a.ip, set()).add(a.ts.date())
    return frozenset(ip for ip, seen in days.items() if len(seen) >= 2)


def _at_home(access: Access, home_ips: frozenset[str]) -> bool:
    """Made from the very address the account used before on two or more days, not a
    data centre or anonymiser: a SIM swapper works from their own network, while an
    owner sets up a new phone on the home Wi-Fi. (Network lists cannot tell a home line
    from a carrier that also sells them, so a carrier's address counts too: the same
    address, not just the same carrier.)"""
    return bool(access.ip) and access.ip in home_ips and access.network_kind != "hosting" \
        and not (access.info is not None and access.info.anonymising)


def _security_weight(event: SecurityEvent) -> tuple[float, str]:
    name = event.event
    if name == "api_key_create":
        perms = event.detail_value("permissions") or []
        can_withdraw = isinstance(perms, list) and "withdraw" in [str(p) for p in perms]
        return (2.0, "API key with withdraw permission created") if can_withdraw else (
            1.0, "API key created")
    if name in MONEY_PATH_EVENTS:
        return MONEY_PATH_EVENTS[name], name.replace("_", " ")
    if name in CONTROL_EVENTS:
        return CONTROL_EVENTS[name], name.replace("_", " ")
    return 0.0, name


def _detail(event: SecurityEvent) -> Any:
    return dict(event.detail) if isinstance(event.detail, Mapping) else event.detail


def _via_sms(event: SecurityEvent, actor: Actor) -> bool:
    detail = event.detail
    values = detail.values() if isinstance(detail, Mapping) else [detail or ""]
    if any("sms" in str(v).lower() for v in values):
        return True
    return any(getattr(a.record, "mfa_method", None) == "sms" for a in actor.logins())


def money_signals(actor: Actor, outflows: list[Transaction], history: list[Transaction],
                  security: list[SecurityEvent]) -> list[Signal]:
    """Withdrawals by this actor: to new destinations, and how much of the balance."""
    out: list[Signal] = []
    paid: set[str] = set()
    outflows = [t for t in outflows if in_action_window(actor, t.ts)]
    for tx in outflows:
        dest = tx.address or tx.counterparty_uid or ""
        if dest in paid:
            continue  # the first payment to a destination is the finding
        paid.add(dest)
        known = _known_destination(tx, history, security, actor)
        if known:
            out.append(_sig("known_destination", -0.5, f"{tx.kind} to {known}", tx.ts, actor,
                            BENIGN, transaction=_tx_ev(tx)))
        else:
            out.append(_new_destination(tx, actor, history))
    drain = _drain(outflows, history)
    if drain is not None:
        share, moved, balance, unit = drain
        held = (f"{share:.0%} of the {balance} {unit} the account held" if share < 1 else
                f"all of the {balance} {unit} the records show it holding (earlier balance "
                "unknown)")
        out.append(_sig("balance_drain", 1.5, f"moved {moved} {unit} out, {held}",
                        outflows[0].ts, actor,
                        moved=str(moved), balance=str(balance), unit=unit,
                        share=round(min(float(share), 1.0), 3)))
    return out


# Someone who must cash out before the owner notices withdraws within hours of
# first getting in; an owner's new phone is used for weeks before it pays anyone.
QUICK_CASHOUT = timedelta(hours=24)


def _new_destination(tx: Transaction, actor: Actor, history: list[Transaction]) -> Signal:
    quick = tx.ts - actor.first_seen <= QUICK_CASHOUT
    paid_before = any(t.is_outflow and t.ts < tx.ts and t is not tx for t in history)
    weight = (1.5 if quick else 1.0) * (1.0 if paid_before else 0.7)
    when = (f"{_span(tx.ts - actor.first_seen)} after this device first appeared" if quick
            else "")
    habit = "" if paid_before else "; the account had no earlier payments to compare with"
    return _sig("withdrawal_to_new_address", weight, f"{tx.kind} of {tx.amount} {tx.asset} to "
                f"{_dest(tx)}, never paid before this device/network appeared and not an "
                "established whitelist entry"
                + (f", {when}" if when else "") + habit, tx.ts, actor, transaction=_tx_ev(tx))


def _dest(tx: Transaction) -> str:
    if tx.address:
        return f"address {tx.address}" + (f" on {tx.network}" if tx.network else "")
    if tx.counterparty_uid:
        return f"account {tx.counterparty_uid}"
    return "an unrecorded destination"


def _tx_ev(tx: Transaction) -> dict[str, Any]:
    return {"ts": tx.ts.isoformat(), "kind": tx.kind, "asset": tx.asset,
            "amount": str(tx.amount), "usd_value": str(tx.usd_value) if tx.usd_value else None,
            "address": tx.address, "network": tx.network, "txhash": tx.txhash,
            "counterparty_uid": tx.counterparty_uid,
            "row": str(tx.origin) if tx.origin else None}


def _known_destination(tx: Transaction, history: list[Transaction],
                       security: list[SecurityEvent], actor: Actor) -> str | None:
    dest = tx.address or tx.counterparty_uid
    if not dest:
        return None
    for old in history:
        if old is tx or old.ts >= tx.ts or (old.address or old.counterparty_uid) != dest:
            continue
        if old.is_outflow and old.ts < actor.first_seen:
            return f"{dest}, paid before on {old.ts.date().isoformat()}"
        if old.is_inflow:
            return f"{dest}, which funded this account on {old.ts.date().isoformat()}"
    for event in security:
        if event.event == "withdrawal_address_add" and event.detail_value("address") == dest \
                and event.ts < actor.first_seen and tx.ts - event.ts >= ESTABLISHED_DESTINATION:
            return f"{dest}, whitelisted on {event.ts.date().isoformat()}"
    return None


# Outflows this close together are one cash-out; a drain is measured per burst.
DRAIN_BURST = timedelta(hours=72)


def _drain(outflows: list[Transaction], history: list[Transaction],
           ) -> tuple[Decimal, Decimal, Decimal, str] | None:
    """(share, moved, balance, unit) of the burst of outflows that took the largest share
    of the balance just before it, when that share is a drain."""
    if not outflows:
        return None
    use_usd = all(t.usd_value is not None for t in history if t.settled)
    asset = outflows[0].asset
    unit = "USD" if use_usd else asset
    best: tuple[Decimal, Decimal, Decimal, str] | None = None
    for burst in _bursts(outflows):
        balance = _balance_before(burst[0].ts, history, use_usd, asset)
        moved = sum((_value(t, use_usd, asset) for t in burst), Decimal(0))
        if balance > 0 and moved > 0 and (best is None or moved / balance > best[0]):
            best = (moved / balance, moved, balance, unit)
    return best if best is not None and best[0] >= DRAIN_SHARE else None


def _bursts(outflows: list[Transaction]) -> list[list[Transaction]]:
    bursts: list[list[Transaction]] = []
    for tx in outflows:
        if bursts and tx.ts - bursts[-1][0].ts <= DRAIN_BURST:
            bursts[-1].append(tx)
        else:
            bursts.append([tx])
    return bursts


def _balance_before(when: datetime, history: list[Transaction], use_usd: bool,
                    asset: str) -> Decimal:
    balance = Decimal(0)
    for t in history:
        if t.ts < when and t.settled:
            sign = 1 if t.is_inflow else -1 if t.is_outflow else 0
            balance += sign * _value(t, use_usd, asset)
    return balance


def _value(tx: Transaction, use_usd: bool, asset: str) -> Decimal:
    if use_usd:
        return tx.usd_value or Decimal(0)
    return tx.amount if tx.asset == asset else Decimal(0)


def findings_for(actor: Actor, accesses: list[Access], actors: Mapping[str, Actor],
                 outflows: list[Transaction], history: list[Transaction],
                 security: list[SecurityEvent], failures: Sequence[Login] = ()
                 ) -> ActorFindings | None:
    """All signals about one actor, or None when it is part of the account's baseline."""
    baseline = baseline_before(accesses, actor.first_seen, actor.key, actors)
    if not baseline.exists:
        return None
    found = ActorFindings(actor, baseline)
    found.access.extend(novelty_signals(actor, baseline))
    found.access.extend(api_key_signals(actor, actors, security))
    novel = any(s.weight > 0 for s in found.access)
    for s in security_signals(actor, novel, accesses):
        (found.access if s.id == "sms_reset_new_device" else found.actions).append(s)
    found.actions.extend(money_signals(actor, outflows, history, security))
    found.access.extend(control_then_cashout(actor, found.actions))
    found.access.extend(early_lockout(actor, found.actions, novel and baseline.established))
    found.access.extend(early_cashout(actor, found.actions, novel and baseline.established))
    found.access.extend(without_sign_in(actor, found.actions, security))
    found.access.extend(owner_locked_out(actor, found.actions, accesses, failures))
    if novel and not any(s.id == "early_cashout" for s in found.access):
        found.access.extend(owner_like(actor, found.actions, baseline, actors))
    return found


# A thief cashes out and leaves within hours or days; the owner's new phone stays.
# A device still in regular use a month after it appeared, on many days, is the
# owner's, unless it locked the owner out and the owner's own devices fell silent
# (then the account changed hands, and what it did first still counts).
TENURE = timedelta(days=30)
TENURE_DAYS = 8
# Before acting, an owner's new phone lives on the owner's own networks for days;
# a thief who must race the owner acts within hours of getting in. (Authorising the
# device, or enabling a second factor on it, is how a phone comes in, not acting.)
SETTLED_DAYS = 2
SETTLED_SPAN = timedelta(hours=72)
ACTING = 1.0


def owner_like(actor: Actor, actions: list[Signal], baseline: Baseline,
               actors: Mapping[str, Actor]) -> list[Signal]:
    """Counter-evidence for a new device that behaves as the owner's own. Never for API
    calls (a leaked key keeps polling), for an actor that emptied the account within
    the hour (the thief's race), or, before acting, for one that locked the owner out."""
    if actor.is_api:
        return []
    days = {a.ts.date() for a in actor.accesses}
    later = actor.last_seen - actor.first_seen
    locked_out = any(s.id == "security_change" and s.evidence.get("event") in LOCKOUT_EVENTS
                     for s in actions)
    end = actor.first_seen + NOVELTY_WINDOW
    owner_still_here = any(o is not actor and not o.is_api and o.first_seen < actor.first_seen
                           and o.last_seen > end for o in actors.values())
    if later >= TENURE and len(days) >= TENURE_DAYS and (owner_still_here or not locked_out):
        return [_sig("kept_in_use", -1.5, f"in regular use for {later.days} days after it "
                     f"appeared, on {len(days)} days (last {actor.last_seen:%Y-%m-%d}): thieves "
                     "cash out and leave; a device kept for months is the owner's",
                     actor.first_seen, actor, BENIGN, days_used=len(days),
                     last_seen=actor.last_seen.isoformat())]
    if actor.key.startswith("session:") and not locked_out:
        return travelled(actor, actions, actors)
    acted = [s.ts for s in actions if s.weight >= ACTING and s.ts is not None]
    before = [a for a in actor.accesses if not acted or a.ts < min(acted)]
    home = [a for a in before if a.network in baseline.networks
            and not (a.info is not None and a.info.anonymising)]
    home_days = {a.ts.date() for a in home}
    if not locked_out and len(home_days) >= SETTLED_DAYS \
            and home[-1].ts - home[0].ts >= SETTLED_SPAN and len(home) * 2 >= len(before):
        nets = ", ".join(sorted({a.info.as_org or str(a.network) for a in home if a.info}))
        return [_sig("settled_before_acting", -1.0, f"used on {len(home_days)} days from the "
                     f"account's own networks ({nets}) before it changed or paid anything: "
                     "how an owner's new phone settles in; a thief races the owner",
                     home[0].ts, actor, BENIGN, days=len(home_days))]
    return []


# A session carried abroad stays in use there, day after day, and nothing of the account
# is used back home meanwhile: a traveller with their phone. A stolen cookie is replayed
# in one sitting to cash out, often while the owner goes on using the account at home.
TRAVEL_DAYS = 4
TRAVEL_SPAN = timedelta(hours=72)


def travelled(actor: Actor, actions: list[Signal], actors: Mapping[str, Actor]
              ) -> list[Signal]:
    """Counter-evidence for a session used in another country with no new sign-in. Not
    for a session that turned up in a data centre or behind an anonymiser (a thief's
    replay), nor for one that drained the account (a thief may keep a stolen session
    alive for days after the cash-out; a traveller spends some of it)."""
    first = actor.accesses[0]
    if first.network_kind == "hosting" or (first.info is not None and first.info.anonymising) \
            or any(s.id == "balance_drain" for s in actions):
        return []
    days = {a.ts.date() for a in actor.accesses}
    span = actor.last_seen - actor.first_seen
    there = first.country
    # anything of the account used from another place meanwhile (the owner at home)
    meanwhile = [a for o in actors.values() if o is not actor and not o.is_api
                 for a in o.accesses if actor.first_seen <= a.ts <= actor.last_seen
                 and ((a.country and a.country != there)
                      or (a.network and a.network != first.network))]
    if len(days) < TRAVEL_DAYS or span < TRAVEL_SPAN or meanwhile:
        return []
    return [_sig("travelled_with_session", -1.5, f"the session stayed in use in {there or '?'} "
                 f"on {len(days)} days over {span.days} days, and nothing of the account was "
                 "used from anywhere else meanwhile: a traveller with their phone; a stolen "
                 "cookie is replayed in one sitting to cash out, often while the owner goes "
                 "on using the account at home", actor.first_seen, actor, BENIGN,
                 days_used=len(days), country=there)]


# After an intruder resets the password, the owner's own device fails to sign in with
# the password it knew, and does not get back in: the owner no longer holds the account.
# An owner who reset it themselves types the old one once on their phone, then the new.
LOCKED_OUT_WINDOW = timedelta(days=7)
PASSWORD_EVENTS = frozenset({"password_reset", "password_change"})


def owner_locked_out(actor: Actor, actions: list[Signal], accesses: Sequence[Access],
                     failures: Sequence[Login]) -> list[Signal]:
    reset = min((s.ts for s in actions if s.id == "security_change" and s.ts is not None
                 and s.evidence.get("event") in PASSWORD_EVENTS), default=None)
    if reset is None or not failures:
        return []
    mine = {a.device_id for a in actor.accesses if a.device_id}
    owners = {a.device_id for a in accesses
              if a.ts < actor.first_seen and a.device_id and a.device_id not in mine}
    failed = [f for f in failures if f.device_id in owners
              and timedelta(0) < f.ts - reset <= LOCKED_OUT_WINDOW]
    if not failed:
        return []
    devices = {f.device_id for f in failed}
    back_in = any(a.kind == "login" and a.device_id in devices
                  and failed[0].ts < a.ts <= failed[0].ts + LOCKED_OUT_WINDOW for a in accesses)
    if back_in:
        return []
    return [_sig("owner_locked_out", 1.5, f"after this device or network changed the password "
                 f"({reset:%Y-%m-%d %H:%M}), the account's own device(s) "
                 f"{', '.join(sorted(str(d) for d in devices))} failed to sign in "
                 f"{len(failed)} time(s) and did not get back in within "
                 f"{LOCKED_OUT_WINDOW.days} days: the owner no longer knows the password",
                 failed[0].ts, actor, failures=[str(f.origin) if f.origin else f.ts.isoformat()
                                                for f in failed])]


CLOCK_SKEW = timedelta(hours=1)


# A bot pinned to a server or two (address blocks) for months that suddenly calls from
# elsewhere has lost its key; one that already hops between a cloud's blocks has not.
PINNED_BOT_ADDRESSES = 2


def api_key_signals(actor: Actor, actors: Mapping[str, Actor],
                    security: list[SecurityEvent]) -> list[Signal]:
    """API calls from an address an API key's own IP whitelist names (the owner's server),
    or from an address the account's API calls never came from (a leaked key: owners'
    bots stay on their servers for months; a thief calls from their own)."""
    first = actor.accesses[0]
    if not actor.is_api or not first.ip:
        return []
    # A key's first calls may be logged minutes before its creation (the API gateway's
    # clock and the account's are different systems): its own creation counts then.
    keys = [e for e in security if e.event == "api_key_create" and (
        e.ts <= first.ts or (e.ts <= first.ts + CLOCK_SKEW and first.session_id is not None
                             and e.detail_value("key_id") == first.session_id))]
    whitelisting = [e for e in keys if first.ip and first.ip in
                    {str(ip) for ip in (e.detail_value("ip_whitelist") or [])}]
    if whitelisting:
        key = whitelisting[-1]
        return [_sig("whitelisted_api_address", -1.5, f"API called from {first.ip}, an "
                     f"address the IP whitelist of key {key.detail_value('key_id') or '?'} "
                     f"names (set when it was created on {key.ts:%Y-%m-%d}): the owner's "
                     "server", first.ts, actor, BENIGN, access=first.where())]
    earlier = [o for o in actors.values()
               if o is not actor and o.is_api and o.first_seen < actor.first_seen]
    if not earlier:
        return []
    addresses = sorted({o.key[len(API_ACTOR):] for o in earlier})
    networks = {o.accesses[0].network for o in earlier}
    if len(addresses) <= PINNED_BOT_ADDRESSES:
        weight, habit = 1.5, f"only from {', '.join(addresses)}"
    elif first.network not in networks:
        weight, habit = 1.0, f"only from the networks {', '.join(sorted(map(str, networks)))}"
    else:
        weight, habit = 0.5, f"from {len(addresses)} addresses of this network"
    org = first.info.as_org if first.info and first.info.as_org else first.network
    place = ", ".join(p for p in (org, first.country) if p)
    return [_sig("api_key_moved", weight, f"API called from {first.ip}"
                 + (f" ({place})" if place else "") + f" with {first.session_id or 'a key'}, "
                 f"though the account's API calls came {habit} before: a leaked key is used "
                 "from the thief's own machines", first.ts, actor,
                 api_key=first.session_id, access=first.where(), earlier_addresses=addresses)]


# Someone who takes over an account secures it first: within the hour of first
# getting in, the e-mail, phone or anti-phishing code is theirs, or an API key that
# may withdraw. An owner's new phone signs in and trades; it does not rewire the
# account's recovery. (A brand-new account's owner does set such things up, so
# this needs an established history.)
EARLY = timedelta(hours=1)
EARLY_LOCKOUT_EVENTS = frozenset({"email_change", "phone_change", "mfa_disable",
                                  "anti_phishing_change", "withdrawal_whitelist_off"})


def early_lockout(actor: Actor, actions: list[Signal], novel: bool) -> list[Signal]:
    for change in actions:
        if novel and _locks_out(change) and change.ts is not None \
                and change.ts - actor.first_seen <= EARLY:
            return [_sig("early_lockout_change", 1.0, f"{change.evidence.get('event')} "
                         f"{_span(change.ts - actor.first_seen)} after this device or network "
                         "first appeared: securing the account for oneself", change.ts, actor,
                         event=change.evidence.get("event"))]
    return []


def _locks_out(change: Signal) -> bool:
    """A change that takes the account from its owner (an API key that may withdraw too)."""
    return change.id == "security_change" and (
        change.evidence.get("event") in EARLY_LOCKOUT_EVENTS or change.weight >= 2.0)


# The same race on the money side: a thief on the victim's own ISP (a residential
# proxy in the victim's city) shows only a new device, then empties the account to
# a new address within minutes. An owner's new phone is used before it pays a new
# destination most of the balance; one who does it at once is worth a hold anyway.
def early_cashout(actor: Actor, actions: list[Signal], novel: bool) -> list[Signal]:
    drain = next((s for s in actions if s.id == "balance_drain"), None)
    first = next((s for s in actions if s.id == "withdrawal_to_new_address" and s.ts), None)
    if not novel or drain is None or first is None or first.ts is None \
            or first.ts - actor.first_seen > EARLY:
        return []
    known = _balance_known(drain)
    if not known and not _added_then_paid(actions, first):
        return []
    span = _span(first.ts - actor.first_seen)
    what = (f"{drain.evidence.get('share', 0):.0%} of the balance moved out, the first of it "
            f"to a destination never paid before {span}" if known else
            f"{drain.evidence['moved']} {drain.evidence['unit']} moved out (the records do not "
            f"show all the account held), the first of it to an address this actor whitelisted "
            f"itself {span}")
    return [_sig("early_cashout", 1.0, f"{what} after this device or network first appeared: "
                 "cashing out before the owner notices", first.ts, actor,
                 share=drain.evidence.get("share") if known else None)]


def _added_then_paid(actions: list[Signal], payment: Signal) -> bool:
    """The actor whitelisted the destination itself before paying it: with the balance
    unknown, that still marks the race (an owner pays addresses they already use)."""
    paid = (payment.evidence.get("transaction") or {}).get("address")
    return bool(paid) and any(
        s.id == "security_change" and s.evidence.get("event") == "withdrawal_address_add"
        and isinstance(s.evidence.get("detail"), dict)
        and s.evidence["detail"].get("address") == paid
        and s.ts is not None and payment.ts is not None and s.ts <= payment.ts
        for s in actions)


def _balance_known(drain: Signal) -> bool:
    """The records show what the account held: it did not pay out more than that (when
    it did, deposits are missing from the records and the share says little)."""
    return Decimal(str(drain.evidence["moved"])) <= Decimal(str(drain.evidence["balance"]))


def without_sign_in(actor: Actor, actions: list[Signal],
                    security: list[SecurityEvent]) -> list[Signal]:
    """Money sent by someone who never signed in: through an API key, most likely."""
    if actor.logins() or not any(s.id == "withdrawal_to_new_address" for s in actions):
        return []
    first = actor.first_seen
    keys = [e for e in security if e.event == "api_key_create" and e.ts <= first
            and "withdraw" in [str(p) for p in (e.detail_value("permissions") or [])]]
    if keys:
        key = keys[-1]
        return [_sig("withdrawal_without_sign_in", 1.5, "money left to a new destination with no "
                     "sign-in, session or known device behind it, and an API key with withdraw "
                     f"permission exists (created {key.ts:%Y-%m-%d}): a leaked API key",
                     first, actor, api_key=key.detail_value("key_id"),
                     api_key_ip_whitelist=key.detail_value("ip_whitelist"))]
    return [_sig("withdrawal_without_sign_in", 0.5, "money left to a new destination with no "
                 "sign-in, session or known device recorded behind it", first, actor)]


# Owners change their e-mail, phone or second factor now and then, and withdraw
# now and then; doing both within a day, to a destination never paid before, is
# what someone does who must cash out before the owner notices.
CASHOUT_SPAN = timedelta(hours=24)
LOCKOUT_EVENTS = frozenset({"email_change", "phone_change", "password_change", "password_reset",
                            "mfa_disable", "mfa_reset", "anti_phishing_change",
                            "withdrawal_whitelist_off"})


def control_then_cashout(actor: Actor, actions: list[Signal]) -> list[Signal]:
    changes = [s for s in actions if s.id == "security_change"
               and s.evidence.get("event") in LOCKOUT_EVENTS and s.ts]
    cashouts = [s for s in actions if s.id == "withdrawal_to_new_address" and s.ts]
    for change in changes:
        for cash in cashouts:
            assert change.ts is not None and cash.ts is not None
            if timedelta(0) <= cash.ts - change.ts <= CASHOUT_SPAN:
                gap = cash.ts - change.ts
                return [_sig("control_then_cashout", 1.0,
                             f"{change.evidence.get('event')} followed {_span(gap)} later by a "
                             "withdrawal to a destination never paid before",
                             cash.ts, actor, change_ts=change.ts.isoformat(),
                             withdrawal_ts=cash.ts.isoformat())]
    return []


def _span(gap: timedelta) -> str:
    minutes = gap.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
