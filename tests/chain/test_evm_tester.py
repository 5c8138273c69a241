"""The trace over a real EVM: py-evm through eth-tester, an ERC-20 compiled by vyper."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from acctsec.chain.evm import EvmClient
from acctsec.chain.interface import Window, network
from acctsec.chain.taint import TaintModel
from acctsec.chain.trace import Direction, StopReason, TraceOptions, trace
from acctsec.intel.attribution import build_index

from . import evm_chain


@pytest.fixture(scope="module")
def chain() -> evm_chain.Scenario:
    return evm_chain.build()


@pytest.fixture(scope="module")
def lookup(chain: evm_chain.Scenario, tmp_path_factory: pytest.TempPathFactory):
    pack = tmp_path_factory.mktemp("packs") / "test.yaml"
    pack.write_text(chain.tagpack(), encoding="utf-8")
    index = build_index(tagpacks=[pack])
    return lambda address: index.lookup(address, "evm")


def _endpoints(chain, result):
    names = {v: k for k, v in chain.names.items()}
    return {(names.get(e.address, e.address), e.hops, e.amount, e.reason) for e in result.endpoints}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (TaintModel.POISON, {("exchange", 3, Decimal(15)), ("mixer", 4, Decimal(5))}),
        (TaintModel.HAIRCUT, {("exchange", 3, Decimal("7.5")), ("mixer", 4, Decimal("2.5"))}),
        (TaintModel.FIFO, {("exchange", 3, Decimal(10))}),
    ],
)
def test_eth_reaches_the_exchange_under_each_model(chain, lookup, model, expected) -> None:
    client = EvmClient(chain.w3, network("ETH"))
    result = trace(client, chain.txs["eth_seed"], TraceOptions(taint=model), lookup)
    got = {(n, h, a) for n, h, a, r in _endpoints(chain, result) if r is StopReason.ATTRIBUTED}
    assert got == expected
    exchange = next(e for e in result.endpoints if e.category == "exchange")
    assert exchange.entity == "testexchange"
    assert exchange.first_ts is not None


@pytest.mark.parametrize(
    ("model", "amount"),
    [(TaintModel.POISON, Decimal("1300.5")), (TaintModel.HAIRCUT, Decimal("1000.5")),
     (TaintModel.FIFO, Decimal("1000.5"))],
)
def test_erc20_reaches_the_exchange_with_exact_amounts(chain, lookup, model, amount) -> None:
    client = EvmClient(chain.w3, network("ETH"))
    result = trace(client, chain.txs["token_seed"], TraceOptions(taint=model), lookup)
    [endpoint] = result.endpoints
    got = (endpoint.address, endpoint.hops, endpoint.amount)
    assert got == (chain.names["exchange"], 3, amount)
    assert endpoint.symbol == "USDT" and endpoint.asset == chain.token
    assert [h.hop for h in result.seeds] == [1]


def test_fifo_and_haircut_split_differently_along_the_way(chain, lookup) -> None:
    client = EvmClient(chain.w3, network("ETH"))
    fifo = trace(client, chain.txs["token_seed"], TraceOptions(taint=TaintModel.FIFO), lookup)
    hair = trace(client, chain.txs["token_seed"], TraceOptions(taint=TaintModel.HAIRCUT), lookup)
    to_e = chain.names["e"]
    assert [h.amount for h in fifo.hops if h.transfer.receiver == to_e] == [Decimal("650.25")]
    assert [h.amount for h in hair.hops if h.transfer.receiver == to_e] == [Decimal("500.25")]


def test_hop_limit_and_minimum_amount_stop_the_trace(chain, lookup) -> None:
    client = EvmClient(chain.w3, network("ETH"))
    short = trace(client, chain.txs["eth_seed"], TraceOptions(hops=2), lookup)
    assert {(e.address, e.reason) for e in short.endpoints} == {
        (chain.names["b"], StopReason.HOP_LIMIT)
    }
    big = trace(client, chain.txs["eth_seed"],
                TraceOptions(taint=TaintModel.HAIRCUT, min_amount=Decimal(3)), lookup)
    # b passes 2.5 of the 10 to c, under the minimum: not followed, and said so at b.
    assert {(e.address, e.reason, e.amount) for e in big.endpoints} == {
        (chain.names["exchange"], StopReason.ATTRIBUTED, Decimal("7.5")),
        (chain.names["b"], StopReason.BELOW_MIN, Decimal("2.5")),
    }


def test_backward_finds_where_the_deposit_came_from(chain, lookup) -> None:
    client = EvmClient(chain.w3, network("ETH"))
    history = client.history(chain.names["exchange"], Window())
    deposit = next(t for t in history.incoming if t.sender == chain.names["b"])
    result = trace(client, deposit.txhash,
                   TraceOptions(direction=Direction.BACKWARD, taint=TaintModel.HAIRCUT), lookup)
    got = {(e.address, e.hops, e.amount) for e in result.endpoints}
    assert got == {
        (chain.names["funder"], 2, Decimal("7.5")),
        (chain.names["victim"], 3, Decimal("7.5")),
    }


def test_a_node_alone_cannot_see_internal_transfers_and_says_so(chain, lookup) -> None:
    # eth-tester exposes no trace/debug API, so the ETH a contract forwards is
    # invisible through the node; tests/chain/test_etherscan.py covers txlistinternal.
    client = EvmClient(chain.w3, network("ETH"))
    result = trace(client, chain.txs["internal_seed"], TraceOptions(), lookup)
    [endpoint] = result.endpoints
    assert endpoint.address == chain.names["forwarder"]
    assert endpoint.reason is StopReason.UNSPENT and "internal transfers" in (endpoint.note or "")
    assert any("internal (contract) transfers" in n for n in result.not_checked)


def test_the_cli_reports_the_exchange_as_json(chain, tmp_path: Path, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from acctsec.cli import app
    from acctsec.cli import trace as trace_cli

    pack = tmp_path / "pack.yaml"
    pack.write_text(chain.tagpack(), encoding="utf-8")
    def real_evm(settings, code, http, snapshot=None):
        return EvmClient(chain.w3, network(code))

    monkeypatch.setattr(trace_cli, "make_client", real_evm)
    monkeypatch.setenv("ACCTSEC_TAGPACKS", str(pack))
    monkeypatch.setenv("ACCTSEC_DATA_DIR", str(tmp_path / "data"))
    out = CliRunner().invoke(app, ["trace", chain.txs["token_seed"], "--taint", "haircut",
                                   "--format", "json", "--online"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    [endpoint] = doc["endpoints"]
    assert endpoint["address"] == chain.names["exchange"]
    assert (endpoint["category"], endpoint["hops"], endpoint["amount"]) == ("exchange", 3, "1000.5")
