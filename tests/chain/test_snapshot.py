"""The offline snapshot backend over ethereum-etl exports (CSV and Parquet), with DuckDB."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from acctsec.chain.interface import MalformedReference, TransactionNotFound, Window, network
from acctsec.chain.snapshot import SnapshotClient
from acctsec.chain.taint import TaintModel
from acctsec.chain.trace import TraceOptions, trace
from acctsec.errors import InputError

from .conftest import shared_path

A, B, C, X = ("0x" + c * 40 for c in "abcd")
TOKEN = "0x" + "7" * 40


def _write(folder: Path) -> None:
    folder.mkdir()
    (folder / "transactions.csv").write_text(
        "hash,nonce,block_hash,block_number,transaction_index,from_address,to_address,value,"
        "gas,gas_price,input,block_timestamp\n"
        f"0x{'1' * 64},0,0x0,10,0,{A},{B},2000000000000000000,21000,1,0x,1700000000\n"
        f"0x{'2' * 64},0,0x0,11,0,{B},{C},1500000000000000000,21000,1,0x,1700000012\n"
        f"0x{'3' * 64},0,0x0,12,0,{C},{X},1500000000000000000,21000,1,0x,1700000024\n",
        encoding="utf-8")
    (folder / "token_transfers.csv").write_text(
        "token_address,from_address,to_address,value,transaction_hash,log_index,block_number\n"
        f"{TOKEN},{A},{B},5000000,0x{'4' * 64},3,13\n"
        f"{TOKEN},{B},{X},5000000,0x{'5' * 64},0,14\n", encoding="utf-8")
    (folder / "tokens.csv").write_text(f"address,symbol,decimals\n{TOKEN},USDT,6\n")


def lookup(address):
    from acctsec.intel.attribution import Attribution

    return Attribution(address, "evm", "exchange", "ex") if address == X else None


def test_eth_and_tokens_traced_offline(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    client = SnapshotClient(tmp_path / "snap", network("ETH"))
    eth = trace(client, "0x" + "1" * 64, TraceOptions(taint=TaintModel.HAIRCUT), lookup)
    # B kept 0.5 of the 2 ETH: it is still there, and the endpoints say so.
    assert [(e.address, e.hops, e.amount, e.reason.value) for e in eth.endpoints] == [
        (B, 1, Decimal("0.5"), "unspent"), (X, 3, Decimal("1.5"), "attributed")]
    assert eth.endpoints[1].first_ts is not None
    usdt = trace(client, "0x" + "4" * 64, TraceOptions(), lookup)
    assert [(e.symbol, e.hops, e.amount) for e in usdt.endpoints] == [("USDT", 2, Decimal(5))]
    late = trace(client, "0x" + "1" * 64,
                 TraceOptions(window=Window(until=eth.seeds[0].transfer.ts)), lookup)
    assert {e.reason.value for e in late.endpoints} == {"unspent"}


def test_bad_references_are_input_errors(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    client = SnapshotClient(tmp_path / "snap", network("ETH"))
    with pytest.raises(MalformedReference, match="'0x12'"):
        client.transfers_in_tx("0x12")
    with pytest.raises(TransactionNotFound):
        client.transfers_in_tx("0x" + "9" * 64)
    with pytest.raises(InputError, match="no transactions"):
        SnapshotClient(tmp_path, network("ETH"))
    with pytest.raises(InputError, match="EVM networks only"):
        SnapshotClient(tmp_path / "snap", network("BTC"))


def test_real_ethereum_etl_exports(tmp_path: Path) -> None:
    blocks = shared_path("fixtures", "ethereum-etl", "test_export_blocks_job",
                         "blocks_with_transactions")
    transfers = shared_path("fixtures", "ethereum-etl", "test_export_token_transfers_job",
                            "block_with_transfers")
    snap = tmp_path / "snap"
    snap.mkdir()
    shutil.copy(blocks / "expected_transactions.csv", snap / "transactions.csv")
    shutil.copy(transfers / "expected_token_transfers.csv", snap / "token_transfers.csv")
    client = SnapshotClient(snap, network("ETH"))
    [t] = client.transfers_in_tx(
        "0x99f1097abd8f33a68f0ed63d60de5f3e7e2a3e0579b90d5f46a4f201c658b46d")
    assert (t.amount, t.receiver) == (Decimal(110), "0xa0e74ae010d51894734c308d612131056bb721ad")
    [tok] = client.transfers_in_tx(
        "0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49")
    assert (tok.index, tok.amount, tok.block) == ("log:1", Decimal(200000), 483920)


def _eth_rows(folder: Path, rows: list[tuple[int, str, str, int]]) -> SnapshotClient:
    """A snapshot of plain ETH payments (hash number, from, to, whole ETH), one a block."""
    folder.mkdir()
    lines = ["hash,nonce,block_hash,block_number,transaction_index,from_address,to_address,"
             "value,gas,gas_price,input,block_timestamp"]
    for n, (tx, sender, receiver, eth) in enumerate(rows):
        lines.append(f"0x{tx:064x},0,0x0,{100 + n},0,{sender},{receiver},{eth * 10**18},"
                     f"21000,1,0x,{1700000000 + 12 * n}")
    (folder / "transactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return SnapshotClient(folder, network("ETH"))


D, Y = ("0x" + c * 40 for c in "e1")


@pytest.mark.parametrize("taint", [TaintModel.HAIRCUT, TaintModel.FIFO])
def test_every_part_of_the_money_ends_somewhere(tmp_path: Path, taint: TaintModel) -> None:
    """B holds 5 ETH of its own, receives the traced 10 and pays 4 and 6 on: what stays at
    B, at C and D (which pays 1 on) is listed, and the endpoints add up to the 10 traced
    (the part that stayed at an address was left out)."""
    client = _eth_rows(tmp_path / "snap", [(1, X, B, 5), (2, A, B, 10), (3, B, C, 4),
                                           (4, B, D, 6), (5, D, Y, 1)])
    result = trace(client, f"0x{2:064x}", TraceOptions(taint=taint), lambda _: None)
    total = sum((e.amount for e in result.endpoints), Decimal(0))
    assert abs(total - 10) < Decimal("1e-12"), result.endpoints
    assert all(e.reason.value == "unspent" for e in result.endpoints)
    assert B in {e.address for e in result.endpoints}  # B still holds part of it


def test_money_that_comes_back_to_an_address_is_followed_again(tmp_path: Path) -> None:
    """A to B to C, back to B, then to D: the second visit to B was dropped, and the trace
    ended with no endpoint at all."""
    client = _eth_rows(tmp_path / "snap", [(2, A, B, 10), (3, B, C, 10), (4, C, B, 10),
                                           (5, B, D, 10)])
    for taint in TaintModel:
        result = trace(client, f"0x{2:064x}", TraceOptions(taint=taint), lambda _: None)
        assert [(e.address, e.amount, e.reason.value) for e in result.endpoints] == [
            (D, Decimal(10), "unspent")], taint


def test_flows_under_min_amount_are_named_as_such(tmp_path: Path) -> None:
    """B pays the traced 10 ETH on in two flows of 4 and 6: with --min-amount 7 neither is
    followed, and B is not 'unspent': the money left it in small flows."""
    client = _eth_rows(tmp_path / "snap", [(2, A, B, 10), (3, B, C, 4), (4, B, D, 6)])
    result = trace(client, f"0x{2:064x}", TraceOptions(min_amount=Decimal(7)), lambda _: None)
    assert [(e.address, e.amount, e.reason.value) for e in result.endpoints] == [
        (B, Decimal(10), "below_min_amount")]
    assert "2 flow(s) under --min-amount 7" in (result.endpoints[0].note or "")


def test_a_read_only_export_gets_its_index_in_the_cache_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot on a read-only mount: the index could not be written beside it and the
    trace failed. (os.access stands in for the mount: root writes through permission bits.)"""
    import os

    import httpx

    from acctsec.chain.clients import make_client
    from acctsec.config import Settings

    _write(tmp_path / "snap")
    snap = tmp_path / "snap"
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == snap
                        else real_access(p, mode))
    with httpx.Client() as http:
        client = make_client(Settings(cache_dir=tmp_path / "cache"), "ETH", http, snapshot=snap)
    result = trace(client, "0x" + "1" * 64, TraceOptions(), lookup)
    assert result.endpoints
    assert not (snap / ".acctsec").exists()
    assert list((tmp_path / "cache" / "snapshot-index").glob("*/index.duckdb"))


def test_dot_labels_break_lines_and_one_node_per_address(tmp_path: Path) -> None:
    """Endpoint labels were joined with an escaped backslash, so Graphviz showed a literal
    \\n; B, where money both stays and leaves, is one node saying both."""
    from acctsec.chain.render import render_dot

    client = _eth_rows(tmp_path / "snap", [(2, A, B, 10), (3, B, C, 3), (4, B, D, 6)])
    result = trace(client, f"0x{2:064x}", TraceOptions(min_amount=Decimal(5)), lambda _: None)
    dot = render_dot(result)
    nodes = [line for line in dot.splitlines() if "[label=" in line and "->" not in line]
    b_nodes = [line for line in nodes if line.strip().startswith(f'"{B}"')]
    assert len(b_nodes) == 1
    assert f'"{B}\\nbelow_min_amount (-)\\n3 ETH at hop 1\\nunspent (-)\\n1 ETH at hop 1"' \
        in b_nodes[0]
    assert "\\\\n" not in dot  # no escaped backslash before an n anywhere


def test_token_amounts_without_decimals_are_said_to_be_raw(tmp_path: Path) -> None:
    """No tokens table: 5 USDT showed as 5000000 of the token with nothing to say why."""
    _write(tmp_path / "snap")
    (tmp_path / "snap" / "tokens.csv").unlink()
    client = SnapshotClient(tmp_path / "snap", network("ETH"))
    result = trace(client, "0x" + "4" * 64, TraceOptions(), lookup)
    assert [e.amount for e in result.endpoints] == [Decimal(5000000)]
    assert any(TOKEN in n and "raw units" in n for n in result.not_checked), result.not_checked
    # With the table, nothing to say.
    _write(tmp_path / "snap2")
    full = trace(SnapshotClient(tmp_path / "snap2", network("ETH")), "0x" + "4" * 64,
                 TraceOptions(), lookup)
    assert not any("raw units" in n for n in full.not_checked)
