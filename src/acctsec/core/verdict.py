"""From signals to a verdict: label, risk, confidence and a summary for the case note."""

from __future__ import annotations

import math
from dataclasses import dataclass

from acctsec.core.signals import FRAUD, TAKEOVER, NotChecked, Signal
from acctsec.core.takeover import UNFAMILIAR, ActorFindings

LABELS = ("takeover", "fraud", "suspicious", "clear")

# An unfamiliar actor (takeover.UNFAMILIAR) acts against the owner from this much
# action evidence: e.g. a new withdrawal address, or a quick withdrawal to a
# never-paid address.
HOSTILE_ACTION = 1.5
# Strong evidence short of the takeover chain still needs a person's look.
SUSPICIOUS_SCORE = 3.0
# Fraud needs about two independent strong findings (say a device shared by fresh
# accounts and a common payout address) or one on record (a charge-back with a
# fast cash-out): a household or a shared router gives one weak link at most.
FRAUD_THRESHOLD = 3.0
SUSPICIOUS_FRAUD = 1.5
# Risk approaches 100 as evidence grows: score 3 -> 63, 6 -> 86, 9 -> 95.
RISK_SCALE = 3.0
CLEAR_RISK_MAX = 38


@dataclass(frozen=True, slots=True)
class Verdict:
    label: str
    risk: int
    confidence: str
    summary: str
    attack: str | None = None  # phishing, sim_swap, stolen_session, credential_stuffing, …
    # For `suspicious`: which way the evidence leans, "takeover" (the holder may be a
    # victim) or "fraud" (the holder may be the bad actor: do not tip them off).
    leaning: str | None = None


@dataclass(frozen=True, slots=True)
class Scores:
    """What the verdict rests on, kept for the report and for tests."""

    takeover: float
    fraud: float
    top_actor: ActorFindings | None
    hijack: bool
    hijack_then_acted: bool
    fraud_on_record: bool = False  # an ON_RECORD finding that is fraud by itself


def actor_score(found: ActorFindings) -> float:
    """Access evidence plus what the actor did; a familiar actor's deeds hardly count."""
    return found.access_score + (found.action_score if found.unfamiliar else 0.0)


def chained(found: ActorFindings) -> bool:
    """An unfamiliar actor that acted against the owner: the takeover chain."""
    return found.access_score >= UNFAMILIAR and found.action_score >= HOSTILE_ACTION


def score(findings: list[ActorFindings], signals: list[Signal]) -> Scores:
    chains = [f for f in findings if chained(f)]
    top = max(chains or findings, key=actor_score, default=None)
    takeover = actor_score(top) if top else 0.0
    hijacks = [s for s in signals if s.id == "session_hijack" and s.ts is not None]
    takeover += sum(s.weight for s in signals if s.id in ("session_hijack", "impossible_travel")
                    and s.direction == TAKEOVER)
    fraud = sum(s.weight for s in signals if s.direction == FRAUD)
    acted = bool(hijacks) and _acted_after_hijack(findings, hijacks)
    on_record = any(s.id in ON_RECORD and s.direction == FRAUD
                    and s.weight >= FRAUD_THRESHOLD for s in signals)
    return Scores(takeover, max(fraud, 0.0), top, bool(hijacks), acted, on_record)


def _acted_after_hijack(findings: list[ActorFindings], hijacks: list[Signal]) -> bool:
    """Whether the session's thief, or another unfamiliar actor, acted after the reuse."""
    start = min(s.ts for s in hijacks if s.ts is not None)
    thieves = {f"device:{s.evidence.get('reused_by', {}).get('device_id')}" for s in hijacks}
    return any(
        (f.unfamiliar or f.actor.key in thieves or f.actor.key.startswith("session:"))
        and any(a.weight > 0 and a.ts is not None and a.ts >= start for a in f.actions)
        for f in findings
    )


# Fraud on record: a bank or card issuer took the money back, or attribution data names
# where the money came from. On an account with too little history to tell an intruder
# from the holder, that outweighs the "intruder": the holder's own VPN and new browser.
ON_RECORD = frozenset({"chargeback_fraud", "p2p_payment_reversed", "received_stolen_funds",
                       "deposit_from_flagged_address"})


def _is_takeover(s: Scores) -> bool:
    if s.fraud >= FRAUD_THRESHOLD and s.fraud_on_record and s.top_actor is not None \
            and not s.top_actor.baseline.established:
        return False
    return (s.top_actor is not None and chained(s.top_actor)) or s.hijack_then_acted


def decide(s: Scores, not_checked: list[NotChecked], history_ok: bool) -> Verdict:
    """The label, with risk monotone in the strongest evidence against `clear`."""
    strongest = max(s.takeover, s.fraud)
    risk = round(100 * (1 - math.exp(-max(strongest, 0.0) / RISK_SCALE)))
    if _is_takeover(s):
        label = "takeover"
    elif s.fraud >= FRAUD_THRESHOLD:
        label = "fraud"
    elif s.takeover >= SUSPICIOUS_SCORE or s.fraud >= SUSPICIOUS_FRAUD or (
        s.top_actor is not None and s.top_actor.unfamiliar and s.top_actor.action_score >= 0.5
    ):
        label = "suspicious"
    else:
        label = "clear"
        # Below any suspicious verdict (39 and up), so a queue sorted by risk keeps its
        # order: what was strong here was explained away (a familiar actor, no act).
        risk = min(risk, CLEAR_RISK_MAX)
    confidence = _confidence(label, strongest, not_checked, history_ok)
    leaning = ("fraud" if s.fraud > s.takeover else "takeover") if label == "suspicious" \
        else None
    return Verdict(label, risk, confidence, "", leaning=leaning)


def _confidence(label: str, strongest: float, not_checked: list[NotChecked],
                history_ok: bool) -> str:
    if label == "suspicious":
        return "low" if strongest < 2.0 else "medium"
    if label == "clear":
        if not history_ok:
            return "low"
        return "high" if strongest < 1.0 and not not_checked else "medium"
    if strongest >= 6.0 and history_ok:
        return "high"
    return "medium"
