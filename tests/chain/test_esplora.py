"""Bitcoin through Esplora: UTXO flows, exact taint per model, paging, retries, cache, CLI."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from acctsec.chain.cache import ResponseCache
from acctsec.chain.esplora import FEE, EsploraClient, split_exact, tx_transfers
from acctsec.chain.http import Fetcher
from acctsec.chain.interface import MalformedReference, Window, network, normalize_address
from acctsec.chain.taint import TaintModel
from acctsec.chain.trace import Direction, StopReason, TraceOptions, trace
from acctsec.intel.attribution import build_index

FIX = Path(__file__).parent / "fixtures"
N = json.loads((FIX / "esplora" / "names.json").read_text())
URL = "https://blockstream.info/api"


def serve(request: httpx.Request) -> httpx.Response:
    """The recorded Esplora answers, by path; unknown paths 404 with Esplora's plain text."""
    path = request.url.path.removeprefix("/api")
    parts = path.strip("/").split("/")
    name = None
    if parts[0] == "tx" and len(parts) == 2:
        name = f"tx_{parts[1]}.json"
    elif parts[0] == "tx" and parts[2:] == ["outspends"]:
        name = f"outspends_{parts[1]}.json"
    file = FIX / "esplora" / name if name else None
    if file is None or not file.exists():
        return httpx.Response(404, text="Transaction not found")
    return httpx.Response(200, content=file.read_bytes(),
                          headers={"content-type": "application/json"})


def client(handler=serve, cache: ResponseCache | None = None) -> EsploraClient:
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "esplora",
                      sleep=lambda s: None, requests_per_second=1000,
                      **({"cache": cache} if cache else {}))
    return EsploraClient(fetcher, URL, network("BTC"))


@pytest.fixture(scope="module")
def lookup(tmp_path_factory):
    index = build_index(tagpacks=[FIX / "tagpack_btc_tron.yaml"])
    return lambda address: index.lookup(address, "btc")


def ends(result):
    return {(e.address, e.reason): e.amount for e in result.endpoints}


# Seed T1: 2 BTC from the hot wallet W -> 1.5 to A, 0.4999 change to W, 0.0001 fee.
# T2: A spends a clean 0.5 (first input) and the followed 1.5 -> 1.2 to B, 0.7999 change
# back to A. T3: B -> 1.1999 to the exchange; T4: A's change -> 0.7998 to the exchange.
EXPECTED = {
    TaintModel.POISON: ("1.9997", "0.0004"),
    TaintModel.HAIRCUT: ("1.499775", "0.000325"),
    TaintModel.FIFO: ("1.4998", "0.0003"),
}


@pytest.mark.parametrize("model", list(TaintModel))
def test_multi_hop_trace_reaches_the_exchange_with_exact_amounts(model, lookup) -> None:
    result = trace(client(), N["T1"], TraceOptions(taint=model), lookup)
    found = ends(result)
    to_exchange, fees = EXPECTED[model]
    assert found[(N["EXCH"], StopReason.ATTRIBUTED)] == Decimal(to_exchange)
    assert found[(FEE, StopReason.FEE)] == Decimal(fees)
    assert found[(N["W"], StopReason.UNSPENT)] == Decimal("0.4999")
    exchange = next(e for e in result.endpoints if e.address == N["EXCH"])
    assert exchange.entity == "example_exchange" and exchange.hops == 3
    assert sum(h.amount for h in result.seeds) == Decimal(2)
    if model is not TaintModel.POISON:  # conservation: every satoshi ends somewhere
        assert sum(e.amount for e in result.endpoints) == Decimal(2)


def test_change_back_to_the_input_address_is_followed(lookup) -> None:
    result = trace(client(), N["T1"], TraceOptions(taint=TaintModel.FIFO), lookup)
    change = [h for h in result.hops if h.transfer.receiver == N["A"]]
    assert [(h.transfer.txhash, h.amount) for h in change] == [(N["T2"], Decimal("0.7999"))]
    assert any(h.transfer.txhash == N["T4"] for h in result.hops)


def test_backward_trace_reaches_the_hot_wallet(lookup) -> None:
    options = TraceOptions(direction=Direction.BACKWARD, taint=TaintModel.HAIRCUT, hops=3)
    result = trace(client(), N["T3"], options, lookup)
    # B's 1.2 came from T2, which A paid with 0.5 from T0 (OTHER) and 1.5 from T1 (W).
    assert ends(result) == {(N["W"], StopReason.HOP_LIMIT): Decimal("0.9"),
                            (N["OTHER"], StopReason.HOP_LIMIT): Decimal("0.3")}


def test_inputs_of_several_addresses_split_exactly() -> None:
    tx = json.loads((FIX / "esplora" / f"tx_{N['T2']}.json").read_text())
    tx["vin"][0]["prevout"]["scriptpubkey_address"] = N["OTHER"]
    tx["vin"][0]["prevout"]["value"] = 50000001
    tx["vout"][0]["value"] = 120000001
    legs = tx_transfers(network("BTC"), tx)
    by_out: dict[str, Decimal] = {}
    by_in: dict[str, Decimal] = {}
    for t in legs:
        by_out[t.receiver] = by_out.get(t.receiver, Decimal(0)) + t.amount
        by_in[t.sender] = by_in.get(t.sender, Decimal(0)) + t.amount
    assert by_out == {N["B"]: Decimal("1.20000001"), N["A"]: Decimal("0.7999"),
                      FEE: Decimal("0.0001")}
    assert by_in == {N["OTHER"]: Decimal("0.50000001"), N["A"]: Decimal("1.5")}
    assert all(t.amount > 0 and t.amount == t.amount.quantize(Decimal("1E-8")) for t in legs)


@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=6), st.data())
def test_split_keeps_both_sums_exact(rows, data) -> None:
    total = sum(rows)
    cuts = sorted(data.draw(st.lists(st.integers(0, total), max_size=6)))
    cols = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    cells = split_exact(rows, cols)
    assert [sum(line) for line in cells] == rows
    assert [sum(line[j] for line in cells) for j in range(len(cols))] == cols
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            assert cells[i][j] >= 0 and abs(cells[i][j] * total - r * c) < max(total, 1)


def test_address_history_pages_by_last_seen_txid() -> None:
    pages = [FIX / "esplora" / f"address_page{n}.json" for n in (1, 2, 3)]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, content=pages[len(seen) - 1].read_bytes())

    address = N["B"]
    history = client(handler).history(address, Window())
    first = json.loads(pages[0].read_text())
    assert seen == [f"/api/address/{address}/txs/chain",
                    f"/api/address/{address}/txs/chain/{first[-1]['txid']}",
                    f"/api/address/{address}/txs/chain/{json.loads(pages[1].read_text())[-1]['txid']}"]
    assert len(history.incoming) == 50 and not history.outgoing and history.note is None
    assert history.incoming[0].amount == Decimal("0.000995")


def test_429_then_success_and_plain_text_404(lookup) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "1"})
        return serve(request)

    legs = client(handler).transfers_in_tx(N["T1"])
    assert calls["n"] == 3 and sum(t.amount for t in legs) == Decimal(2)
    from acctsec.chain.interface import TransactionNotFound

    with pytest.raises(TransactionNotFound, match="not found on BTC"):
        client().transfers_in_tx("ab" * 32)


def test_cached_repeat_makes_no_request(tmp_path, lookup) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return serve(request)

    first = trace(client(handler, ResponseCache(tmp_path)), N["T1"], TraceOptions(), lookup)
    made = calls["n"]
    second = trace(client(handler, ResponseCache(tmp_path)), N["T1"], TraceOptions(), lookup)
    assert made > 0 and calls["n"] == made
    assert ends(first) == ends(second)


def test_addresses_and_txids_are_checked() -> None:
    net = network("BTC")
    assert normalize_address(net, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    with pytest.raises(MalformedReference, match="'1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb'"):
        normalize_address(net, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    with pytest.raises(MalformedReference, match="malformed BTC transaction hash 'xyz'"):
        client().transfers_in_tx("xyz")
