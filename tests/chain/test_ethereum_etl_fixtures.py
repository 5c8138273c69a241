"""Real mainnet JSON-RPC answers (ethereum-etl's fixtures) decode to ethereum-etl's rows."""

from __future__ import annotations

import csv
import json
import re

import httpx

from acctsec.chain.evm import EvmClient, decode_transfer_log, httpx_web3
from acctsec.chain.http import Fetcher
from acctsec.chain.interface import network, scale

from .conftest import shared_path


def _rpc_transport(folder):
    """Answers each JSON-RPC call with the recorded file named after it."""
    answers = {}
    for path in folder.glob("web3_response.*.json"):
        answers[path.name.removeprefix("web3_response.").removesuffix(".json")] = json.loads(
            path.read_text())

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method, params = body["method"], body["params"]
        if method == "eth_getTransactionReceipt":
            key = f"{method}_{params[0]}"
        elif method == "eth_getBlockByNumber":
            # Only full blocks were recorded; a header-only request gets the full one.
            key = f"{method}_{params[0]}_true"
        elif method == "eth_getTransactionByHash":
            # ethereum-etl recorded no eth_getTransactionByHash; the receipt holds what
            # the client reads of it (block, position), and value 0 (a token call).
            r = answers[f"eth_getTransactionReceipt_{params[0]}"]["result"]
            zero = "0x" + "0" * 40
            tx = {"hash": params[0], "blockNumber": r["blockNumber"], "from": r.get("from", zero),
                  "to": r.get("to") or zero, "value": "0x0",
                  "transactionIndex": r["transactionIndex"],
                  "nonce": "0x0", "gas": "0x0", "gasPrice": "0x0", "input": "0x",
                  "blockHash": r["blockHash"]}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": tx})
        else:
            key = method
        if key not in answers:
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1,
                                             "error": {"code": -32000, "message": "no fixture"}})
        return httpx.Response(200, json=answers[key])

    return httpx.MockTransport(handler)


def test_filter_logs_decode_to_the_expected_token_transfers() -> None:
    folder = shared_path("fixtures", "ethereum-etl", "test_export_token_transfers_job",
                         "block_with_transfers")
    logs = json.loads((folder / "web3_response.eth_getFilterLogs_0x0.json").read_text())["result"]
    decoded = [decode_transfer_log(network("ETH"), log, None) for log in logs]
    with (folder / "expected_token_transfers.csv").open() as fh:
        expected = list(csv.DictReader(fh))
    got = [
        {"token_address": t.asset, "from_address": t.sender, "to_address": t.receiver,
         "value": str(t.amount), "transaction_hash": t.txhash,
         "log_index": t.index.removeprefix("log:"), "block_number": str(t.block)}
        for t in decoded if t is not None
    ]
    assert got == expected


def test_receipts_through_web3_and_httpx_give_ethereum_etl_token_transfers() -> None:
    folder = shared_path("fixtures", "ethereum-etl", "test_export_receipts_job",
                         "receipts_with_logs")
    blocks = shared_path("fixtures", "ethereum-etl", "test_export_blocks_job", "block_with_logs")
    transport_dir = folder
    for path in blocks.glob("web3_response.*.json"):
        assert path.exists()
    fetcher = Fetcher(httpx.Client(transport=_merged_transport(transport_dir, blocks)), "rpc",
                      sleep=lambda s: None, requests_per_second=1000)
    client = EvmClient(httpx_web3(fetcher, "http://node.invalid"), network("ETH"))
    client._tokens = {}  # decimals calls have no fixture: amounts stay in base units

    with (folder / "expected_logs.csv").open() as fh:
        expected_logs = list(csv.DictReader(fh))
    transfer_logs = [row for row in expected_logs if row["topics"].count(",") == 2]
    for row in transfer_logs:
        got = [t for t in client.transfers_in_tx(row["transaction_hash"]) if t.kind == "token"]
        topics = row["topics"].split(",")
        want = (row["address"], "0x" + topics[1][-40:], "0x" + topics[2][-40:],
                scale(int(row["data"], 16), 0), f"log:{row['log_index']}")
        assert [(t.asset, t.sender, t.receiver, t.amount, t.index) for t in got] == [want]
        assert got[0].ts is not None


def _merged_transport(*folders):
    transports = [_rpc_transport(f) for f in folders]

    def handler(request: httpx.Request) -> httpx.Response:
        for transport in transports:
            response = transport.handle_request(request)
            response.read()
            if "error" not in response.json():
                return response
        return response

    return httpx.MockTransport(handler)


def test_fixture_names_look_like_what_we_replay() -> None:
    folder = shared_path("fixtures", "ethereum-etl", "test_export_receipts_job",
                         "receipts_with_logs")
    names = [p.name for p in folder.glob("web3_response.*.json")]
    assert names and all(re.match(r"web3_response\.eth_getTransactionReceipt_0x[0-9a-f]{64}", n)
                         for n in names)
