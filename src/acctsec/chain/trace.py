"""The fund-flow trace: follow a transaction's money forward or backward, hop by hop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from acctsec.chain.interface import (
    AddressHistory,
    ChainClient,
    TransactionNotFound,
    Transfer,
    Window,
    format_amount,
)
from acctsec.chain.taint import TaintModel, funding_inflows, tainted_outflows
from acctsec.intel.attribution import Attribution

Lookup = Callable[[str], Attribution | None]
ZERO_ADDRESSES = frozenset({"0x0000000000000000000000000000000000000000"})


class Direction(StrEnum):
    FORWARD = "forward"  # where did the money go
    BACKWARD = "backward"  # where did it come from


class StopReason(StrEnum):
    ATTRIBUTED = "attributed"  # a known entity: the place to ask for a freeze
    FAN_OUT = "fan_out"  # too many counterparties to be a person: likely a service
    HOP_LIMIT = "hop_limit"
    UNSPENT = "unspent"  # forward: the money is still there, as far as the backend shows
    ORIGIN = "origin"  # backward: no earlier source the backend shows
    MINT = "mint"  # tokens created here (backward)
    NOT_CHECKED = "not_checked"  # its history could not be read
    FEE = "fee"  # paid to miners (UTXO chains): leaves every address
    BELOW_MIN = "below_min_amount"  # moved on in flows smaller than --min-amount


@dataclass(frozen=True, slots=True)
class TraceOptions:
    direction: Direction = Direction.FORWARD
    hops: int = 5
    min_amount: Decimal = Decimal(0)
    window: Window = Window()
    taint: TaintModel = TaintModel.HAIRCUT
    fan_out_limit: int = 50  # distinct counterparties above which an address is a service
    max_addresses: int = 500  # per hop; beyond it the trace says what it left out
    asset: str | None = None  # follow only this asset (symbol or contract)
    only_to: str | None = None  # follow only transfers to this address (a withdrawal's)


@dataclass(frozen=True, slots=True)
class Hop:
    """One transfer on the path and how much of the followed money it carried."""

    hop: int
    transfer: Transfer
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the trace stopped, with how much of the followed money got there."""

    address: str
    network: str
    asset: str
    symbol: str | None
    hops: int
    amount: Decimal
    reason: StopReason
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    attribution: Attribution | None = None
    note: str | None = None

    @property
    def entity(self) -> str | None:
        return self.attribution.entity if self.attribution else None

    @property
    def category(self) -> str | None:
        if self.attribution:
            return self.attribution.category
        return "likely_service" if self.reason is StopReason.FAN_OUT else None

    def as_dict(self) -> dict[str, object]:
        """The endpoint in the report's `funds[].endpoints[]` shape (amount as text)."""
        return {
            "address": self.address, "entity": self.entity, "category": self.category,
            "hops": self.hops, "amount": format_amount(self.amount),
            "asset": self.symbol or self.asset, "network": self.network,
            "reason": self.reason.value,
            "first_seen": self.first_ts.isoformat() if self.first_ts else None,
            "last_seen": self.last_ts.isoformat() if self.last_ts else None,
            "label": self.attribution.label if self.attribution else None,
            "source": self.attribution.source if self.attribution else None,
            "note": self.note,
        }


@dataclass
class TraceResult:
    network: str
    txhash: str
    options: TraceOptions
    seeds: list[Hop] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    def amount_by_asset(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for hop in self.seeds:
            label = hop.transfer.asset_label
            out[label] = out.get(label, Decimal(0)) + hop.amount
        return out


@dataclass
class _Arrivals:
    """Followed money that reached one address at one hop."""

    hop: int
    amounts: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)

    def add(self, transfer: Transfer, amount: Decimal) -> None:
        self.amounts[transfer.key] = self.amounts.get(transfer.key, Decimal(0)) + amount
        self.transfers.append(transfer)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal(0))


# A remainder under a millionth of the arrivals is rounding dust (the haircut rounds
# each flow to the asset's smallest unit), not money left behind worth an endpoint.
_NEGLIGIBLE = Decimal("1e-6")


def trace(client: ChainClient, txhash: str, options: TraceOptions, lookup: Lookup) -> TraceResult:
    """Follows the transaction's transfers until known entities, services or the hop limit."""
    seeds = _seed_transfers(client, txhash, options)
    result = TraceResult(client.network.code, txhash, options)
    result.seeds = [Hop(1, t, t.amount) for t in seeds]
    frontier: dict[tuple[str, str], _Arrivals] = {}
    for transfer in seeds:
        _arrive(frontier, transfer, transfer.amount, 1, options.direction)
    seen: set[tuple[str, str]] = set()
    while frontier:
        frontier = _step(client, frontier, seen, options, lookup, result)
    for note in getattr(client, "notes", ()):
        result.not_checked.append(f"not checked: {note}")
    result.endpoints = merge_endpoints(result.endpoints)
    return result


def merge_endpoints(endpoints: list[Endpoint]) -> list[Endpoint]:
    """One endpoint per address and asset: amounts added, the shortest hop count kept."""
    merged: dict[tuple[str, str, StopReason], Endpoint] = {}
    for e in endpoints:
        key = (e.address, e.asset, e.reason)
        if key not in merged:
            merged[key] = e
            continue
        old = merged[key]
        times = [t for t in (old.first_ts, old.last_ts, e.first_ts, e.last_ts) if t is not None]
        merged[key] = replace(
            old, hops=min(old.hops, e.hops), amount=old.amount + e.amount,
            first_ts=min(times) if times else None, last_ts=max(times) if times else None,
        )
    return sorted(merged.values(), key=lambda e: (e.hops, -e.amount, e.address))


def _seed_transfers(client: ChainClient, txhash: str, options: TraceOptions) -> list[Transfer]:
    transfers = [t for t in client.transfers_in_tx(txhash) if t.amount > 0]
    if options.asset:
        wanted = options.asset.lower()
        transfers = [
            t for t in transfers if wanted in (t.asset.lower(), (t.symbol or "").lower())
        ]
    if options.only_to:
        wanted_to = options.only_to.strip().lower()
        to_it = [t for t in transfers if t.receiver.lower() == wanted_to]
        transfers = to_it or transfers
    transfers = [t for t in transfers if t.amount >= options.min_amount]
    if not transfers:
        what = f" of {options.asset}" if options.asset else ""
        raise TransactionNotFound(
            f"transaction {txhash} on {client.network.code} moved no value{what} to follow"
        )
    return transfers


def _arrive(
    frontier: dict[tuple[str, str], _Arrivals],
    transfer: Transfer,
    amount: Decimal,
    hop: int,
    direction: Direction,
) -> None:
    address = transfer.receiver if direction is Direction.FORWARD else transfer.sender
    slot = frontier.setdefault((address, transfer.asset), _Arrivals(hop))
    slot.add(transfer, amount)


def _step(
    client: ChainClient,
    frontier: dict[tuple[str, str], _Arrivals],
    seen: set[tuple[str, str]],
    options: TraceOptions,
    lookup: Lookup,
    result: TraceResult,
) -> dict[tuple[str, str], _Arrivals]:
    to_expand: dict[tuple[str, str], _Arrivals] = {}
    for (address, asset), arrivals in frontier.items():
        stop = _stop_before_history(address, arrivals, options, lookup)
        if stop is not None:
            result.endpoints.append(_endpoint(client, address, asset, arrivals, *stop))
            continue
        fresh = _unseen(arrivals, seen)
        if fresh is not None:
            to_expand[(address, asset)] = fresh
    to_expand = _limit(to_expand, options, result)
    _mark_seen(seen, to_expand)
    histories = _histories(client, to_expand, options, result)
    following: dict[tuple[str, str], _Arrivals] = {}
    for (address, asset), arrivals in to_expand.items():
        history = histories.get(address)
        if history is None:
            result.endpoints.append(
                _endpoint(client, address, asset, arrivals, StopReason.NOT_CHECKED, None)
            )
            continue
        _follow(client, history, asset, arrivals, options, following, result)
    return following


def _unseen(arrivals: _Arrivals, seen: set[tuple[str, str]]) -> _Arrivals | None:
    """The arrivals not followed before. An address is expanded again when followed money
    comes back to it by another transfer (change on a UTXO chain, a round trip A to B to
    C to B on an account chain), never twice for the same transfer: the taint models
    split each transfer's money over the outflows on their own (the haircut is linear,
    FIFO spends each coin once), so expanding per arrival counts nothing twice. The hop
    limit ends every loop."""
    fresh = _Arrivals(arrivals.hop)
    for transfer in {t.key: t for t in arrivals.transfers}.values():
        if transfer.key not in seen:
            fresh.add(transfer, arrivals.amounts[transfer.key])
    return fresh if fresh.transfers else None


def _mark_seen(seen: set[tuple[str, str]], to_expand: dict[tuple[str, str], _Arrivals]) -> None:
    for arrivals in to_expand.values():
        seen.update(arrivals.amounts)


def _stop_before_history(
    address: str, arrivals: _Arrivals, options: TraceOptions, lookup: Lookup
) -> tuple[StopReason, Attribution | None] | None:
    if arrivals.transfers and all(t.kind == "fee" for t in arrivals.transfers):
        return StopReason.FEE, None
    attribution = lookup(address)
    if attribution is not None:
        return StopReason.ATTRIBUTED, attribution
    if options.direction is Direction.BACKWARD and address in ZERO_ADDRESSES:
        return StopReason.MINT, None
    if arrivals.hop >= options.hops:
        return StopReason.HOP_LIMIT, None
    return None


def _limit(
    to_expand: dict[tuple[str, str], _Arrivals], options: TraceOptions, result: TraceResult
) -> dict[tuple[str, str], _Arrivals]:
    if len(to_expand) <= options.max_addresses:
        return to_expand
    ranked = sorted(to_expand.items(), key=lambda kv: -kv[1].total)
    kept = dict(ranked[: options.max_addresses])
    result.not_checked.append(
        f"not checked: {len(ranked) - len(kept)} smaller branches beyond the "
        f"{options.max_addresses} largest at one hop"
    )
    return kept


def _histories(
    client: ChainClient,
    to_expand: Mapping[tuple[str, str], _Arrivals],
    options: TraceOptions,
    result: TraceResult,
) -> Mapping[str, AddressHistory]:
    if not to_expand:
        return {}
    followed_history = getattr(client, "followed_history", None)
    if callable(followed_history):
        forward = options.direction is Direction.FORWARD
        histories: Mapping[str, AddressHistory] = {
            address: followed_history(address, arrivals.transfers, options.window, forward)
            for (address, _), arrivals in to_expand.items()
        }
    else:
        addresses = sorted({address for address, _ in to_expand})
        histories = client.history_all(addresses, options.window)
    for history in histories.values():
        if history.note:
            result.not_checked.append(f"partial history of {history.address}: {history.note}")
    return histories


def _follow(
    client: ChainClient,
    history: AddressHistory,
    asset: str,
    arrivals: _Arrivals,
    options: TraceOptions,
    following: dict[tuple[str, str], _Arrivals],
    result: TraceResult,
) -> None:
    address = history.address
    forward = options.direction is Direction.FORWARD
    legs = history.outgoing if forward else history.incoming
    counterparts = {t.receiver if forward else t.sender for t in legs if t.asset == asset}
    if len(counterparts) > options.fan_out_limit:
        note = f"{len(counterparts)} distinct counterparties, not attributed"
        result.endpoints.append(
            _endpoint(client, address, asset, arrivals, StopReason.FAN_OUT, None, note)
        )
        return
    history, amounts = _align(history, arrivals, forward)
    legs = history.outgoing if forward else history.incoming
    if forward:
        moved = tainted_outflows(options.taint, history, asset, amounts)
    else:
        moved = funding_inflows(options.taint, history, asset, amounts)
    by_key = {t.key: t for t in legs}
    flows = {k: amount for k, amount in moved.items() if k in by_key and amount > 0}
    next_hops = [Hop(arrivals.hop + 1, by_key[k], amount) for k, amount in flows.items()
                 if amount >= options.min_amount]
    small = sum((a for a in flows.values() if a < options.min_amount), Decimal(0))
    if small > 0:
        count = sum(1 for a in flows.values() if a < options.min_amount)
        result.endpoints.append(_endpoint(
            client, address, asset, arrivals, StopReason.BELOW_MIN, None,
            f"{count} flow(s) under --min-amount {options.min_amount} not followed",
            amount=small))
    # What the followed money did not leave by: still here (forward), or with no
    # earlier source the backend shows (backward). Said also when part of it moved on.
    left = arrivals.total - sum(flows.values(), Decimal(0))
    if left > arrivals.total * _NEGLIGIBLE or not flows:
        reason = StopReason.UNSPENT if forward else StopReason.ORIGIN
        address_note = getattr(client, "address_note", None)
        why: str | None = address_note(address) if callable(address_note) else None
        result.endpoints.append(_endpoint(client, address, asset, arrivals, reason, None, why,
                                          amount=max(left, Decimal(0)) if flows else None))
    for hop in next_hops:
        result.hops.append(hop)
        _arrive(following, hop.transfer, hop.amount, hop.hop, options.direction)


def _same_transfer(a: Transfer, b: Transfer) -> bool:
    return (a.txhash, a.asset, a.sender, a.receiver, a.amount) == (
        b.txhash, b.asset, b.sender, b.receiver, b.amount
    )


def _align(
    history: AddressHistory, arrivals: _Arrivals, forward: bool
) -> tuple[AddressHistory, dict[tuple[str, str], Decimal]]:
    """Matches the followed transfers to the history's own copies.

    Two backends may name one transfer differently (a node's log index, an
    explorer's row), and a history may lack it (outside the window): then the
    followed transfer joins the history so the taint model sees it.
    """
    legs = list(history.incoming if forward else history.outgoing)
    known = {t.key for t in legs}
    amounts: dict[tuple[str, str], Decimal] = {}
    for transfer in {t.key: t for t in arrivals.transfers}.values():
        amount = arrivals.amounts[transfer.key]
        match = transfer if transfer.key in known else next(
            (t for t in legs if _same_transfer(t, transfer)), None
        )
        if match is None:
            legs.append(transfer)
            known.add(transfer.key)
            match = transfer
        amounts[match.key] = amounts.get(match.key, Decimal(0)) + amount
    legs.sort(key=lambda t: (t.order, t.index))
    if forward:
        history = AddressHistory(history.address, tuple(legs), history.outgoing, history.note)
    else:
        history = AddressHistory(history.address, history.incoming, tuple(legs), history.note)
    return history, amounts


def _endpoint(
    client: ChainClient,
    address: str,
    asset: str,
    arrivals: _Arrivals,
    reason: StopReason,
    attribution: Attribution | None,
    note: str | None = None,
    amount: Decimal | None = None,
) -> Endpoint:
    """Where (part of) the arrivals stop; `amount`: the part, when not all of them."""
    times = [t.ts for t in arrivals.transfers if t.ts is not None]
    symbols = [t.symbol for t in arrivals.transfers if t.symbol]
    return Endpoint(
        address=address, network=client.network.code, asset=asset,
        symbol=symbols[0] if symbols else None, hops=arrivals.hop,
        amount=arrivals.total if amount is None else amount,
        reason=reason, first_ts=min(times) if times else None,
        last_ts=max(times) if times else None, attribution=attribution, note=note,
    )
