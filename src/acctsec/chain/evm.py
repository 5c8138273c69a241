"""EVM chains through web3.py: transactions, receipts and ERC-20 Transfer logs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from acctsec.chain.http import Fetcher, RetryableAnswer
from acctsec.chain.interface import (
    AddressHistory,
    ChainError,
    Network,
    TransactionNotFound,
    Transfer,
    Window,
    scale,
    validate_txhash,
)

if TYPE_CHECKING:
    from web3 import Web3

    from acctsec.chain.etherscan import EtherscanClient

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_RATE_LIMIT_CODES = frozenset({-32005, -32029, 429})
_NO_CACHE_METHODS = frozenset({"eth_blockNumber", "eth_gasPrice", "net_version"})
_DECIMALS_ABI = [
    {"name": "decimals", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"name": "symbol", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "string"}]},
]


def httpx_web3(fetcher: Fetcher, url: str) -> Web3:
    """A Web3 whose JSON-RPC requests go through the Fetcher (httpx, retries, cache)."""
    from web3 import Web3
    from web3.providers.base import JSONBaseProvider

    class _HttpxProvider(JSONBaseProvider):
        def make_request(self, method: Any, params: Any) -> Any:
            # The id is fixed so the cache key is the request itself.
            body = json.loads(self.encode_rpc_request(method, params))
            body["id"] = 1
            return fetcher.post_json(
                url, body, check=_check_rpc, store=lambda v: _cacheable(method, v)
            )

        def is_connected(self, show_traceback: bool = False) -> bool:
            return True

    return Web3(_HttpxProvider())


def _check_rpc(answer: Any) -> None:
    error = answer.get("error") if isinstance(answer, Mapping) else None
    if isinstance(error, Mapping) and (
        error.get("code") in _RATE_LIMIT_CODES or "rate" in str(error.get("message", "")).lower()
    ):
        raise RetryableAnswer("rate limited")


def _cacheable(method: str, answer: Any) -> bool:
    if method in _NO_CACHE_METHODS or not isinstance(answer, Mapping):
        return False
    return answer.get("result") is not None and "error" not in answer


def decode_transfer_log(net: Network, log: Mapping[str, Any], ts: datetime | None,
                        decimals: int = 0, symbol: str | None = None) -> Transfer | None:
    """An ERC-20 Transfer event as a Transfer, or None for other logs (ERC-721 has 4 topics)."""
    topics = [_hex(t) for t in log.get("topics") or ()]
    if len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
        return None
    data = _hex(log.get("data") or "0x")
    block = _int(log.get("blockNumber"))
    log_index = _int(log.get("logIndex"))
    return Transfer(
        network=net.code, txhash=_hex(log["transactionHash"]), index=f"log:{log_index}",
        sender="0x" + topics[1][-40:], receiver="0x" + topics[2][-40:],
        asset=_hex(log["address"]), amount=scale(int(data, 16) if data != "0x" else 0, decimals),
        decimals=decimals, ts=ts, block=block,
        order=(block, _int(log.get("transactionIndex")), log_index + 2),
        kind="token", symbol=symbol,
    )


def _succeeded(receipt: Mapping[str, Any]) -> bool:
    """Receipts before Byzantium carry no status (null): they count as executed."""
    status = receipt.get("status")
    return status is None or _int(status) == 1


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return (text if text.startswith("0x") else "0x" + text).lower()


def _int(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith("0x") else int(value)


class EvmClient:
    """One EVM chain: a Web3 for transactions and receipts; histories from an explorer
    (Etherscan/Blockscout) when given, else by scanning at most `scan_blocks` recent
    blocks through the node (enough for a local chain, never for mainnet)."""

    def __init__(self, w3: Web3, net: Network, *, explorer: EtherscanClient | None = None,
                 scan_blocks: int = 2000) -> None:
        self.w3 = w3
        self.network = net
        self.explorer = explorer
        self.scan_blocks = scan_blocks
        self.notes: list[str] = []
        self._tokens: dict[str, tuple[int, str | None]] = {}
        self._block_ts: dict[int, datetime] = {}

    def transfers_in_tx(self, txhash: str) -> list[Transfer]:
        txhash = validate_txhash(self.network, txhash)
        tx, receipt = self._tx_and_receipt(txhash)
        if not _succeeded(receipt):
            return []
        block = _int(receipt["blockNumber"])
        ts = self._timestamp(block)
        out: list[Transfer] = []
        if _int(tx.get("value")) > 0 and tx.get("to"):
            out.append(self._native(tx, ts, block))
        out.extend(self._token_logs(receipt.get("logs") or (), ts))
        out.extend(self._internal(txhash))
        return out

    def _tx_and_receipt(self, txhash: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        from eth_typing import HexStr
        from web3.exceptions import TransactionNotFound as Web3NotFound
        from web3.exceptions import Web3Exception

        try:
            key = HexStr(txhash)
            return self.w3.eth.get_transaction(key), self.w3.eth.get_transaction_receipt(key)
        except Web3NotFound:
            raise TransactionNotFound(
                f"transaction {txhash} not found on {self.network.code}"
            ) from None
        except Web3Exception as exc:
            raise ChainError(f"{self.network.code} node refused: {type(exc).__name__}") from None

    def _internal(self, txhash: str) -> list[Transfer]:
        if self.explorer is None:
            note = "internal (contract) transfers: the node cannot list them and no explorer API"
            if note not in self.notes:
                self.notes.append(note)
            return []
        return self.explorer.internal_in_tx(txhash)

    def address_note(self, address: str) -> str | None:
        """Why the history of a contract may look like it kept money it passed on."""
        if self.explorer is not None:
            return None
        code = self.w3.eth.get_code(self.w3.to_checksum_address(address))
        if code and len(code) > 0:
            return "a contract: it may have passed the money on in internal transfers, " \
                "which a node cannot list (configure an explorer API)"
        return None

    def _native(self, tx: Mapping[str, Any], ts: datetime | None,
                block: int | None = None) -> Transfer:
        block = _int(tx.get("blockNumber")) if block is None else block
        return Transfer(
            network=self.network.code, txhash=_hex(tx["hash"]), index="native",
            sender=str(tx["from"]).lower(), receiver=str(tx["to"]).lower(),
            asset=self.network.native, amount=scale(_int(tx["value"]), self.network.decimals),
            decimals=self.network.decimals, ts=ts, block=block,
            order=(block, _int(tx.get("transactionIndex")), 0), kind="native",
        )

    def _token_logs(self, logs: Iterable[Mapping[str, Any]], ts: datetime | None) -> list[Transfer]:
        out: list[Transfer] = []
        for log in logs:
            first = decode_transfer_log(self.network, log, ts)
            if first is None:
                continue
            decimals, symbol = self._token(first.asset)
            decoded = decode_transfer_log(self.network, log, ts, decimals, symbol)
            if decoded is not None:
                out.append(decoded)
        return out

    def _token(self, contract: str) -> tuple[int, str | None]:
        if contract not in self._tokens:
            self._tokens[contract] = self._read_token(contract)
        return self._tokens[contract]

    def _read_token(self, contract: str) -> tuple[int, str | None]:
        from web3.exceptions import Web3Exception

        token = self.w3.eth.contract(address=self.w3.to_checksum_address(contract),
                                     abi=_DECIMALS_ABI)
        try:
            decimals = int(token.functions.decimals().call())
        except (Web3Exception, ValueError, OverflowError):
            return 0, None  # not a standard token: amounts stay in base units
        try:
            symbol: str | None = str(token.functions.symbol().call())
        except (Web3Exception, ValueError, OverflowError):
            symbol = None
        return decimals, symbol

    def _timestamp(self, block: int) -> datetime:
        if block not in self._block_ts:
            stamp = _int(self.w3.eth.get_block(block)["timestamp"])
            self._block_ts[block] = datetime.fromtimestamp(stamp, tz=UTC)
        return self._block_ts[block]

    def history(self, address: str, window: Window) -> AddressHistory:
        return self.history_all([address], window)[address]

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        if self.explorer is not None:
            return self.explorer.history_all(addresses, window)
        return self._scan(addresses, window)

    def _scan(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        latest = _int(self.w3.eth.block_number)
        first = max(0, latest - self.scan_blocks + 1)
        note = None
        if first > 0:
            note = f"only the last {self.scan_blocks} blocks were scanned (no explorer API)"
        wanted = {a.lower() for a in addresses}
        transfers = [t for t in self._scan_blocks(first, latest, wanted) if window.contains(t.ts)]
        transfers += [t for t in self._scan_logs(first, latest, wanted) if window.contains(t.ts)]
        return {a: _history_of(a, transfers, note) for a in addresses}

    def _scan_blocks(self, first: int, last: int, wanted: set[str]) -> Iterable[Transfer]:
        for number in range(first, last + 1):
            block = self.w3.eth.get_block(number, full_transactions=True)
            ts = datetime.fromtimestamp(_int(block["timestamp"]), tz=UTC)
            self._block_ts[number] = ts
            for tx in block["transactions"]:
                if not isinstance(tx, Mapping) or _int(tx.get("value")) <= 0 or not tx.get("to"):
                    continue
                if {str(tx["from"]).lower(), str(tx["to"]).lower()} & wanted:
                    receipt = self.w3.eth.get_transaction_receipt(tx["hash"])
                    if _succeeded(receipt):
                        yield self._native(tx, ts, number)

    def _scan_logs(self, first: int, last: int, wanted: set[str]) -> Iterable[Transfer]:
        padded = ["0x" + "0" * 24 + a[2:] for a in sorted(wanted)]
        seen: set[tuple[str, str]] = set()
        for topics in ([TRANSFER_TOPIC, padded], [TRANSFER_TOPIC, None, padded]):
            logs = self.w3.eth.get_logs(
                {"fromBlock": first, "toBlock": last, "topics": topics}
            )
            for log in logs:
                ts = self._timestamp(_int(log["blockNumber"]))
                for transfer in self._token_logs([log], ts):
                    if transfer.key not in seen:
                        seen.add(transfer.key)
                        yield transfer


def _history_of(address: str, transfers: list[Transfer], note: str | None) -> AddressHistory:
    ordered = sorted(transfers, key=lambda t: (t.order, t.index))
    return AddressHistory(
        address=address,
        incoming=tuple(t for t in ordered if t.receiver == address),
        outgoing=tuple(t for t in ordered if t.sender == address),
        note=note,
    )


