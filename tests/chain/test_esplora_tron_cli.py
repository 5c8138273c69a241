"""`acctsec trace --network BTC|TRX` and investigate's trace_withdrawals over recorded answers."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.chain import test_esplora, test_tron

from acctsec.chain import clients
from acctsec.chain.http import Fetcher
from acctsec.chain.report import trace_withdrawals
from acctsec.cli import _app, app
from acctsec.config import Settings
from acctsec.model import Transaction

FIX = Path(__file__).parent / "fixtures"
KEY = test_tron.KEY


@pytest.fixture
def wire(monkeypatch, tmp_path):
    """Routes the CLI's HTTP through a handler; back-off sleeps are skipped."""
    monkeypatch.setenv("ACCTSEC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACCTSEC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(clients, "Fetcher", functools.partial(Fetcher, sleep=lambda s: None))
    calls: list[str] = []

    def install(handler):
        def counting(request: httpx.Request) -> httpx.Response:
            calls.append(str(request.url))
            return handler(request)

        monkeypatch.setattr(clients, "http_client", lambda settings: httpx.Client(
            transport=httpx.MockTransport(counting)))
        return calls

    return install


def run(monkeypatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["acctsec", *args])
    return _app.run(app)


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_btc_trace_prints_the_exchange(wire, monkeypatch, capsys, tmp_path) -> None:
    pack = FIX / "tagpack_btc_tron.yaml"
    monkeypatch.setenv("ACCTSEC_TAGPACKS", str(pack))
    calls = wire(test_esplora.serve)
    txid = test_esplora.N["T1"]
    assert run(monkeypatch, "trace", txid, "--network", "BTC", "--online", "--format", "json",
               "--taint", "fifo") == 0
    report = json.loads(capsys.readouterr().out)
    exchange = [e for e in report["endpoints"] if e["address"] == test_esplora.N["EXCH"]]
    assert exchange and exchange[0]["amount"] == "1.4998"
    made = len(calls)
    assert run(monkeypatch, "trace", txid, "--network", "BTC", "--online", "--format", "json",
               "--taint", "fifo") == 0
    assert len(calls) == made  # the repeat is served from the cache


def test_unreachable_esplora_is_exit_3(wire, monkeypatch, capsys) -> None:
    wire(down)
    assert run(monkeypatch, "trace", "ab" * 32, "--network", "BTC", "--online") == 3
    err = capsys.readouterr().err
    assert "esplora at blockstream.info unreachable after 5 attempts" in err
    assert "Traceback" not in err


def test_unreachable_trongrid_is_exit_3_without_the_key(wire, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ACCTSEC_TRONGRID_API_KEY", KEY)
    calls = wire(down)
    assert run(monkeypatch, "trace", "cd" * 32, "--network", "TRON", "--online") == 3
    err = capsys.readouterr().err
    assert "trongrid at api.trongrid.io unreachable" in err and KEY not in err
    assert len(calls) == 5 and all(KEY not in c for c in calls)


@pytest.mark.parametrize(("net", "bad"), [("BTC", "0x1234"), ("TRX", "g" * 64),
                                          ("BTC", "ab" * 33)])
def test_malformed_txid_is_exit_1_naming_it(wire, monkeypatch, capsys, net, bad) -> None:
    calls = wire(down)
    assert run(monkeypatch, "trace", bad, "--network", net, "--online") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"malformed {net} transaction hash {bad!r} (expected 64 hex digits)")
    assert calls == []


def _withdrawal(network_code: str, txhash: str, asset: str, address: str) -> Transaction:
    return Transaction(ts=datetime(2024, 4, 19, tzinfo=UTC), uid="10042", kind="withdrawal",
                       asset=asset, amount=Decimal(1000), network=network_code, txhash=txhash,
                       address=address)


def test_trace_withdrawals_traces_usdt_trc20_and_btc(tmp_path) -> None:
    settings = Settings(offline=False, cache_dir=tmp_path, data_dir=tmp_path / "d",
                        tagpacks=(FIX / "tagpack_btc_tron.yaml",), trongrid_api_key=KEY)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.trongrid.io":
            return test_tron.serve(request)
        return test_esplora.serve(request)

    n, b = test_tron.N, test_esplora.N
    withdrawals = [_withdrawal("TRX", n["S1"], "USDT", n["A"]),
                   _withdrawal("BTC", b["T1"], "BTC", b["A"]),
                   _withdrawal("BTC", "zz", "BTC", b["A"])]
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        funds, not_checked = trace_withdrawals(settings, withdrawals, client=http)
    usdt, btc = funds
    assert [(e["address"], e["amount"]) for e in usdt["endpoints"]] == [(n["EXCH"], "1000")]
    btc_ends = {(e["address"], e["reason"]): e["amount"] for e in btc["endpoints"]}
    # haircut, only what went to A: 0.899925 through B and 0.59985 through A's change
    assert btc_ends == {(b["EXCH"], "attributed"): "1.499775", ("(miner fee)", "fee"): "0.000225"}
    assert not_checked == ["not checked: on-chain trace of zz: malformed BTC transaction hash "
                           "'zz' (expected 64 hex digits)"]
