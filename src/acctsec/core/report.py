"""The verdict report (spec/report.md) as a typed value, and its JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from acctsec.core.respond import Action
from acctsec.core.signals import NotChecked, Signal
from acctsec.core.verdict import Verdict
from acctsec.model import Account, RowProblem

SCHEMA = "acctsec.report/1"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    ts: datetime
    kind: str
    what: str
    flagged: bool = False


@dataclass(frozen=True)
class Report:
    uid: str
    generated_at: datetime
    since: datetime | None
    until: datetime | None
    verdict: Verdict
    account: Account
    signals: tuple[Signal, ...] = ()
    linked_accounts: tuple[Mapping[str, Any], ...] = ()
    funds: tuple[Mapping[str, Any], ...] = ()
    actions: tuple[Action, ...] = ()
    advice: tuple[str, ...] = ()
    not_checked: tuple[NotChecked, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    skipped_rows: tuple[RowProblem, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)


def account_facts(r: Report) -> list[tuple[str, str]]:
    """The account's e-mail, phone, status and KYC country that are known, as the views show
    them. The status is the source's current one, so with --until it is said to be today's."""
    a = r.account
    facts = (("e-mail", a.email), ("phone", a.phone),
             ("status today" if r.until else "status", a.status), ("KYC", a.kyc_country))
    return [(label, value) for label, value in facts if value]


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts else None


def signal_dict(s: Signal) -> dict[str, Any]:
    return {"id": s.id, "severity": s.severity, "direction": s.direction, "ts": _iso(s.ts),
            "weight": s.weight, "explanation": s.explanation, "evidence": dict(s.evidence)}


def to_dict(r: Report) -> dict[str, Any]:
    """The JSON object of spec/report.md, plus added fields (never renamed or dropped)."""
    v = r.verdict
    return {
        "schema": SCHEMA,
        "uid": r.uid,
        "generated_at": _iso(r.generated_at),
        "window": {"since": _iso(r.since), "until": _iso(r.until)},
        "verdict": {"label": v.label, "risk": v.risk, "confidence": v.confidence,
                    "summary": v.summary, "attack": v.attack, "leaning": v.leaning},
        "signals": [signal_dict(s) for s in r.signals],
        "linked_accounts": [dict(x) for x in r.linked_accounts],
        "funds": [dict(x) for x in r.funds],
        "actions": [{"action": a.action, "reason": a.reason} for a in r.actions],
        "advice": list(r.advice),
        "not_checked": [{"check": n.check, "reason": n.reason} for n in r.not_checked],
        "account": {"uid": r.account.uid, "email": r.account.email, "phone": r.account.phone,
                    "created_at": _iso(r.account.created_at), "status": r.account.status,
                    "kyc_level": r.account.kyc_level, "kyc_country": r.account.kyc_country},
        "skipped_rows": [{"file": p.file, "line": p.line, "reason": p.reason, "kept": p.kept}
                         for p in r.skipped_rows],
        "timeline": [{"ts": _iso(e.ts), "kind": e.kind, "what": e.what, "flagged": e.flagged}
                     for e in r.timeline],
        "stats": dict(r.stats),
    }
