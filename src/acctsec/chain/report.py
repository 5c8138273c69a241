"""What `acctsec investigate` asks of the chain layer: funds of withdrawals, who sent deposits."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.chain.interface import format_amount, network
from acctsec.config import Settings
from acctsec.errors import AcctsecError
from acctsec.intel.attribution import Attribution, AttributionIndex, build_index
from acctsec.model import Transaction

if TYPE_CHECKING:
    import httpx

    from acctsec.chain.trace import TraceResult


Paths = tuple[tuple[Path, ...], tuple[Path, ...], tuple[Path, ...]]


def attribution_paths(settings: Settings) -> Paths:
    """TagPack, OFAC and Forta paths: configured ones plus the current `intel update` snapshot."""
    from acctsec.intel.update import current_snapshot

    tagpacks, ofac, forta = list(settings.tagpacks), list(settings.ofac), list(settings.forta)
    snapshot = current_snapshot(settings.resolved_data_dir())
    if snapshot is not None:
        for folder, bucket in (("tagpacks", tagpacks), ("ofac", ofac), ("forta", forta)):
            if (snapshot / folder).is_dir():
                bucket.append(snapshot / folder)
    return tuple(tagpacks), tuple(ofac), tuple(forta)


@lru_cache(maxsize=4)
def _cached_index(paths: Paths) -> AttributionIndex:
    return build_index(*paths)


def attribution_index(settings: Settings) -> AttributionIndex:
    """Every attribution the settings point at, loaded once per set of paths."""
    return _cached_index(attribution_paths(settings))


def attribute_address(settings: Settings, address: str, network_code: str) -> Attribution | None:
    """The most severe known attribution of an address on a network, or None.

    Raises InputError for an unknown network or an unreadable attribution file.
    """
    family = network(network_code).family
    return attribution_index(settings).lookup(address, family)


def trace_withdrawals(
    settings: Settings,
    withdrawals: list[Transaction],
    *,
    hops: int = 5,
    client: httpx.Client | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Traces each withdrawal's on-chain transaction forward to its endpoints.

    Returns the report's `funds` entries and "not checked: <why>" lines; it never
    raises for a withdrawal it cannot trace.
    """
    from acctsec.chain.clients import http_client

    own = client is None
    http = client or http_client(settings)
    funds: list[dict[str, Any]] = []
    not_checked: list[str] = []
    try:
        for tx in withdrawals:
            entry, problems = _trace_one(settings, tx, hops, http)
            if entry is not None:
                funds.append(entry)
            not_checked.extend(problems)
    finally:
        if own:
            http.close()
    return funds, not_checked


def _trace_one(
    settings: Settings, tx: Transaction, hops: int, http: httpx.Client
) -> tuple[dict[str, Any] | None, list[str]]:
    label = tx.txhash or tx.tx_id or "withdrawal"
    if not tx.txhash:
        return None, [f"not checked: on-chain trace of {label}: no txhash recorded"]
    if not tx.network:
        return None, [f"not checked: on-chain trace of {label}: no network recorded"]
    try:
        result = _run_trace(settings, tx, hops, http)
    except AcctsecError as exc:
        return None, [f"not checked: on-chain trace of {label}: {exc}"]
    entry = funds_entry(result, asset=tx.asset, amount=tx.amount)
    return entry, list(result.not_checked)


def _run_trace(settings: Settings, tx: Transaction, hops: int, http: httpx.Client) -> TraceResult:
    from acctsec.chain.clients import make_client
    from acctsec.chain.trace import TraceOptions, trace

    assert tx.txhash is not None and tx.network is not None
    chain = make_client(settings, tx.network, http)
    options = TraceOptions(hops=hops, asset=tx.asset, only_to=tx.address)
    index = attribution_index(settings)
    family = chain.network.family
    return trace(chain, tx.txhash, options, lambda a: index.lookup(a, family))


def funds_entry(result: TraceResult, *, asset: str | None = None,
                amount: Decimal | None = None) -> dict[str, Any]:
    """One `funds[]` entry of spec/report.md from a trace."""
    totals = result.amount_by_asset()
    shown_asset = asset or ", ".join(totals) or None
    shown_amount = amount if amount is not None else sum(totals.values(), Decimal(0))
    return {
        "txhash": result.txhash,
        "network": result.network,
        "asset": shown_asset,
        "amount": format_amount(shown_amount),
        "direction": result.options.direction.value,
        "taint": result.options.taint.value,
        "endpoints": [e.as_dict() for e in result.endpoints],
        "not_checked": list(result.not_checked),
    }
