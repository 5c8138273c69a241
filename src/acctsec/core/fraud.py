"""Fraud detectors: rings, money mules, chargeback fraud and stolen funds, from links and money."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from acctsec.core.signals import BENIGN, FRAUD, Signal
from acctsec.intel.identity import normalize_phone
from acctsec.link.model import AccountInfo, Edge, LinkContext, SharedValue
from acctsec.model import AccountRecords, Transaction

# Links that say "one hand holds both accounts"; IPs, referrals and P2P do not.
IDENTITY_VIAS = frozenset({"device_id", "email", "phone", "email_lookalike", "withdrawal_address"})
# Ring operators open their accounts in a burst: days, not months.
CREATION_BURST = timedelta(days=7)
# Look-alikes beyond this many are a common name. With 20 namesakes opening accounts
# at random over a few years, this account and two of them falling in one week
# happens by chance to about one account in a hundred; with hundreds, to most.
LOOKALIKE_BURST_MAX = 20
SAME_WEEK_ONLY = 1.5
# A device shared by this many accounts is beyond any household.
RING_DEVICE_ACCOUNTS = 5
HOUSEHOLD_MAX = 3
# Mules pass money on within hours; savers and traders hold it.
PASS_THROUGH_WINDOW = timedelta(hours=24)
MULE_MIN_SOURCES = 3
MULE_PASS_RATIO = Decimal("0.7")
MULE_MAX_DESTINATIONS = 2
# A mule's money is mostly others'; a merchant's few payments from friends are not.
MULE_PAID_SHARE = Decimal("0.25")
# Card and bank payments can be reversed for weeks; crypto sent out cannot.
CASH_OUT_WINDOW = timedelta(hours=72)
NEW_ACCOUNT = timedelta(days=14)
# A protection change this shortly before money leaves an account marks it as taken over.
TAKEOVER_LEAD = timedelta(hours=72)
TAKEOVER_EVENTS = frozenset(
    {"password_reset", "email_change", "phone_change", "mfa_disable", "mfa_reset",
     "withdrawal_whitelist_off", "api_key_create"}
)
FLAGGED_CATEGORIES = {
    "hack": 3.0, "theft": 3.0, "exploit": 3.0, "scam": 2.5, "phishing": 2.5,
    "ransomware": 3.0, "sanctioned": 3.0, "darknet": 2.5, "mixer": 1.5, "mixing": 1.5,
}


@dataclass(frozen=True)  # no slots: `between` is cached on the instance
class _Ctx:
    records: AccountRecords
    links: LinkContext
    labels: Mapping[str, str]
    address_labels: Mapping[str, str]

    @property
    def uid(self) -> str:
        return self.records.account.uid

    @cached_property
    def between(self) -> dict[str, list[Edge]]:
        """The account's edges by the other account: asked once per pair, not per edge."""
        return self.links.neighbours(self.uid)


def fraud_signals(
    records: AccountRecords,
    links: LinkContext,
    *,
    labels: Mapping[str, str] | None = None,
    address_labels: Mapping[str, str] | None = None,
) -> list[Signal]:
    """Every fraud finding about the account, and the benign facts that weigh against them.

    `labels` holds verdict labels already known for other accounts (e.g. from a batch
    run: uid -> "takeover"); `address_labels` attribution categories of on-chain
    addresses (address -> "hack", "scam", "exchange", …).
    """
    attribution = {k.lower(): v for k, v in (address_labels or {}).items()}
    ctx = _Ctx(records, links, labels or {}, attribution)
    signals: list[Signal] = []
    signals += ring_signals(ctx)
    signals += mule_signals(ctx)
    signals += chargeback_signals(ctx)
    signals += p2p_reversal_signals(ctx)
    signals += stolen_funds_signals(ctx)
    if not any(s.direction == FRAUD and s.weight >= 1.0 for s in signals):
        signals += household_scale(ctx)
    return signals


# --- multi-accounting and rings -------------------------------------------------------


def ring_signals(ctx: _Ctx) -> list[Signal]:
    out: list[Signal] = []
    for shared in ctx.links.shared_by("device_id", ctx.uid):
        signal = shared_device(ctx, shared)
        if signal is not None:
            out.append(signal)
    out += lookalike_identities(ctx)
    out += shared_mailbox_or_phone(ctx)
    out += phone_batch(ctx)
    out += shared_payout(ctx)
    out += referral_ring(ctx)
    out += self_dealing(ctx)
    return out


# P2P trades are between strangers; trades again and again with accounts of the same
# hand (a device, mailbox, phone or payout address in common) fake a merchant's volume
# and reputation, or launder money between one operator's accounts.
SELF_DEALING_TRADES = 5


def self_dealing(ctx: _Ctx) -> list[Signal]:
    trades: dict[str, int] = {}
    for e in ctx.links.edges_of(ctx.uid):
        if e.via == "p2p":
            other = e.other(ctx.uid)
            trades[other] = trades.get(other, 0) + int(e.detail.get("transfers") or 1)
    same_hand = sorted(u for u in trades
                       if _identity_linked(ctx, u) or _shared_payout_with(ctx, u))
    total = sum(trades[u] for u in same_hand)
    if total < SELF_DEALING_TRADES:
        return []
    return [Signal(
        "p2p_self_dealing", "medium", FRAUD, 1.5,
        f"{total} P2P trades with {len(same_hand)} account(s) that share a device, mailbox, "
        "phone or payout address with this one: trading with oneself, to fake a merchant's "
        "volume and reputation or to move money between one operator's accounts",
        evidence={"uids": same_hand, "trades": {u: trades[u] for u in same_hand}},
    )]


def _created(ctx: _Ctx, uid: str) -> datetime | None:
    info = ctx.links.accounts.get(uid)
    return info.created_at if info else None


def _burst(ctx: _Ctx, uids: Iterable[str]) -> list[str]:
    """The largest set of `uids` opened within CREATION_BURST of one another."""
    times = sorted((t, u) for u in uids if (t := _created(ctx, u)) is not None)
    best: list[str] = []
    start = 0
    for end in range(len(times)):
        while times[end][0] - times[start][0] > CREATION_BURST:
            start += 1
        if end - start + 1 > len(best):
            best = [u for _, u in times[start : end + 1]]
    return best


def _late_arrival(ctx: _Ctx, shared: SharedValue) -> timedelta | None:
    """How long after opening this account first used the value, when that is long.

    A device that reaches an old account only after the ring formed is more
    likely the ring's device used in a takeover of this account.
    """
    mine = shared.member(ctx.uid)
    created = _created(ctx, ctx.uid)
    if mine is None or mine.first_seen is None or created is None:
        return None
    lag = mine.first_seen - created
    return lag if lag > timedelta(days=30) else None


def shared_device(ctx: _Ctx, shared: SharedValue) -> Signal | None:
    uids = sorted(shared.uids())
    n = shared.accounts
    burst = _burst(ctx, uids)
    in_burst = ctx.uid in burst and len(burst) >= 3
    if n < RING_DEVICE_ACCOUNTS and not (n >= HOUSEHOLD_MAX and in_burst):
        return None
    late = _late_arrival(ctx, shared)
    weight = 3.0 if n >= RING_DEVICE_ACCOUNTS and in_burst else 1.5
    severity = "high" if weight >= 3.0 else "medium"
    text = f"device {shared.value!r} is used by {n} accounts"
    if in_burst:
        text += f"; {len(burst)} of them were opened within {CREATION_BURST.days} days"
    if late is not None and not in_burst:
        weight, severity = 0.5, "low"
        text += (f"; it reached this account only {late.days} days after it was opened, "
                 "as when a ring takes over an existing account")
    return Signal(
        "shared_device_ring", severity, FRAUD, weight,
        text + " (households share a device between 2-3 people)",
        ts=_member_first(shared, ctx.uid),
        evidence={"device_id": shared.value, "accounts": n, "uids": uids,
                  "opened_together": burst, "late_arrival_days": late.days if late else None},
    )


def _member_first(shared: SharedValue, uid: str) -> datetime | None:
    member = shared.member(uid)
    return member.first_seen if member else None


def lookalike_identities(ctx: _Ctx) -> list[Signal]:
    """E-mails made from one pattern. Alone weak (people share names); with a shared
    device or payout address, or opened in the same week, the mark of one operator."""
    edges = [e for e in ctx.links.edges_of(ctx.uid) if e.via == "email_lookalike"]
    if not edges:
        return []
    others = sorted({e.other(ctx.uid) for e in edges})
    # Sign-ups in one week mark an operator only among a few look-alikes: hundreds of
    # namesakes (a common name) open accounts in the same week by chance.
    burst = _burst(ctx, [ctx.uid, *others]) if len(others) <= LOOKALIKE_BURST_MAX else []
    linked = {u for u in others if _identity_linked(ctx, u, exclude={"email_lookalike"})
              or _shared_payout_with(ctx, u)}
    corroborated = sorted(linked | {u for u in others if u in burst and len(burst) >= 3})
    if corroborated:
        weight = min(2.5, sum(e.weight for e in edges if e.other(ctx.uid) in corroborated))
        weight += 0.5 if ctx.uid in burst and len(burst) >= 3 else 0.0
        if not linked:
            # Namesakes do sign up in the same week now and then; a week alone, without
            # a device, mailbox, phone or payout in common, is worth a look, not a freeze.
            weight = min(weight, SAME_WEEK_ONLY)
    else:
        weight = 0.3
    text = f"{len(others)} other account(s) use e-mail addresses made from the same pattern"
    if corroborated:
        text += f"; {len(corroborated)} of them also share a device, payout or sign-up week"
    else:
        text += ", and nothing else: namesakes look like this"
    return [Signal(
        "lookalike_identities", "high" if weight >= 2.0 else "medium" if weight >= 1.0 else "low",
        FRAUD, round(weight, 2), text,
        evidence={"uids": others, "corroborated": corroborated,
                  "pairs": [e.detail.get("emails") for e in edges],
                  "reasons": sorted({str(e.detail.get("reason")) for e in edges}),
                  "opened_together": burst},
    )]


def _shared_payout_with(ctx: _Ctx, other: str) -> bool:
    return any(e.via == "withdrawal_address" for e in ctx.between.get(other, ()))


def shared_mailbox_or_phone(ctx: _Ctx) -> list[Signal]:
    out = []
    for family in ("email", "phone"):
        for shared in ctx.links.shared_by(family, ctx.uid):
            others = sorted(shared.uids() - {ctx.uid})
            edges = [e for e in ctx.links.edges_of(ctx.uid) if e.via == family
                     and e.value == shared.value]
            recycled = bool(edges) and all(e.weight < 1.5 for e in edges)
            weight = 0.5 if recycled else 2.5 if len(others) >= 2 else 1.5
            text = (f"the {'mailbox' if family == 'email' else 'phone number'} "
                    f"{shared.value!r} is (or was) on {len(others) + 1} accounts")
            text += (": used years apart, as when a number or address is re-issued" if recycled
                     else ": one person, several accounts")
            out.append(Signal(
                f"shared_{family}", "high" if weight >= 2.5 else "medium" if weight >= 1.5
                else "low", FRAUD, weight, text,
                ts=_member_first(shared, ctx.uid),
                evidence={family: shared.value, "uids": others},
            ))
    return out


# SIM cards bought together carry consecutive numbers: linked accounts opened within
# weeks of each other on numbers this close are one operator's (a phone farm).
PHONE_BATCH_GAP = 20


def _phone_key(phone: str | None) -> int | None:
    digits = (normalize_phone(phone) or "").lstrip("+")
    return int(digits) if len(digits) >= 8 and digits.isdigit() else None


def _phone_batch_of(ctx: _Ctx) -> list[str]:
    """Linked accounts opened within PAYOUT_RING_SPAN of this one whose phone number is
    a different one within PHONE_BATCH_GAP of this account's, of as many digits."""
    mine = _phone_key(ctx.records.account.phone)
    opened = ctx.records.account.created_at
    if mine is None or opened is None:
        return []
    # the opening date first: it rules out most linked accounts without parsing a number
    return sorted(
        uid for uid, info in ctx.links.accounts.items()
        if uid != ctx.uid and info.phone and info.created_at is not None
        and abs(info.created_at - opened) <= PAYOUT_RING_SPAN
        and (theirs := _phone_key(info.phone)) is not None
        and theirs != mine and abs(theirs - mine) <= PHONE_BATCH_GAP
        and len(str(theirs)) == len(str(mine)))


def phone_batch(ctx: _Ctx) -> list[Signal]:
    batch = _phone_batch_of(ctx)
    if not batch:
        return []
    weight = 2.0 if len(batch) >= 2 else 1.5
    return [Signal(
        "phone_batch", "medium", FRAUD, weight,
        f"{len(batch)} linked account(s) opened within {PAYOUT_RING_SPAN.days} days of this "
        f"one have phone numbers within {PHONE_BATCH_GAP} of this account's: SIM cards "
        "bought in one batch, one operator's accounts",
        evidence={"uids": batch, "phones": {u: ctx.links.accounts[u].phone for u in batch}},
    )]


def shared_payout(ctx: _Ctx) -> list[Signal]:
    out = []
    for shared in ctx.links.shared_by("address", ctx.uid):
        payers = sorted({m.uid for m in shared.members if m.role == "withdrawal_address"})
        if ctx.uid not in payers or len(payers) < 2 \
                or ctx.address_labels.get(shared.value.lower()) in CUSTODIAL:
            continue
        identity = [u for u in payers if u != ctx.uid and _identity_linked(ctx, u)]
        apart = _opened_apart(ctx, payers)
        weight = (1.5 if apart else 2.5) if len(payers) >= 3 else 1.5 if identity else 0.8
        out.append(Signal(
            "shared_payout_address", "high" if weight >= 2.5 else "medium" if weight >= 1.5
            else "low", FRAUD, weight,
            f"{len(payers)} accounts withdraw to the same address {shared.value!r}"
            + (f"; no two of them were opened within {PAYOUT_RING_SPAN.days} days of each "
               "other, as with a household's or a group's shared wallet, not a ring's burst"
               if apart and len(payers) >= 3 else ""),
            ts=_member_first(shared, ctx.uid),
            evidence={"address": shared.value, "uids": payers, "accounts_using": shared.accounts},
        ))
    return out


# Attribution categories of addresses that hold many customers' money (an exchange's
# or a payment service's deposit address): many accounts paying one is no ring.
CUSTODIAL = frozenset({"exchange", "service", "bridge"})


# Ring operators open their payout accounts within weeks; a family or a club that
# sends to one shared wallet joined over months.
PAYOUT_RING_SPAN = timedelta(days=30)


def _opened_apart(ctx: _Ctx, payers: list[str]) -> bool:
    """No two payers opened within PAYOUT_RING_SPAN of each other (all dates known), so
    every account judged in the group gets the same answer."""
    times = sorted(t for u in payers if (t := _created(ctx, u) or (
        ctx.records.account.created_at if u == ctx.uid else None)) is not None)
    if len(times) < len(payers):
        return False
    return all(b - a > PAYOUT_RING_SPAN for a, b in zip(times, times[1:], strict=False))


def _identity_linked(
    ctx: _Ctx, other: str, exclude: frozenset[str] | set[str] = frozenset()
) -> bool:
    """Joined to `other` by a device, mailbox, phone or look-alike e-mail."""
    return any(
        e.via in IDENTITY_VIAS and e.via != "withdrawal_address" and e.via not in exclude
        for e in ctx.between.get(other, ())
    )


def referral_ring(ctx: _Ctx) -> list[Signal]:
    out = []
    chain = ctx.links.referral_chain
    if ctx.links.referral_cycle:
        loop = list(chain[chain.index(chain[-1]):])
        out.append(Signal(
            "referral_cycle", "high", FRAUD, 3.0,
            "the referral chain goes round in a circle (" + " -> ".join(loop) + "): "
            "referral records that no honest sign-up order can produce",
            evidence={"cycle": loop},
        ))
    referrals = [e for e in ctx.links.edges_of(ctx.uid) if e.via == "referral"]
    linked = [e.other(ctx.uid) for e in referrals if _identity_linked(ctx, e.other(ctx.uid))]
    if linked:
        group = _identity_group(ctx)
        # Bonus farmers open the referred accounts within weeks; a family that shares a
        # tablet and invites each other joins over months.
        mine = _created(ctx, ctx.uid) or ctx.records.account.created_at
        close = [u for u in linked if mine is None or (t := _created(ctx, u)) is None
                 or abs(t - mine) <= PAYOUT_RING_SPAN]
        weight = 1.5 if len(group) >= 3 and close else 0.4
        out.append(Signal(
            "self_referral", "medium" if weight >= 1.5 else "low", FRAUD, weight,
            f"this account and {len(linked)} account(s) it referred or was referred by share a "
            "device or identity" + (": referral bonuses paid to one hand" if close else
                                    f", but joined more than {PAYOUT_RING_SPAN.days} days "
                                    "apart, as a family does"),
            evidence={"uids": sorted(linked), "identity_group": sorted(group),
                      "opened_within_30_days": sorted(close)},
        ))
    return out


def _identity_group(ctx: _Ctx) -> set[str]:
    return {ctx.uid} | {
        e.other(ctx.uid) for e in ctx.links.edges_of(ctx.uid) if e.via in IDENTITY_VIAS
    }


def household_scale(ctx: _Ctx) -> list[Signal]:
    """Sharing only a device or an IP with a few others, and nothing else: a home."""
    neighbours = ctx.between
    identity = {u for u, es in neighbours.items() if any(e.via in IDENTITY_VIAS for e in es)}
    if not neighbours or len(identity) >= HOUSEHOLD_MAX:
        return []
    vias = sorted({e.via for es in neighbours.values() for e in es})
    if not set(vias) <= {"device_id", "ip", "referral", "internal_transfer"}:
        return []
    return [Signal(
        "household_scale_sharing", "info", BENIGN, -0.5,
        f"shares {', '.join(vias)} with {len(neighbours)} account(s) and nothing more: the "
        "scale of a household or a shared network, not of a ring",
        evidence={"uids": sorted(neighbours), "via": vias},
    )]


# --- money mules ----------------------------------------------------------------------


def _usd(tx: Transaction) -> Decimal:
    return tx.usd_value if tx.usd_value is not None else Decimal(0)


def _source(tx: Transaction) -> str | None:
    """Who paid this inflow in. Not a P2P seller: buying coins on P2P and sending them to
    one's own wallet is what retail customers do, and a mule buying with dirty fiat
    looks the same in the exchange's records."""
    if tx.kind == "internal_in":
        return f"uid:{tx.counterparty_uid}" if tx.counterparty_uid else None
    if tx.kind == "deposit":
        return f"address:{tx.address}" if tx.address else None
    return None


def _destination(tx: Transaction) -> str | None:
    """Where an outflow went. P2P sales and fiat withdrawals each count as one way out:
    the marketplace matches a different buyer every time."""
    if tx.kind == "internal_out":
        return f"uid:{tx.counterparty_uid}" if tx.counterparty_uid else None
    if tx.kind == "withdrawal":
        return f"address:{tx.address}" if tx.address else None
    if tx.kind == "p2p_sell":
        return "p2p"
    if tx.kind == "fiat_withdrawal":
        return "fiat"
    return None


def _pass_through(inflows: list[Transaction], txs: list[Transaction]) -> tuple[Decimal, Decimal]:
    """(value of `inflows`, how much of it went out again while payments kept coming, each
    outflow within PASS_THROUGH_WINDOW of the last of them), in USD. Outflows spend the
    oldest money first, the holder's own included, so money of one's own leaving is not
    counted as others' passed on."""
    total_in = sum((_usd(t) for t in inflows), Decimal(0))
    paid = {id(t) for t in inflows}
    unspent: deque[list[Any]] = deque()  # [USD left, paid by others] per inflow, oldest first
    last_paid: datetime | None = None
    passed = Decimal(0)
    for t in sorted(txs, key=lambda t: (t.ts, not t.is_inflow)):
        if t.is_inflow:
            unspent.append([_usd(t), id(t) in paid])
            last_paid = t.ts if id(t) in paid else last_paid
        elif t.is_outflow:
            amount = _usd(t)
            quick = last_paid is not None and t.ts - last_paid <= PASS_THROUGH_WINDOW
            while amount > 0 and unspent:
                entry = unspent[0]
                take = min(amount, entry[0])
                entry[0] -= take
                amount -= take
                if entry[1] and quick:
                    passed += take
                if entry[0] <= 0:
                    unspent.popleft()
    return total_in, passed


def mule_signals(ctx: _Ctx) -> list[Signal]:
    txs = [t for t in ctx.records.transactions if t.settled]
    group = _identity_group(ctx)
    uses: dict[str, int] = {}
    for t in txs:
        if t.is_inflow and (source := _source(t)):
            uses[source] = uses.get(source, 0) + 1
    # A wallet that pays in again and again is the holder's own (a trader's DeFi
    # wallets); a mule's senders are different victims or customers each time.
    recurring = {s for s, n in uses.items() if s.startswith("address:") and n >= 3}
    unrelated = {s for s in uses if s not in recurring
                 and not (s.startswith("uid:") and s[4:] in group)}
    destinations = {d for t in txs if t.is_outflow and (d := _destination(t))}
    # what unrelated payers paid in (not the holder's own wallets or linked accounts)
    sourced = [t for t in txs if t.is_inflow and _source(t) in unrelated]
    total_in, quick_out = _pass_through(sourced, txs)
    everything_in = sum((_usd(t) for t in txs if t.is_inflow), Decimal(0))
    out = list(taken_over_inflows(ctx))
    if len(unrelated) < MULE_MIN_SOURCES or total_in <= 0 or not destinations \
            or total_in < everything_in * MULE_PAID_SHARE:
        return out
    ratio = min(Decimal(1), quick_out / total_in)
    if ratio < Decimal("0.5") or len(destinations) > MULE_MAX_DESTINATIONS + 1:
        return out
    strong = ratio >= MULE_PASS_RATIO and len(destinations) <= MULE_MAX_DESTINATIONS
    weight = (3.0 if len(unrelated) >= 5 else 2.5) if strong else 1.2
    out.append(Signal(
        "money_mule_pass_through", "high" if strong else "medium", FRAUD, weight,
        f"{len(unrelated)} unrelated sources paid in ${total_in:,.0f}; {ratio:.0%} left again "
        f"within {PASS_THROUGH_WINDOW.total_seconds() / 3600:.0f} h to {len(destinations)} "
        "destination(s): money passes through, as through a mule",
        evidence={"sources": sorted(unrelated), "recurring_own_sources": sorted(recurring),
                  "destinations": sorted(destinations),
                  "usd_in": str(total_in), "usd_out_quickly": str(quick_out),
                  "pass_through_ratio": str(ratio.quantize(Decimal("0.01")))},
    ))
    return out


def takeover_hint(info: AccountInfo | None, at: datetime, labels: Mapping[str, str]) -> str | None:
    """Why the account `info` looks taken over when it sent money at `at`, or None."""
    if info is None:
        return None
    if labels.get(info.uid) == "takeover":
        return "its own verdict is takeover"
    changes = [
        f"{event} {((at - ts).total_seconds() / 3600):.0f} h before"
        for ts, event in info.security_changes
        if event in TAKEOVER_EVENTS and timedelta(0) <= at - ts <= TAKEOVER_LEAD
    ]
    reports = [
        f"alert '{what}' {((ts - at).total_seconds() / 86400):.0f} days after"
        for ts, what in info.alerts
        if ts is not None and timedelta(0) <= ts - at <= VICTIM_REPORT and _reports_theft(what)
    ]
    return "; ".join(changes + reports) if changes or reports else None


# A victim reports the theft within days of it; a receiver of that money is the thief,
# their mule, or a sham buyer. Words of a ticket's or an outside report's kind (not its
# free-text note, nor an automated rule's alert) that name a theft; "can't access my
# account" or "a transaction I don't recognise" do not, as owners file those about
# their own family's doings too.
VICTIM_REPORT = timedelta(days=14)
_THEFT_WORDS = ("unauthorized", "unauthorised", "hacked", "compromised", "takeover",
                "stolen")


_REPORTERS = ("ticket", "support", "customer", "complaint", "external")


def _reports_theft(what: str) -> bool:
    """`what` is "source: kind": a report filed by a person (the customer's ticket, an
    outside party's report), not an automated rule, naming a theft."""
    source, _, kind = what.lower().partition(":")
    text = kind.replace("_", " ")
    return any(r in source for r in _REPORTERS) and (
        any(w in text for w in _THEFT_WORDS) or "ato" in text.split())


def taken_over_inflows(ctx: _Ctx) -> Iterable[Signal]:
    """Internal transfers in (and P2P "purchases") from accounts that had just lost control
    of their protection, or whose owner reported a theft soon after (a sham P2P sale is a
    thief's way to move a victim's coins to their own account), or whose sender's account
    was used, just before, through this account's own device or address."""
    found: dict[str, tuple[Transaction, str | None, list[str]]] = {}
    for tx in ctx.records.transactions:
        sender = tx.counterparty_uid
        if tx.kind not in ("internal_in", "p2p_buy") or not sender or not tx.settled \
                or sender in found:
            continue
        hint = takeover_hint(ctx.links.accounts.get(sender), tx.ts, ctx.labels)
        # The sender's account used from this account's own device (or from an address
        # only the two share, the sharing begun around the transfer): the receiver holds
        # the sender's account, as its thief, not as a bystander.
        edges = ctx.between.get(sender, [])
        own = [] if _household(edges, tx.ts) else sorted(
            {f"{e.via} {e.value}" for e in edges if _thiefs_own(ctx, e, sender, tx.ts)})
        # A thief also sells a victim's coins on P2P to real buyers: a purchase counts
        # only when the receiver's own device or address was in the seller's account.
        if (hint or own) and (tx.kind != "p2p_buy" or own):
            found[sender] = (tx, hint, own)
    if not found:
        return []
    total = sum((_usd(t) for t, _, _ in found.values()), Decimal(0))
    hinted = [u for u, (_, hint, _) in found.items() if hint]
    owned = sorted({h for _, _, own in found.values() for h in own})
    if hinted:
        weight = min(4.0, 2.0 + 0.5 * (len(hinted) - 1)) + (1.5 if owned else 0.0)
        why = "that show a takeover around sending"
    else:  # only the shared device or address: a friend visiting may send from it too
        weight = 1.5
        why = "whose accounts were used just before from this account's own device or address"
    passed_on = _passed_on(ctx, [tx for tx, _, _ in found.values()])
    if passed_on:
        weight += 1.0
    return [Signal(
        "inflow_from_taken_over_accounts",
        "critical" if hinted and owned else "high" if hinted else "medium", FRAUD, weight,
        f"received ${total:,.0f} by internal transfer or P2P trade from {len(found)} "
        f"account(s) {why}"
        + (f"; {', '.join(sorted(found))} was used through this account's own "
           f"{'; '.join(owned)}: the receiver is the thief" if owned and hinted else
           f" ({'; '.join(owned)})" if owned else "")
        + (f"; {passed_on} of it left to outside addresses within "
           f"{STOLEN_PASS_ON.total_seconds() / 3600:.0f} h: passed on at once, as a mule or "
           "the thief's cash-out does" if passed_on else ""),
        ts=min(t.ts for t, _, _ in found.values()),
        evidence={"senders": {u: {"hint": h, "tx_id": t.tx_id, "usd": str(_usd(t)),
                                  "ts": t.ts.isoformat(), "shared_with_receiver": own}
                              for u, (t, h, own) in found.items()}},
    )]


# A bystander paid by a victim's account keeps the money a while; a mule or the thief
# sends it on within hours, before the victim's exchange can claw it back.
STOLEN_PASS_ON = timedelta(hours=6)


def _passed_on(ctx: _Ctx, received: list[Transaction]) -> str | None:
    """The share of the stolen money that left to outside addresses within STOLEN_PASS_ON
    of arriving, as text, when it is most of it."""
    total = sum((_usd(t) for t in received), Decimal(0))
    out = sum((_usd(t) for t in ctx.records.transactions
               if t.kind == "withdrawal" and t.settled and t.address
               and any(timedelta(0) <= t.ts - r.ts <= STOLEN_PASS_ON for r in received)),
              Decimal(0))
    if total <= 0 or out < total * MULE_PASS_RATIO:
        return None
    return f"{min(Decimal(1), out / total):.0%}"


# A device or address seen on only this few accounts (the thief's own, with victims).
THIEF_SHARED_MAX = 5


# Two accounts that shared a device or address this long before a transfer live
# together: a new address of theirs (a router's new IP) is the household's.
HOUSEHOLD_SPAN = timedelta(days=30)


def _household(edges: list[Edge], when: datetime) -> bool:
    return any(e.via in ("device_id", "ip") and e.first_seen is not None
               and when - e.first_seen >= HOUSEHOLD_SPAN for e in edges)


def _thiefs_own(ctx: _Ctx, edge: Edge, sender: str, when: datetime) -> bool:
    """A device or IP the receiver shares with the sender, on few accounts, that the
    sender's account first used within TAKEOVER_LEAD before the transfer: whoever held
    it then came in through the receiver's device or address. A household's router,
    used by both for months, is no sign."""
    if edge.via not in ("device_id", "ip") or edge.accounts_sharing > THIEF_SHARED_MAX:
        return False
    shared = next((v for v in ctx.links.shared
                   if v.family == edge.via and v.value == edge.value), None)
    member = shared.member(sender) if shared else None
    first = member.first_seen if member else None
    return first is not None and timedelta(0) <= when - first <= TAKEOVER_LEAD


# --- chargeback fraud -----------------------------------------------------------------


def chargeback_signals(ctx: _Ctx) -> list[Signal]:
    txs = ctx.records.transactions
    fiat = [t for t in txs if t.kind == "fiat_deposit" and t.settled]
    charged = [t for t in fiat if t.chargeback]
    alerts = [a for a in ctx.records.alerts if (a.source or "").lower() == "chargeback"]
    cash_outs = list(_cash_outs(ctx, fiat))
    out: list[Signal] = []
    if charged or alerts:
        quick = list(_spent_after(ctx, charged))
        disputes = max(len(charged), len(alerts), 1)
        if quick:  # the loss the scheme is for: the money left before the dispute
            weight = min(4.5, 4.0 + 0.5 * (disputes - 1))
        else:  # the balance still covers it: a mistaken or "friendly" dispute, until repeated
            weight = min(3.5, 1.5 + 1.0 * (disputes - 1))
        usd = sum((_usd(t) for t in charged), Decimal(0))
        scheme = bool(quick) or weight >= 3.0
        out.append(Signal(
            # a lone dispute is named for what it is, not for the scheme it may be
            "chargeback_fraud" if scheme else "chargeback_dispute",
            "critical" if quick else "high" if scheme else "medium", FRAUD, weight,
            f"{len(charged)} fiat deposit(s) worth ${usd:,.0f} charged back"
            + (f", {len(alerts)} chargeback alert(s)" if alerts else "")
            + (f"; the money left the account within {CASH_OUT_WINDOW.days * 24} h" if quick
               else f"; nothing left the account within {CASH_OUT_WINDOW.days * 24} h of it: "
               "alone, such a dispute is more often a mistaken or friendly one than a scheme"
               if disputes == 1 else f"; nothing left within {CASH_OUT_WINDOW.days * 24} h, "
               "but disputes repeat"),
            ts=charged[0].ts if charged else None,
            evidence={"charged_back": [_tx_ref(t) for t in charged],
                      "alerts": [a.alert_id for a in alerts],
                      "cashed_out": [{"deposit": _tx_ref(d), "withdrawal": _tx_ref(w)}
                                     for d, w in quick]},
        ))
    elif cash_outs:
        out.append(_fast_cash_out(ctx, cash_outs))
    return out


# A P2P seller whose buyer's bank payment is recalled after the coins were released
# disputes the trade: the charge-back of the P2P market. Triangulation fraud buys from
# several sellers with stolen bank access and withdraws the coins at once.
P2P_DISPUTE_LOOKBACK = timedelta(days=30)


def _p2p_dispute(source: str | None, kind: str | None) -> bool:
    text = f"{source or ''} {kind or ''}".lower().replace("_", " ")
    return "p2p" in text and any(w in text for w in ("dispute", "recall", "revers",
                                                      "chargeback"))


def p2p_reversal_signals(ctx: _Ctx) -> list[Signal]:
    # (an alert from the card issuer's charge-back feed is counted by chargeback_signals)
    disputes = [a for a in ctx.records.alerts if a.ts and _p2p_dispute(a.source, a.kind)
                and (a.source or "").lower() != "chargeback"]
    if not disputes:
        return []
    first = min(a.ts for a in disputes if a.ts)
    bought = [t for t in ctx.records.transactions if t.kind == "p2p_buy" and t.settled
              and timedelta(0) <= first - t.ts <= P2P_DISPUTE_LOOKBACK]
    if not bought:  # a seller's own disputes against buyers who did not pay
        return []
    quick = list(_spent_after(ctx, bought))
    n = len(disputes)
    # one seller's dispute after the coins left is a look (banks recall payments in
    # error too); several sellers' are the scheme
    weight = (min(4.5, 4.0 + 0.5 * (n - 2)) if n >= 2 else 2.5) if quick \
        else min(3.0, 1.0 + 1.0 * (n - 1))
    return [Signal(
        "p2p_payment_reversed", "critical" if quick and n >= 2 else "high" if quick
        else "medium", FRAUD, weight,
        f"{n} P2P dispute(s) after {len(bought)} P2P purchase(s) in the {P2P_DISPUTE_LOOKBACK.days}"
        " days before"
        + (f"; the coins left the account within {CASH_OUT_WINDOW.days * 24} h of buying: paid "
           "with money that was taken back, as in triangulation fraud" if quick else
           f"; nothing left within {CASH_OUT_WINDOW.days * 24} h of buying"),
        ts=first,
        evidence={"alerts": [a.alert_id for a in disputes],
                  "purchases": [_tx_ref(t) for t in bought],
                  "cashed_out": [{"purchase": _tx_ref(d), "outflow": _tx_ref(w)}
                                 for d, w in quick]},
    )]


def _tx_ref(tx: Transaction) -> dict[str, Any]:
    return {"tx_id": tx.tx_id, "ts": tx.ts.isoformat(), "kind": tx.kind, "asset": tx.asset,
            "amount": str(tx.amount), "usd": str(tx.usd_value) if tx.usd_value else None,
            "address": tx.address, "payment_method": tx.payment_method}


def _spent_after(ctx: _Ctx, charged: list[Transaction]
                 ) -> Iterable[tuple[Transaction, Transaction]]:
    """(charged-back deposit, outflow of half its value or more within CASH_OUT_WINDOW):
    sent on-chain, to another account, sold on P2P or withdrawn to a bank."""
    outflows = [t for t in ctx.records.transactions if t.is_outflow and t.settled]
    for dep in charged:
        for out in outflows:
            if timedelta(0) <= out.ts - dep.ts <= CASH_OUT_WINDOW and _half_or_more(out, dep):
                yield dep, out
                break


def _half_or_more(out: Transaction, dep: Transaction) -> bool:
    """`out` is worth half of `dep` or more: in USD when both have it, else in units of one
    asset; with neither, it cannot be told, so no."""
    if out.usd_value is not None and dep.usd_value is not None:
        return out.usd_value * 2 >= dep.usd_value
    return out.asset == dep.asset and out.amount * 2 >= dep.amount


def _cash_outs(ctx: _Ctx, fiat: list[Transaction]) -> Iterable[tuple[Transaction, Transaction]]:
    """(reversible fiat deposit, crypto withdrawal to an outside address within hours)."""
    withdrawals = [t for t in ctx.records.transactions
                   if t.kind == "withdrawal" and t.settled and t.address]
    for dep in fiat:
        if (dep.payment_method or "").lower() not in ("card", "bank_transfer", "sepa", "ach"):
            if not dep.chargeback:
                continue
        for w in withdrawals:
            if timedelta(0) <= w.ts - dep.ts <= CASH_OUT_WINDOW and _half_or_more(w, dep):
                yield dep, w
                break


def _fast_cash_out(ctx: _Ctx, pairs: list[tuple[Transaction, Transaction]]) -> Signal:
    created = ctx.records.account.created_at
    dep, w = pairs[0]
    new = created is not None and dep.ts - created <= NEW_ACCOUNT
    earlier = {t.address for t in ctx.records.transactions if t.kind == "withdrawal"
               and t.ts < w.ts and t.address}
    fresh_address = w.address not in earlier
    # New retail customers buy by card and move the coins to their own wallet within
    # days too, so alone this stays under a person's look (SUSPICIOUS_FRAUD 1.5); with a
    # charge-back or a link to other accounts it adds up.
    weight = 0.5 + (0.5 if new else 0.0) + (0.2 if fresh_address else 0.0)
    hours = (w.ts - dep.ts).total_seconds() / 3600
    return Signal(
        "fiat_in_crypto_out", "medium" if weight >= 1.0 else "low", FRAUD, round(weight, 2),
        f"{dep.payment_method or 'fiat'} deposit of ${_usd(dep):,.0f} left as crypto to an outside "
        f"address {hours:.0f} h later" + (" from an account opened days before" if new else "")
        + ("; a card or bank payment can still be reversed after the crypto is gone"),
        ts=w.ts,
        evidence={"pairs": [{"deposit": _tx_ref(d), "withdrawal": _tx_ref(x)} for d, x in pairs],
                  "new_account": new, "first_use_of_address": fresh_address},
    )


# --- stolen funds ---------------------------------------------------------------------


def stolen_funds_signals(ctx: _Ctx) -> list[Signal]:
    out = list(_from_victims(ctx))
    flagged: dict[str, tuple[Transaction, str]] = {}
    for tx in ctx.records.transactions:
        if tx.kind != "deposit" or not tx.address:
            continue
        category = ctx.address_labels.get(tx.address.lower())
        if category and category.lower() in FLAGGED_CATEGORIES:
            flagged.setdefault(tx.address, (tx, category.lower()))
    if flagged:
        weight = max(FLAGGED_CATEGORIES[c] for _, c in flagged.values())
        out.append(Signal(
            "deposit_from_flagged_address", "high" if weight >= 2.5 else "medium", FRAUD, weight,
            "deposits came from address(es) that attribution data names as "
            + ", ".join(sorted({c for _, c in flagged.values()})),
            ts=min(t.ts for t, _ in flagged.values()),
            evidence={"deposits": [dict(_tx_ref(t), category=c) for t, c in flagged.values()]},
        ))
    return out


def _from_victims(ctx: _Ctx) -> Iterable[Signal]:
    """Deposits from addresses that another account's stolen funds were just sent to."""
    victims: dict[str, dict[str, Any]] = {}
    for edge in ctx.links.edges:
        if edge.via != "address_flow" or edge.b != ctx.uid or edge.a == ctx.uid:
            continue
        at = edge.first_seen or edge.last_seen
        hint = takeover_hint(ctx.links.accounts.get(edge.a), at, ctx.labels) if at else None
        if hint:
            victims[edge.a] = {"address": edge.value, "hint": hint,
                               "ts": at.isoformat() if at else None}
    if not victims:
        return []
    return [Signal(
        "received_stolen_funds", "high", FRAUD, min(4.0, 2.5 + 0.5 * (len(victims) - 1)),
        f"deposited from address(es) that {len(victims)} taken-over account(s) had just "
        "withdrawn to",
        evidence={"victims": victims},
    )]


# --- what the report shows ------------------------------------------------------------


def _role(uid: str, edges: list[Edge]) -> str:
    vias = {e.via for e in edges}
    if vias & (IDENTITY_VIAS - {"withdrawal_address"}):
        return "same_holder_likely"
    if "withdrawal_address" in vias:
        return "shared_payout"
    for via, name in (("internal_transfer", "transfer"), ("address_flow", "on_chain_flow"),
                      ("p2p", "p2p")):
        if via in vias:
            return f"{name}_from" if all(e.a == uid for e in edges if e.via == via) else \
                f"{name}_to"
    if "referral" in vias:
        return "referral"
    return "shared_network"


def linked_accounts(
    links: LinkContext,
    labels: Mapping[str, str] | None = None,
    min_weight: float = 0.3,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The report's `linked_accounts`: `{"uid", "via", "label"}` plus strength, role, values.

    `label` is the other account's verdict when the caller knows it (`labels`), else None:
    acctsec does not judge an account it has not investigated.
    """
    known = labels or {}
    rows = []
    for other, edges in links.neighbours(links.uid).items():
        strength = sum(e.weight for e in edges)
        if strength < min_weight:
            continue
        rows.append({
            "uid": other,
            "via": sorted({e.via for e in edges}),
            "label": known.get(other),
            "strength": round(strength, 2),
            "role": _role(other, edges),
            "values": sorted({str(e.value) for e in edges if e.value is not None})[:10],
            "first_seen": _iso(min((e.first_seen for e in edges if e.first_seen), default=None)),
            "last_seen": _iso(max((e.last_seen for e in edges if e.last_seen), default=None)),
        })
    rows.sort(key=lambda r: (-_num(r["strength"]), str(r["uid"])))
    return rows[:limit]


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def fraud_actions(signals: Iterable[Signal]) -> list[dict[str, str]]:
    """Actions fit for a holder who is the bad actor: freeze, hold funds, report, review links."""
    found = {s.id: s for s in signals if s.direction == FRAUD and s.weight >= 1.5}
    if not found:
        return []
    why = ", ".join(sorted(found))
    actions = [
        {"action": "freeze_account", "reason": f"the holder is the bad actor ({why})"},
        {"action": "hold_funds", "reason": "keep the balance until the case is decided; do "
         "not let it be withdrawn"},
        {"action": "report", "reason": "file a suspicious-activity report with the evidence"},
    ]
    ring = {"shared_device_ring", "lookalike_identities", "shared_email", "shared_phone",
            "shared_payout_address", "referral_cycle", "self_referral", "phone_batch",
            "p2p_self_dealing"}
    if found.keys() & ring:
        actions.append({"action": "review_linked_accounts",
                        "reason": "the linked accounts are likely held by the same hand"})
    if found.keys() & {"inflow_from_taken_over_accounts", "received_stolen_funds"}:
        actions.append({"action": "return_stolen_funds",
                        "reason": "funds came from taken-over accounts; trace and return them"})
    if found.keys() & {"chargeback_fraud", "chargeback_dispute"}:
        actions.append({"action": "block_payment_instrument",
                        "reason": "the card or bank account was used for charged-back deposits"})
    if "p2p_payment_reversed" in found:
        actions.append({"action": "suspend_p2p",
                        "reason": "P2P sellers were paid with money their banks took back; "
                        "settle with the sellers before the coins are released again"})
    return actions
