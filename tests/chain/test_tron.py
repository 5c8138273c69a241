"""Tron through TronGrid: TRC-20 USDT and TRX flows, fingerprint paging, envelopes, key, CLI."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from acctsec.chain.cache import ResponseCache
from acctsec.chain.http import Fetcher
from acctsec.chain.interface import (
    ChainError,
    MalformedReference,
    Window,
    network,
    normalize_address,
)
from acctsec.chain.taint import TaintModel
from acctsec.chain.trace import StopReason, TraceOptions, trace
from acctsec.chain.tron import USDT, TronGridClient
from acctsec.intel.attribution import build_index

FIX = Path(__file__).parent / "fixtures"
TG = FIX / "trongrid"
N = json.loads((TG / "names.json").read_text())
KEY = "tron-secret-key-0123456789"
URL = "https://api.trongrid.io"


def _json(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=(TG / name).read_bytes(),
                          headers={"content-type": "application/json"})


def serve(request: httpx.Request) -> httpx.Response:
    """The recorded TronGrid answers; the key must arrive in its header on every call."""
    assert request.headers.get("TRON-PRO-API-KEY") == KEY
    path = request.url.path
    if path.startswith("/walletsolidity/"):
        txid = json.loads(request.content)["value"]
        kind = "tx" if path.endswith("gettransactionbyid") else "info"
        return _json(f"{kind}_S1.json") if txid == N["S1"] else httpx.Response(200, json={})
    address, _, kind = path.removeprefix("/v1/accounts/").partition("/")
    assert request.url.params["only_confirmed"] == "true"
    who = {v: k for k, v in N.items()}.get(address)
    if kind == "transactions/trc20" and who == "A":
        fingerprint = request.url.params.get("fingerprint")
        number = {None: 1, "9yB4NeZQm1Pd2z8V": 2, "L6nUQcwjpe2TRkq4": 3}[fingerprint]
        return _json(f"trc20_A_page{number}.json")
    if kind == "transactions/trc20" and who in ("B", "C"):
        return _json(f"trc20_{who}.json")
    return _json("empty.json")


def client(handler=serve, cache: ResponseCache | None = None) -> TronGridClient:
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "trongrid",
                      secret_headers={"TRON-PRO-API-KEY": KEY}, sleep=lambda s: None,
                      requests_per_second=1000, body_statuses=frozenset({400, 403}),
                      **({"cache": cache} if cache else {}))
    return TronGridClient(fetcher, URL, network("TRX"))


@pytest.fixture(scope="module")
def lookup():
    index = build_index(tagpacks=[FIX / "tagpack_btc_tron.yaml"])
    return lambda address: index.lookup(address, "tron")


# S1: 1000 USDT hot wallet -> A. A held 500 clean before; A then sends 900 to B (S2) and
# 600 to C (S3); B and C each pass everything on to the exchange (S4, S5): 3 hops.
EXPECTED = {  # (to the exchange, of it through B)
    TaintModel.POISON: ("1500", "900"),
    TaintModel.HAIRCUT: ("1000", "600"),  # 900 * 1000/1500, then 600 * 400/600
    TaintModel.FIFO: ("1000", "400"),  # the clean 500 leaves first
}


@pytest.mark.parametrize("model", list(TaintModel))
def test_usdt_three_hops_to_the_exchange(model, lookup) -> None:
    result = trace(client(), N["S1"], TraceOptions(taint=model), lookup)
    exchange = [e for e in result.endpoints if e.address == N["EXCH"]]
    assert len(exchange) == 1
    total, via_b = EXPECTED[model]
    assert exchange[0].amount == Decimal(total)
    into_b = [h.amount for h in result.hops if h.transfer.receiver == N["B"]]
    assert into_b == [Decimal(via_b)]
    assert exchange[0].reason is StopReason.ATTRIBUTED and exchange[0].hops == 3
    assert exchange[0].asset == USDT and exchange[0].symbol == "USDT"
    assert exchange[0].entity == "example_exchange"
    assert [h.amount for h in result.seeds] == [Decimal(1000)]


def test_fingerprint_paging_two_pages_then_empty() -> None:
    fingerprints: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/trc20"):
            fingerprints.append(request.url.params.get("fingerprint"))
            assert request.url.params["limit"] == "200"
            assert request.url.params["min_timestamp"] == "1713000000000"
        return serve(request)

    from datetime import UTC, datetime

    since = datetime.fromtimestamp(1713000000, tz=UTC)
    history = client(handler).history(N["A"], Window(since=since))
    assert fingerprints == [None, "9yB4NeZQm1Pd2z8V", "L6nUQcwjpe2TRkq4"]
    assert [t.amount for t in history.incoming] == [Decimal(500), Decimal(1000)]
    assert [(t.receiver, t.amount) for t in history.outgoing] == [
        (N["B"], Decimal(900)), (N["C"], Decimal(600))]


def test_trx_native_transfer_in_sun() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"{N['A']}/transactions"):
            return _json("transactions_A.json")
        return serve(request)

    history = client(handler).history(N["A"], Window())
    native = [t for t in history.outgoing if t.asset == "TRX"]
    assert [(t.receiver, t.amount, t.decimals) for t in native] == [
        (N["B"], Decimal("2.5"), 6)]


def test_error_envelope_is_a_literal_one_line_error() -> None:
    body = {"success": False, "error": "Invalid address provided: <b>x</b>", "statusCode": 400}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=body)

    with pytest.raises(ChainError) as caught:
        client(handler).history(N["A"], Window())
    assert "Invalid address provided: <b>x</b>" in str(caught.value)
    assert KEY not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("first", [
    httpx.Response(429, text="Too Many Requests"),
    httpx.Response(503, json={"Error": "The key exceeds the frequency limit(15)"}),
    httpx.Response(403, json={"Success": False, "StatusCode": 403, "Error":
                              "The key exceeds the frequency limit(15), and the query "
                              "server is suspended for 30s"}),
])
def test_rate_limit_then_success(first, lookup) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return first if calls["n"] == 1 else serve(request)

    legs = client(handler).transfers_in_tx(N["S1"])
    assert calls["n"] == 3 and [t.amount for t in legs] == [Decimal(1000)]


def test_cached_repeat_makes_no_request_and_never_holds_the_key(tmp_path, lookup) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return serve(request)

    first = trace(client(handler, ResponseCache(tmp_path)), N["S1"], TraceOptions(), lookup)
    made = calls["n"]
    second = trace(client(handler, ResponseCache(tmp_path)), N["S1"], TraceOptions(), lookup)
    assert made > 0 and calls["n"] == made
    assert first.endpoints == second.endpoints
    files = list(tmp_path.rglob("*"))
    assert any(f.suffix == ".json" for f in files)
    for f in files:
        assert KEY not in str(f)
        assert f.is_dir() or KEY not in f.read_text(encoding="utf-8")


def test_unknown_or_unconfirmed_transaction_and_bad_references() -> None:
    from acctsec.chain.interface import TransactionNotFound

    with pytest.raises(TransactionNotFound, match="not found on TRX"):
        client().transfers_in_tx("ab" * 32)
    with pytest.raises(MalformedReference, match="malformed TRX transaction hash '0x12'"):
        client().transfers_in_tx("0x12")
    net = network("TRX")
    assert normalize_address(net, USDT) == USDT
    bad = USDT[:-1] + ("u" if USDT[-1] != "u" else "v")
    with pytest.raises(MalformedReference, match=repr(bad)):
        normalize_address(net, bad)
