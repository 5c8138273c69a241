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
    assert [(e.address, e.hops, e.amount) for e in eth.endpoints] == [(X, 3, Decimal("1.5"))]
    assert eth.endpoints[0].first_ts is not None
    usdt = trace(client, "0x" + "4" * 64, TraceOptions(), lookup)
    assert [(e.symbol, e.hops, e.amount) for e in usdt.endpoints] == [("USDT", 2, Decimal(5))]
    # B kept 0.5 ETH: the haircut leaves it there, a second endpoint says so.
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
