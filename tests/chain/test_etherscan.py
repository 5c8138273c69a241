"""Etherscan v2 / Blockscout account API: shapes, paging by block, envelopes, internal ETH."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from acctsec.chain.cache import ResponseCache
from acctsec.chain.etherscan import EtherscanClient
from acctsec.chain.http import Fetcher
from acctsec.chain.interface import BackendUnavailable, ChainError, Window, network
from acctsec.chain.trace import TraceOptions, trace

KEY = "SECRETKEY123"
A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
CONTRACT = "0x" + "c3" * 20
EXCHANGE = "0x" + "e4" * 20
H1, H2 = "0x" + "11" * 32, "0x" + "22" * 32


def _tx(h, frm, to, value, block, ts=1700000000, **extra):
    row = {"blockNumber": str(block), "timeStamp": str(ts), "hash": h, "from": frm, "to": to,
           "value": str(value), "isError": "0", "txreceipt_status": "1", "transactionIndex": "0",
           "input": "0x", "contractAddress": "", "gas": "21000", "gasUsed": "21000"}
    return row | extra


def ok(rows):
    return {"status": "1", "message": "OK", "result": rows}


EMPTY = {"status": "0", "message": "No transactions found", "result": []}
RATE = {"status": "0", "message": "NOTOK", "result": "Max rate limit reached"}


def client_for(handler, tmp_path: Path | None = None, page_size: int = 1000):
    cache = ResponseCache(tmp_path) if tmp_path else None
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), "etherscan",
                      secret_params={"apikey": KEY}, sleep=lambda s: None,
                      requests_per_second=1000, **({"cache": cache} if cache else {}))
    return EtherscanClient(fetcher, "https://api.etherscan.io/v2/api", network("ETH"),
                           page_size=page_size)


def test_pages_by_block_cursor_and_drops_the_overlap() -> None:
    rows = [_tx("0x" + f"{i:064x}", A, B, 10**18, block=100 + i // 2) for i in range(5)]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        assert q["apikey"] == KEY and q["chainid"] == "1" and q["sort"] == "asc"
        if q["action"] != "txlist":
            return httpx.Response(200, json=EMPTY)
        start = int(q["startblock"])
        seen.append(start)
        page = [r for r in rows if int(r["blockNumber"]) >= start][: int(q["offset"])]
        return httpx.Response(200, json=ok(page))

    history = client_for(handler, page_size=3).history(A, Window())
    assert len(history.outgoing) == 5 and history.note is None
    assert seen == [0, 101, 102]
    assert sum(t.amount for t in history.outgoing) == Decimal(5)


def test_rate_limit_envelope_is_retried_then_answered() -> None:
    answers = iter([RATE, httpx.Response(429), ok([_tx(H1, A, B, 5, 1)])])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["action"] != "txlist":
            return httpx.Response(200, json=EMPTY)
        nxt = next(answers)
        return nxt if isinstance(nxt, httpx.Response) else httpx.Response(200, json=nxt)

    history = client_for(handler).history(A, Window())
    assert [t.amount for t in history.outgoing] == [Decimal("5E-18")]


def test_error_envelope_is_a_chain_error_without_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "0", "message": "NOTOK",
                                         "result": f"Invalid API Key ({KEY})"})

    with pytest.raises(ChainError) as info:
        client_for(handler).history(A, Window())
    assert KEY not in str(info.value) and "Invalid API Key" in str(info.value)


def test_unreachable_endpoint_is_a_dependency_error_after_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectTimeout("boom", request=request)

    with pytest.raises(BackendUnavailable) as info:
        client_for(handler).history(A, Window())
    assert info.value.exit_code == 3 and len(calls) == 5
    assert KEY not in str(info.value) and "api.etherscan.io" in str(info.value)


def test_internal_transfers_are_followed_to_the_exchange(tmp_path: Path) -> None:
    # A sends 3 ETH to a contract, which passes 3 ETH on to the exchange internally.
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        calls.append(dict(q))
        if q["action"] == "txlistinternal" and q.get("txhash") == H1:
            return httpx.Response(200, json=ok([]))
        if q["action"] == "txlist" and q.get("address") == CONTRACT:
            return httpx.Response(200, json=ok([_tx(H1, A, CONTRACT, 3 * 10**18, 7)]))
        if q["action"] == "txlistinternal" and q.get("address") == CONTRACT:
            row = _tx(H2, CONTRACT, EXCHANGE, 3 * 10**18, 8, traceId="0_1", type="call")
            return httpx.Response(200, json=ok([row]))
        return httpx.Response(200, json=EMPTY)

    explorer = client_for(handler, tmp_path)

    class Seeded:
        network = network("ETH")

        def transfers_in_tx(self, txhash):
            history = explorer.history(CONTRACT, Window())
            return [t for t in history.incoming if t.txhash == txhash]

        def history_all(self, addresses, window):
            return explorer.history_all(addresses, window)

    def lookup(address):
        from acctsec.intel.attribution import Attribution

        return Attribution(address, "evm", "exchange", "x") if address == EXCHANGE else None

    result = trace(Seeded(), H1, TraceOptions(), lookup)
    [end] = result.endpoints
    assert (end.address, end.hops, end.amount) == (EXCHANGE, 2, Decimal(3))
    assert [h.transfer.kind for h in result.hops] == ["internal"]
    # Served again from the on-disk cache: no request reaches the transport.
    before = len(calls)
    trace(Seeded(), H1, TraceOptions(), lookup)
    assert len(calls) == before
    for path in (tmp_path / "chain").rglob("*.json"):
        assert KEY not in path.read_text() and KEY not in path.name


def test_tokentx_rows_carry_decimals_and_symbol() -> None:
    row = _tx(H1, A, B, 1234500, 9, contractAddress=CONTRACT, tokenDecimal="6",
              tokenSymbol="USDT", tokenName="Tether USD")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["action"] == "tokentx":
            return httpx.Response(200, json=ok([row]))
        return httpx.Response(200, json=EMPTY)

    [t] = client_for(handler).history(A, Window()).outgoing
    assert (t.asset, t.symbol, t.amount, t.kind) == (CONTRACT, "USDT", Decimal("1.2345"), "token")
    assert json.dumps(str(t.amount)) == '"1.234500"'
