"""Detectors over the login stream: stolen sessions, credential stuffing, impossible travel."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from acctsec.core.access import Access
from acctsec.core.signals import TAKEOVER, Signal
from acctsec.intel.geo import COUNTRY_ACCURACY_KM, haversine_km
from acctsec.intel.interface import IpInfo
from acctsec.intel.useragent import parse_user_agent
from acctsec.model import AccountRecords, KeyStats, Login, PopulationStats

# An IP that failed to sign in to this many other accounts is attack
# infrastructure: a household or office shares an IP among a handful of
# people, and they mostly succeed.
STUFFING_MIN_OTHER_ACCOUNTS = 5
# Failures in a short burst on this one account before a success: guessing.
GUESSING_MIN_FAILURES = 5
GUESSING_SPAN = timedelta(hours=1)
# Door-to-door speed above which two places cannot be reached in time, after
# allowing for the geolocation error of both IPs.
TRAVEL_MAX_KMH = 900.0
TRAVEL_MIN_KM = 500.0
# Mobile carriers route many cities' traffic through a few gateways, so a phone's
# IP says little more than its country: within one country, no travel finding.
MOBILE_ACCURACY_KM = 2000.0


def _ev(login: Login, info: IpInfo | None) -> dict[str, Any]:
    out: dict[str, Any] = {"ts": login.ts.isoformat(), "event": login.event, "ip": login.ip,
                           "device_id": login.device_id, "session_id": login.session_id,
                           "user_agent": login.user_agent}
    if info is not None:
        out.update(country=info.country, city=info.city, asn=info.asn, as_org=info.as_org,
                   network_kind=info.network_kind)
    if login.origin is not None:
        out["row"] = str(login.origin)
    return out


def session_hijack_signals(records: AccountRecords,
                           infos: Mapping[str, IpInfo]) -> list[Signal]:
    """A session id used from a second device or network without a new login."""
    opened: dict[str, Login] = {}
    out: list[Signal] = []
    flagged: set[tuple[str, str | None]] = set()
    signed_in: dict[int, int] = {}  # sign-ins with password (and 2FA) per network so far
    for login in records.logins:
        sid = login.session_id
        if login.event == "login_success" and (info := infos.get(login.ip or "")) \
                and info.asn is not None:
            signed_in[info.asn] = signed_in.get(info.asn, 0) + 1
        if not sid or login.failed:
            continue
        if login.event == "login_success":
            opened.setdefault(sid, login)
            continue
        origin = opened.get(sid)
        if origin is None or login.event != "session_refresh":
            continue
        found = _elsewhere(origin, login, infos, signed_in)
        place = login.device_id or login.ip
        if found and (sid, place) not in flagged:
            why, weight = found
            flagged.add((sid, place))
            out.append(Signal(
                "session_hijack", "critical", TAKEOVER, weight,
                f"session {sid} opened by a login on {origin.ts:%Y-%m-%d %H:%M} was used "
                f"{why} with no new login: a stolen session token or cookie",
                login.ts,
                {"session_id": sid, "opened_by": _ev(origin, infos.get(origin.ip or "")),
                 "reused_by": _ev(login, infos.get(login.ip or ""))},
            ))
    return out


def _browser(user_agent: str) -> str:
    """Browser, OS and device class: a browser's own update changes none of them."""
    return parse_user_agent(user_agent).family_key


# The owner who signed in through a VPN this often turns it on and off mid-session.
HABITUAL_SIGN_INS = 2


def _elsewhere(origin: Login, later: Login, infos: Mapping[str, IpInfo],
               signed_in: Mapping[int, int]) -> tuple[str, float] | None:
    """Why `later` cannot be the device that opened the session, and how sure, or None.
    `signed_in`: the account's sign-ins so far per network (ASN)."""
    if origin.device_id and later.device_id and origin.device_id != later.device_id:
        return f"from another device ({later.device_id})", 3.0
    if origin.user_agent and later.user_agent and not later.device_id \
            and _browser(origin.user_agent) != _browser(later.user_agent):
        return f"from another browser ({_browser(later.user_agent)})", 3.0
    a, b = infos.get(origin.ip or ""), infos.get(later.ip or "")
    if not (a and b and a.country and b.country and a.country != b.country):
        return None
    if b.anonymising and not a.anonymising:
        # A stolen cookie carries the device id with it; a phone moving between
        # networks does not jump into a data centre abroad, unless its owner signs in
        # through that VPN too and switches it on mid-session.
        if b.asn is not None and signed_in.get(b.asn, 0) >= HABITUAL_SIGN_INS:
            return None
        return (f"from a {b.network_kind} network in {b.country} ({b.as_org or '?'}), "
                f"though it was opened in {a.country}"), 2.0
    if a.asn != b.asn and not (origin.device_id and origin.device_id == later.device_id):
        return f"from another country and network ({b.country}, {b.as_org or '?'})", 2.0
    return None


def _stuffing_sources(population: PopulationStats, records: AccountRecords,
                      ) -> tuple[set[str], set[str]]:
    """IPs, and automation user agents, that failed on many other accounts."""
    failed_here = [lg for lg in records.logins if lg.failed]
    own_ips = {lg.ip for lg in failed_here}
    own_tools = {lg.user_agent for lg in failed_here}

    def attacking(stats: KeyStats, mine: bool) -> bool:
        others = stats.failure_accounts - (1 if mine else 0)
        return others >= STUFFING_MIN_OTHER_ACCOUNTS and stats.failures > stats.successes

    ips = {ip for ip, stats in population.ips.items() if attacking(stats, ip in own_ips)}
    # Rotating proxies give each IP a few tries only; the tool's own user agent
    # (an HTTP library, a headless browser) then gives the campaign away.
    tools = {ua for ua, stats in population.user_agents.items()
             if attacking(stats, ua in own_tools) and parse_user_agent(ua).automated}
    return ips, tools


def stuffing_signals(records: AccountRecords, population: PopulationStats,
                     infos: Mapping[str, IpInfo]) -> list[Signal]:
    """Failures from sources that fail across many accounts, and whether one got in."""
    uid = records.account.uid
    ips, tools = _stuffing_sources(population, records)

    def from_campaign(lg: Login) -> bool:
        # The owner's own scripts on the API channel may share a library's user agent.
        return lg.ip in ips or (lg.user_agent in tools and lg.channel != "api")

    campaign = [lg for lg in records.logins if from_campaign(lg)] if ips or tools else []
    failures = [lg for lg in campaign if lg.failed]
    wins = [lg for lg in campaign if lg.succeeded]
    out: list[Signal] = []
    if wins:
        out.append(_stuffing_success(wins[0], population, infos, len(failures), uid,
                                     by_ip=wins[0].ip in ips))
    elif failures:
        out.append(Signal(
            "credential_stuffing_attempts", "info", TAKEOVER, 0.2,
            f"{len(failures)} failed sign-ins from {len({f.ip for f in failures})} IPs or tools "
            "that failed on many other accounts; none of them got in",
            failures[-1].ts,
            {"ips": sorted({f.ip for f in failures if f.ip}), "failures": len(failures),
             "first": failures[0].ts.isoformat(), "last": failures[-1].ts.isoformat()},
        ))
    out.extend(_guessing(records, infos, exclude=ips))
    return out


def _stuffing_success(win: Login, population: PopulationStats, infos: Mapping[str, IpInfo],
                      failures_here: int, uid: str, *, by_ip: bool) -> Signal:
    stats = population.ips[win.ip or ""] if by_ip else population.user_agents[win.user_agent or ""]
    source = f"{win.ip}, an IP" if by_ip else f"user agent {win.user_agent!r}, a tool"
    return Signal(
        "credential_stuffing_success", "critical", TAKEOVER, 2.5,
        f"signed in from {source} that failed to sign in to {stats.failure_accounts} accounts "
        f"({stats.failures} failures, {stats.successes} successes): a credential-stuffing "
        "source got in",
        win.ts,
        {"login": _ev(win, infos.get(win.ip or "")), "source_ip": win.ip,
         "source_user_agent": None if by_ip else win.user_agent,
         "failure_accounts": stats.failure_accounts, "failures": stats.failures,
         "successes": stats.successes, "failures_on_this_account": failures_here,
         "other_accounts_sample": [u for u in stats.sample_uids if u != uid][:10]},
    )


def _guessing(records: AccountRecords, infos: Mapping[str, IpInfo],
              exclude: set[str]) -> list[Signal]:
    """A burst of failures on this account, then a success from a client that failed."""
    known: set[tuple[str | None, ...]] = set()
    homes: set[str | None] = set()  # IPs the account signed in from before
    recent: dict[tuple[str | None, ...], deque[Login]] = {}
    for lg in records.logins:
        client = _client(lg)
        if lg.failed:
            for key in (("ip", lg.ip), client):
                window = recent.setdefault(key, deque())
                window.append(lg)
                while lg.ts - window[0].ts > GUESSING_SPAN:
                    window.popleft()
            continue
        if not lg.succeeded:
            continue
        # An owner who forgot the password types it wrong at home, often on a new phone.
        burst = {id(f): f for key in (("ip", lg.ip), client) for f in recent.get(key, ())
                 if lg.ts - f.ts <= GUESSING_SPAN} \
            if client not in known and lg.ip not in exclude and lg.ip not in homes else {}
        if len(burst) >= GUESSING_MIN_FAILURES:
            first = min(f.ts for f in burst.values())
            return [Signal(
                "password_guessing", "high", TAKEOVER, 1.5,
                f"{len(burst)} failed sign-ins within an hour from the same IP or device, "
                "then a success from a device never used before", lg.ts,
                {"login": _ev(lg, infos.get(lg.ip or "")), "failures": len(burst),
                 "first_failure": first.isoformat()})]
        known.add(client)
        homes.add(lg.ip)
    return []


def _client(lg: Login) -> tuple[str | None, ...]:
    """A device id, or with none recorded, the IP and browser together."""
    if lg.device_id:
        return ("device", lg.device_id)
    return ("ip+browser", lg.ip, _browser(lg.user_agent) if lg.user_agent else None)


def impossible_travel_signals(accesses: list[Access]) -> list[Signal]:
    """Two consecutive sign-ins too far apart to travel between, past geolocation error."""
    placed = [a for a in accesses if a.kind in ("login", "session_refresh") and a.info
              and a.info.lat is not None and a.info.lon is not None]
    out: list[Signal] = []
    far: dict[tuple[str | None, str | None], bool] = {}
    days = _device_days(accesses)
    for prev, cur in zip(placed, placed[1:], strict=False):
        if prev.ip == cur.ip or prev.info is cur.info:
            continue
        pair = (prev.ip, cur.ip)
        if pair not in far:
            # Most pairs are the same few places; only far-apart ones need a speed.
            far[pair] = _travel(prev, cur, ignore_time=True) is not None
        if not far[pair]:
            continue
        found = _travel(prev, cur, household=_household(prev, cur, days))
        if found is not None:
            out.append(found)
    # The strongest five, in time order: many weak ones (a VPN user's switches) must
    # not push a later strong one out of the report.
    strongest = sorted(out, key=lambda s: -s.weight)[:5]
    return [s for s in out if any(s is k for k in strongest)]


def _device_days(accesses: list[Access]) -> dict[str, list[date]]:
    """The distinct days each device id was used on, in order."""
    days: dict[str, list[date]] = {}
    for a in accesses:
        if a.device_id:
            seen = days.setdefault(a.device_id, [])
            day = a.ts.date()
            if not seen or seen[-1] != day:
                seen.append(day)
    return days


# Two devices the account has used on this many earlier days, in one country at
# once, are a household (or consumer ISPs' IPs placed in the wrong city); a thief's
# device is new. Across borders they are still flagged: device ids can be replayed.
ESTABLISHED_DAYS = 2


def _household(prev: Access, cur: Access, days: Mapping[str, list[date]]) -> bool:
    if not (prev.device_id and cur.device_id) or prev.device_id == cur.device_id \
            or prev.country is None or prev.country != cur.country:
        return False
    today = cur.ts.date()
    return all(bisect_left(days.get(d, []), today) >= ESTABLISHED_DAYS
               for d in (prev.device_id, cur.device_id))


def _travel(prev: Access, cur: Access, ignore_time: bool = False,
            household: bool = False) -> Signal | None:
    a, b = prev.info, cur.info
    if a is None or b is None or a.lat is None or a.lon is None or b.lat is None \
            or b.lon is None:
        return None
    mobile = "mobile" in (a.network_kind, b.network_kind)
    if mobile and a.country == b.country:
        return None
    distance = haversine_km(a.lat, a.lon, b.lat, b.lon)
    slack = sum(max(i.accuracy_km or COUNTRY_ACCURACY_KM,
                    MOBILE_ACCURACY_KM if i.network_kind == "mobile" else 0.0) for i in (a, b))
    effective = distance - slack
    hours = 1 / 60 if ignore_time else max((cur.ts - prev.ts).total_seconds() / 3600, 1 / 60)
    speed = effective / hours
    if effective < TRAVEL_MIN_KM or speed <= TRAVEL_MAX_KMH:
        return None
    same_device = bool(prev.device_id and prev.device_id == cur.device_id)
    vpn = a.anonymising or b.anonymising
    weight = 0.3 if (same_device or vpn or household) else 1.5
    why = (" - one side is a VPN or hosting network, so this may be a VPN switch" if vpn
           else " - the same device, so one location is likely a VPN or mis-located IP"
           if same_device else " - two devices this account has used for days, in one "
           "country: a household, or IPs placed in the wrong city" if household else "")
    return Signal(
        "impossible_travel", "high" if weight >= 1.5 else "low", TAKEOVER, weight,
        f"sign-in from {b.city or '?'}, {b.country or '?'} {_dur(hours)} after "
        f"{a.city or '?'}, {a.country or '?'} ({distance:,.0f} km, {speed:,.0f} km/h after "
        f"allowing {slack:,.0f} km of geolocation error){why}",
        cur.ts,
        {"previous": prev.where(), "current": cur.where(), "distance_km": round(distance),
         "hours": round(hours, 2), "speed_kmh": round(speed), "slack_km": round(slack),
         "actor": f"device:{cur.device_id}" if cur.device_id else None},
    )


def _dur(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 2 else f"{hours:.1f} h"


# Changes that hand the account's recovery to whoever asks, made with no address,
# device or session of the account's: through the exchange's support or back office.
RECOVERY_EVENTS = frozenset({"email_change", "phone_change", "mfa_reset", "mfa_disable",
                             "password_reset"})


def recovery_signals(records: AccountRecords) -> list[Signal]:
    """Recovery changes made out of band (support, back office): weightless on their own,
    they name the technique when an unfamiliar actor follows (see respond.attack_kind).
    Only where the account's other changes carry where they came from: records that never
    say it cannot tell a back-office change from any other."""
    if not any(e.ip or e.device_id or e.session_id for e in records.security_events):
        return []
    return [Signal("out_of_band_recovery", "info", TAKEOVER, 0.0,
                   f"{e.event.replace('_', ' ')} made with no address, device or session of "
                   "the account's (through support or the back office)", e.ts,
                   {"event": e.event, "row": str(e.origin) if e.origin else None,
                    "user_agent": e.user_agent})
            for e in records.security_events
            if e.event in RECOVERY_EVENTS and not (e.ip or e.device_id or e.session_id)]
