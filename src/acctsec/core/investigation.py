"""One account's investigation, start to finish, as a pure function of its inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from acctsec.core.access import Access, Actor, access_of, build_accesses, group_actors
from acctsec.core.patterns import (
    impossible_travel_signals,
    recovery_signals,
    session_hijack_signals,
    stuffing_signals,
)
from acctsec.core.report import Report, TimelineEntry
from acctsec.core.respond import actions_for, advice_for, attack_kind, summary
from acctsec.core.signals import NotChecked, Signal
from acctsec.core.takeover import (
    UNATTRIBUTED,
    ActorFindings,
    attribute_outflows,
    findings_for,
)
from acctsec.core.verdict import Scores, decide, score
from acctsec.intel.interface import IpInfo
from acctsec.model import AccountRecords, PopulationStats, SecurityEvent

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass(frozen=True)
class Inputs:
    """Everything one investigation needs, gathered by the caller."""

    records: AccountRecords
    ip_info: Mapping[str, IpInfo]
    population: PopulationStats
    generated_at: datetime
    since: datetime | None = None
    until: datetime | None = None
    extra_signals: Sequence[Signal] = ()  # from fraud linking, fund tracing, …
    linked_accounts: Sequence[Mapping[str, Any]] = ()
    funds: Sequence[Mapping[str, Any]] = ()
    not_checked: Sequence[NotChecked] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)


def in_window(records: AccountRecords, until: datetime | None) -> AccountRecords:
    """Records up to `until`: what was known at that time."""
    if until is None:
        return records
    return replace(
        records,
        logins=tuple(x for x in records.logins if x.ts <= until),
        security_events=tuple(x for x in records.security_events if x.ts <= until),
        transactions=tuple(x for x in records.transactions if x.ts <= until),
        alerts=tuple(x for x in records.alerts if x.ts is None or x.ts <= until),
    )


def takeover_findings(records: AccountRecords, accesses: list[Access],
                      infos: Mapping[str, IpInfo]) -> list[ActorFindings]:
    actors = group_actors(accesses)
    outflows = attribute_outflows(records.transactions, actors)
    if UNATTRIBUTED in outflows:
        # Withdrawals nobody can be tied to are judged as one more actor.
        actors[UNATTRIBUTED] = Actor(UNATTRIBUTED, [access_of("transaction", t, infos)
                                                    for t in outflows[UNATTRIBUTED]])
    history = list(records.transactions)
    security = list(records.security_events)
    failures = [lg for lg in records.logins if lg.event == "login_failure"]
    found = (findings_for(a, accesses, actors, outflows.get(k, []), history, security,
                          failures) for k, a in actors.items())
    return [f for f in found if f is not None]


def _recent(signals: list[Signal], since: datetime | None) -> list[Signal]:
    if since is None:
        return signals
    return [s for s in signals if s.ts is None or s.ts >= since]


def _recent_findings(findings: list[ActorFindings], since: datetime | None,
                     ) -> list[ActorFindings]:
    """Actors seen since `since`, with only their findings from then on."""
    if since is None:
        return findings
    kept = []
    for found in findings:
        if found.actor.last_seen >= since:
            found.access = _recent(found.access, since)
            found.actions = _recent(found.actions, since)
            kept.append(found)
    return kept


# Findings about one sign-in: they count toward the actor that made it.
ACTOR_PATTERNS = frozenset({"credential_stuffing_success", "password_guessing"})


def attach_to_actors(findings: list[ActorFindings], signals: list[Signal]) -> list[Signal]:
    """Adds sign-in findings to their actor's access evidence; returns the others."""
    rest = []
    for signal in signals:
        login = signal.evidence.get("login") if signal.id in ACTOR_PATTERNS else None
        owner = next((f for f in findings for a in f.actor.logins()
                      if a.ip == login.get("ip") and a.ts.isoformat() == login.get("ts")),
                     None) if isinstance(login, dict) else None
        if owner is None:
            rest.append(signal)
        else:
            owner.access.append(replace(signal, evidence={**signal.evidence,
                                                          "actor": owner.actor.key}))
    return rest


def run(inp: Inputs) -> Report:
    records = in_window(inp.records, inp.until)
    unborn = _before_creation(records, inp.until)
    # Before the account existed nothing it did can be judged, the links included.
    extra = [] if unborn else list(inp.extra_signals)
    accesses = build_accesses(records, inp.ip_info)
    findings = _recent_findings(takeover_findings(records, accesses, inp.ip_info), inp.since)
    patterns = _recent(session_hijack_signals(records, inp.ip_info)
                       + recovery_signals(records)
                       + stuffing_signals(records, inp.population, inp.ip_info)
                       + impossible_travel_signals(accesses), inp.since)
    patterns = attach_to_actors(findings, patterns) + _recent(extra, inp.since)
    signals = [s for f in findings for s in (*f.access, *f.actions)] + patterns
    scores = score(findings, signals)
    not_checked = list(inp.not_checked) + _unattributable(accesses) + unborn
    history_ok = (any(f.baseline.established for f in findings) or len(accesses) >= 3) \
        and not _unattributable(accesses)
    verdict = decide(scores, not_checked, history_ok)
    top = scores.top_actor
    # What the verdict rests on: the decisive actor's findings and the stream patterns.
    decisive = ([*top.access, *top.actions] if top else []) + patterns \
        if verdict.label in ("takeover", "suspicious") else signals
    attack = attack_kind(decisive, scores, signals) if verdict.label == "takeover" \
        or verdict.leaning == "takeover" else None
    signals.sort(key=lambda s: (SEVERITY_ORDER[s.severity], -s.weight))
    verdict = replace(verdict, attack=attack, summary=summary(verdict, decisive, attack)
                      if not unborn else "Nothing to judge: the account did not exist yet "
                      "at --until.")
    return Report(
        uid=records.account.uid, generated_at=inp.generated_at, since=inp.since,
        until=inp.until, verdict=verdict, account=records.account, signals=tuple(signals),
        linked_accounts=tuple(inp.linked_accounts), funds=tuple(inp.funds),
        actions=tuple(actions_for(verdict, decisive, attack)),
        advice=tuple(advice_for(verdict, attack, decisive)), not_checked=tuple(not_checked),
        timeline=tuple(timeline(records, signals, inp.since)), skipped_rows=records.problems,
        stats={**inp.stats, **_score_stats(scores)},
    )


def _unattributable(accesses: list[Access]) -> list[NotChecked]:
    if not accesses or any(a.ip or a.device_id or a.ua_key for a in accesses):
        return []
    return [NotChecked("takeover", "no ip, device_id or user_agent in the records: who used "
                       "the account cannot be told apart")]


def _before_creation(records: AccountRecords, until: datetime | None) -> list[NotChecked]:
    created = records.account.created_at
    if until is None or created is None or until >= created \
            or records.logins or records.security_events or records.transactions:
        return []
    return [NotChecked("window", f"--until {until:%Y-%m-%d %H:%M} UTC is before the account "
                       f"was created ({created:%Y-%m-%d %H:%M} UTC): nothing to judge")]


def _score_stats(s: Scores) -> dict[str, Any]:
    top = s.top_actor
    return {"takeover_score": round(s.takeover, 2), "fraud_score": round(s.fraud, 2),
            "top_actor": top.actor.key if top else None}


def timeline(records: AccountRecords, signals: list[Signal],
             since: datetime | None) -> list[TimelineEntry]:
    """Security changes, money movements and sign-ins of note from `since` on, in time order."""
    flagged = {s.ts for s in signals if s.weight > 0 and s.ts is not None}
    out: list[TimelineEntry] = []
    for lg in records.logins:
        if lg.event in ("login_success", "session_refresh") and lg.ts in flagged:
            out.append(TimelineEntry(lg.ts, lg.event, _where(lg.ip, lg.device_id), True))
    for e in records.security_events:
        text = " ".join(p for p in (_where(e.ip, e.device_id), _detail_text(e)) if p)
        out.append(TimelineEntry(e.ts, e.event, text, e.ts in flagged))
    for t in records.transactions:
        dest = t.address or t.counterparty_uid or t.payment_method or ""
        text = f"{t.amount} {t.asset} {dest}".strip() + (" (charged back)" if t.chargeback
                                                        else "")
        out.append(TimelineEntry(t.ts, t.kind, text, t.ts in flagged))
    for a in records.alerts:
        if a.ts is not None:
            what = " ".join(p for p in (a.source, a.kind) if p)
            out.append(TimelineEntry(a.ts, "alert", f"{a.alert_id} {what}".strip()
                                     + (f": {_short(a.note)}" if a.note else "")))
    out.sort(key=lambda e: e.ts)
    return out if since is None else [e for e in out if e.ts >= since]


def _short(text: str, width: int = 80) -> str:
    """Free text on one line, cut to `width` characters."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _where(ip: str | None, device_id: str | None) -> str:
    return " ".join(p for p in (ip, f"device {device_id}" if device_id else None) if p)


# The `detail` fields a timeline line names, and how it names them.
_DETAIL_LABELS = {"device_id": "authorised device", "address": "address", "network": "on",
                  "asset": "for", "method": "method", "key_id": "key",
                  "permissions": "permissions", "ip_whitelist": "IPs", "reason": "reason"}


def _detail_text(e: SecurityEvent) -> str:
    """What a security event changed, from its `detail`: the new device, address, e-mail..."""
    if isinstance(e.detail, str):
        return _short(e.detail)
    if not isinstance(e.detail, Mapping):
        return ""
    old, new = e.detail_value("old"), e.detail_value("new")
    parts = [f"{old or '?'} → {new or '?'}"] if old or new else []
    for key, label in _DETAIL_LABELS.items():
        value = e.detail_value(key)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if value not in (None, ""):
            parts.append(f"{label} {value}")
    return " ".join(parts)
