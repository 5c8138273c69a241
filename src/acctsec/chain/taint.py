"""Taint models: how much of what left an address was the money being followed."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum

from acctsec.chain.interface import AddressHistory, Transfer

# A colour marks where a part of a balance came from: the followed money, the rest,
# or (going backward) one inflow each.
Colour = Hashable
Mix = dict[Colour, Decimal]
CLEAN = "clean"
TAINT = "taint"

_PRECISION = 120  # enough for any uint256 amount times another


class TaintModel(StrEnum):
    """poison: all that leaves after taint arrives is tainted; haircut: in proportion
    to the tainted share of the balance; fifo: first in, first out."""

    POISON = "poison"
    HAIRCUT = "haircut"
    FIFO = "fifo"


Event = tuple[tuple[int, int, int], int, Transfer]


def _events(history: AddressHistory, asset: str) -> list[Event]:
    # Inflows sort before outflows at the same position, so money received and sent
    # on in one transaction (a contract forwarding ETH) is there to be sent.
    items = [(t.order, 0, t) for t in history.incoming if t.asset == asset]
    items += [(t.order, 1, t) for t in history.outgoing if t.asset == asset]
    items.sort(key=lambda e: (e[0], e[1], e[2].index))
    return items


def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def _take_haircut(pool: Mix, amount: Decimal, decimals: int) -> Mix:
    total = sum(pool.values(), Decimal(0))
    if total <= 0:
        return {CLEAN: amount}
    taken = min(amount, total)
    out: Mix = {}
    for colour, held in pool.items():
        share = (held * taken / total).quantize(_quantum(decimals), rounding=ROUND_HALF_EVEN)
        share = min(share, held)
        if share:
            out[colour] = share
            pool[colour] = held - share
    if amount > taken:
        out[CLEAN] = out.get(CLEAN, Decimal(0)) + amount - taken
    return out


def _take_fifo(queue: deque[list[object]], amount: Decimal) -> Mix:
    out: Mix = {}
    left = amount
    while left > 0 and queue:
        lot = queue[0]
        colour, held = lot[0], lot[1]
        assert isinstance(held, Decimal)
        used = min(held, left)
        out[colour] = out.get(colour, Decimal(0)) + used
        left -= used
        if used == held:
            queue.popleft()
        else:
            lot[1] = held - used
    if left > 0:
        out[CLEAN] = out.get(CLEAN, Decimal(0)) + left
    return out


def simulate(
    model: TaintModel,
    history: AddressHistory,
    asset: str,
    inflow_mix: Mapping[tuple[str, str], Mix],
) -> dict[tuple[str, str], Mix]:
    """The colour mix of each outflow of `asset`, given the mix of each inflow.

    An inflow not in `inflow_mix` is all CLEAN. Amounts stay exact Decimals; a
    haircut share is rounded to the asset's smallest unit.
    """
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return _simulate(model, _events(history, asset), inflow_mix)


def _simulate(
    model: TaintModel,
    events: Iterable[Event],
    inflow_mix: Mapping[tuple[str, str], Mix],
) -> dict[tuple[str, str], Mix]:
    pool: Mix = {}
    queue: deque[list[object]] = deque()
    out: dict[tuple[str, str], Mix] = {}
    for _, is_out, transfer in events:
        if not is_out:
            mix = inflow_mix.get(transfer.key) or {CLEAN: transfer.amount}
            for colour, amount in mix.items():
                pool[colour] = pool.get(colour, Decimal(0)) + amount
                queue.append([colour, amount])
            continue
        if model is TaintModel.POISON:
            out[transfer.key] = {c: transfer.amount if c == TAINT else v for c, v in pool.items()}
        elif model is TaintModel.HAIRCUT:
            out[transfer.key] = _take_haircut(pool, transfer.amount, transfer.decimals)
        else:
            out[transfer.key] = _take_fifo(queue, transfer.amount)
    return out


def tainted_outflows(
    model: TaintModel,
    history: AddressHistory,
    asset: str,
    tainted_in: Mapping[tuple[str, str], Decimal],
) -> dict[tuple[str, str], Decimal]:
    """Forward: how much of each outflow carries the followed money."""
    amounts = {t.key: t.amount for t in history.incoming}
    mixes: dict[tuple[str, str], Mix] = {}
    for key, taint in tainted_in.items():
        whole = amounts.get(key, taint)
        mixes[key] = {TAINT: taint, CLEAN: whole - taint} if whole > taint else {TAINT: taint}
    result = simulate(model, history, asset, mixes)
    return {k: m[TAINT] for k, m in result.items() if m.get(TAINT, Decimal(0)) > 0}


def funding_inflows(
    model: TaintModel,
    history: AddressHistory,
    asset: str,
    followed_out: Mapping[tuple[str, str], Decimal],
) -> dict[tuple[str, str], Decimal]:
    """Backward: how much of the followed outflows each inflow paid for."""
    mixes: dict[tuple[str, str], Mix] = {
        t.key: {t.key: t.amount} for t in history.incoming if t.asset == asset
    }
    result = simulate(model, history, asset, mixes)
    funded: dict[tuple[str, str], Decimal] = {}
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for out_key, followed in followed_out.items():
            _add_funding(funded, model, result.get(out_key, {}), followed)
    return funded


def _add_funding(
    funded: dict[tuple[str, str], Decimal], model: TaintModel, mix: Mix, followed: Decimal
) -> None:
    # Only part of an outflow may be followed (a haircut upstream): its sources pay
    # for that part in the same proportions.
    whole = sum(mix.values(), Decimal(0))
    for colour, amount in mix.items():
        if colour == CLEAN or not amount or not isinstance(colour, tuple):
            continue
        part = amount
        if model is not TaintModel.POISON and whole > followed:
            part = amount * followed / whole
        funded[colour] = funded.get(colour, Decimal(0)) + part
