"""Tron through TronGrid: TRX transfers and TRC-20 token transfers, confirmed only.

Transactions come from the solidity node (`/walletsolidity/gettransactionbyid`
and `gettransactioninfobyid`, i.e. confirmed), address histories from the v1
API (`/v1/accounts/:a/transactions` and `/transactions/trc20`, paged by
`meta.fingerprint`, `only_confirmed=true`). The API key travels in the
`TRON-PRO-API-KEY` header and never reaches a cache key, a message or a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from acctsec.chain.http import Fetcher, RetryableAnswer
from acctsec.chain.interface import (
    AddressHistory,
    ChainError,
    Network,
    TransactionNotFound,
    Transfer,
    Window,
    normalize_address,
    scale,
    validate_txhash,
)

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
KNOWN_TOKENS: Mapping[str, tuple[int, str]] = {USDT: (6, "USDT")}
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
PAGE_SIZE = 200  # the v1 API's maximum `limit`
MAX_PAGES = 20
HISTORY_MAX_AGE_S = 6 * 3600.0
_RATE_WORDS = ("frequency limit", "rate limit", "suspended", "too many requests", "exceeds")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def hex_to_base58(value: str) -> str:
    """A Tron address in hex (41 + 20 bytes, or the bare 20 bytes of a log) as base58check."""
    text = value.lower().removeprefix("0x")
    if len(text) == 40:
        text = "41" + text
    raw = bytes.fromhex(text)
    checked = raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    number = int.from_bytes(checked, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    pad = len(checked) - len(checked.lstrip(b"\0"))
    return "1" * pad + out


def _address(value: Any) -> str:
    text = str(value or "")
    if len(text) == 42 and text.lower().startswith("41"):
        try:
            return hex_to_base58(text)
        except ValueError:
            return text
    return text


class TronGridClient:
    """TRX and TRC-20 flows of Tron through one TronGrid (or compatible) endpoint."""

    def __init__(self, fetcher: Fetcher, url: str, net: Network, *, page_size: int = PAGE_SIZE):
        self.fetcher = fetcher
        self.url = url.rstrip("/")
        self.network = net
        self.page_size = page_size
        self.notes: list[str] = []
        self._tokens: dict[str, tuple[int, str | None]] = dict(KNOWN_TOKENS)

    def transfers_in_tx(self, txhash: str) -> list[Transfer]:
        txid = validate_txhash(self.network, txhash)
        tx = self._wallet("walletsolidity/gettransactionbyid", txid)
        info = self._wallet("walletsolidity/gettransactioninfobyid", txid)
        if not tx or not info:
            raise TransactionNotFound(
                f"transaction {txid} not found on {self.network.code} (or not confirmed yet)"
            )
        if _contract_ret(tx) != "SUCCESS":
            return []
        ts_ms = int(info.get("blockTimeStamp") or 0)
        block = int(info.get("blockNumber") or 0)
        out = [t for t in [self._native(tx, txid, ts_ms, block)] if t is not None]
        out.extend(self._logs(info, txid, ts_ms, block))
        return out

    def history(self, address: str, window: Window) -> AddressHistory:
        address = normalize_address(self.network, address)
        notes: list[str] = []
        transfers: list[Transfer] = []
        for kind in ("transactions", "transactions/trc20"):
            rows, note = self._rows(address, kind, window)
            transfers.extend(self._row_transfers(kind, rows))
            if note:
                notes.append(f"{kind}: {note}")
        return AddressHistory.of(address, transfers, lambda t: window.contains(t.ts), notes)

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        return {address: self.history(address, window) for address in addresses}

    def _native(
        self, tx: Mapping[str, Any], txid: str, ts_ms: int, block: int
    ) -> Transfer | None:
        contract = _first_contract(tx)
        if contract.get("type") != "TransferContract":
            return None
        value = ((contract.get("parameter") or {}).get("value")) or {}
        amount = int(value.get("amount") or 0)
        if amount <= 0:
            return None
        return self._trx(txid, value.get("owner_address"), value.get("to_address"), amount,
                         ts_ms, block)

    def _trx(self, txid: str, sender: Any, receiver: Any, amount: int, ts_ms: int,
             block: int | None) -> Transfer:
        net = self.network
        return Transfer(
            network=net.code, txhash=txid.lower(), index="native", sender=_address(sender),
            receiver=_address(receiver), asset=net.native, amount=scale(amount, net.decimals),
            decimals=net.decimals, ts=_when(ts_ms), block=block, order=(ts_ms, 0, 0),
            kind="native", symbol=net.native,
        )

    def _logs(self, info: Mapping[str, Any], txid: str, ts_ms: int, block: int) -> list[Transfer]:
        seen: dict[str, int] = {}
        out: list[Transfer] = []
        for log in info.get("log") or ():
            topics = [str(t).lower().removeprefix("0x") for t in log.get("topics") or ()]
            if len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
                continue
            data = str(log.get("data") or "").removeprefix("0x") or "0"
            contract = hex_to_base58(str(log.get("address") or ""))
            out.append(self._token_transfer(
                txid, contract, hex_to_base58(topics[1][-40:]), hex_to_base58(topics[2][-40:]),
                int(data, 16), ts_ms, block, seen,
            ))
        return out

    def _token_transfer(self, txid: str, contract: str, sender: str, receiver: str, value: int,
                        ts_ms: int, block: int | None, seen: dict[str, int]) -> Transfer:
        decimals, symbol = self._token(contract)
        base = f"token:{contract}:{sender}:{receiver}:{value}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        # TronGrid's TRC-20 history has no log index: both ends must name a transfer
        # alike, so its identity is what both see (a repeat in one tx gets a number).
        return Transfer(
            network=self.network.code, txhash=txid.lower(), index=f"{base}:{n}" if n else base,
            sender=sender, receiver=receiver, asset=contract, amount=scale(value, decimals),
            decimals=decimals, ts=_when(ts_ms), block=block, order=(ts_ms, 0, 2 + n),
            kind="token", symbol=symbol,
        )

    def _token(self, contract: str) -> tuple[int, str | None]:
        if contract not in self._tokens:
            decimals = _uint(self._constant(contract, "decimals()"))
            symbol = _abi_string(self._constant(contract, "symbol()"))
            self._tokens[contract] = (decimals, symbol)
        return self._tokens[contract]

    def _constant(self, contract: str, selector: str) -> str:
        answer = self.fetcher.post_json(
            f"{self.url}/wallet/triggerconstantcontract",
            {"owner_address": contract, "contract_address": contract,
             "function_selector": selector, "parameter": "", "visible": True},
            check=self._check_wallet,
        )
        results = answer.get("constant_result") if isinstance(answer, Mapping) else None
        if not isinstance(results, list) or not results:
            raise ChainError(f"{self.fetcher.name}: token {contract} did not answer {selector}")
        return str(results[0])

    def _wallet(self, path: str, txid: str) -> Mapping[str, Any]:
        answer = self.fetcher.post_json(
            f"{self.url}/{path}", {"value": txid}, check=self._check_wallet,
            store=lambda v: bool(v),  # an empty answer may be a transaction not confirmed yet
        )
        return answer if isinstance(answer, Mapping) else {}

    def _rows(
        self, address: str, kind: str, window: Window
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        rows: list[Mapping[str, Any]] = []
        fingerprint: str | None = None
        for _ in range(MAX_PAGES):
            answer = self._page(address, kind, window, fingerprint)
            data = answer.get("data") or []
            rows.extend(r for r in data if isinstance(r, Mapping))
            fingerprint = _fingerprint(answer)
            if not fingerprint or not data:
                return rows, None
        return rows, f"stopped after {MAX_PAGES} pages of {self.page_size}"

    def _page(self, address: str, kind: str, window: Window,
              fingerprint: str | None) -> Mapping[str, Any]:
        params: dict[str, Any] = {
            "only_confirmed": "true", "limit": self.page_size, "order_by": "block_timestamp,asc",
        }
        if window.since is not None:
            params["min_timestamp"] = int(window.since.timestamp() * 1000)
        if window.until is not None:
            params["max_timestamp"] = int(window.until.timestamp() * 1000)
        if fingerprint:
            params["fingerprint"] = fingerprint
        url = f"{self.url}/v1/accounts/{quote(address, safe='')}/{kind}"
        answer = self.fetcher.get_json(
            url, params, max_age_s=HISTORY_MAX_AGE_S, check=self._check_v1
        )
        return answer if isinstance(answer, Mapping) else {}

    def _row_transfers(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> list[Transfer]:
        out: list[Transfer] = []
        seen_by_tx: dict[str, dict[str, int]] = {}
        for row in rows:
            if kind == "transactions":
                transfer = self._native_row(row)
            else:
                transfer = self._token_row(row, seen_by_tx)
            if transfer is not None:
                out.append(transfer)
        return out

    def _native_row(self, row: Mapping[str, Any]) -> Transfer | None:
        if _contract_ret(row) != "SUCCESS":
            return None
        txid = str(row.get("txID") or "")
        block = row.get("blockNumber")
        ts_ms = int(row.get("block_timestamp") or 0)
        transfer = self._native(row, txid, ts_ms, int(block) if block is not None else 0)
        return transfer if txid else None

    def _token_row(
        self, row: Mapping[str, Any], seen_by_tx: dict[str, dict[str, int]]
    ) -> Transfer | None:
        if str(row.get("type") or "Transfer") != "Transfer":
            return None  # Approval rows move nothing
        txid = str(row.get("transaction_id") or "")
        info = row.get("token_info") or {}
        contract = str(info.get("address") or "")
        value = int(str(row.get("value") or "0"))
        if not txid or not contract or value <= 0:
            return None
        if contract not in self._tokens and info.get("decimals") is not None:
            self._tokens[contract] = (int(info["decimals"]), str(info.get("symbol") or "") or None)
        return self._token_transfer(
            txid, contract, str(row.get("from") or ""), str(row.get("to") or ""), value,
            int(row.get("block_timestamp") or 0), None, seen_by_tx.setdefault(txid, {}),
        )

    def _check_v1(self, answer: Any) -> None:
        """TronGrid v1 answers `{"success": true, "data": [...], "meta": {...}}` or an error."""
        if not isinstance(answer, Mapping):
            raise ChainError(f"{self.fetcher.name}: unexpected answer shape")
        if answer.get("success") is True and isinstance(answer.get("data"), list):
            return
        self._refused(answer)

    def _check_wallet(self, answer: Any) -> None:
        if not isinstance(answer, Mapping):
            raise ChainError(f"{self.fetcher.name}: unexpected answer shape")
        if "Error" in answer or "error" in answer or answer.get("success") is False:
            self._refused(answer)

    def _refused(self, answer: Mapping[str, Any]) -> None:
        text = str(answer.get("error") or answer.get("Error") or "no reason given")
        if any(word in text.lower() for word in _RATE_WORDS):
            raise RetryableAnswer("rate limited")
        raise ChainError(f"{self.fetcher.name} refused: {self.fetcher.scrub(text)[:200]!r}")


def _first_contract(tx: Mapping[str, Any]) -> Mapping[str, Any]:
    contracts = (tx.get("raw_data") or {}).get("contract") or ()
    first = contracts[0] if contracts else {}
    return first if isinstance(first, Mapping) else {}


def _contract_ret(tx: Mapping[str, Any]) -> str:
    ret = tx.get("ret") or ()
    first = ret[0] if ret else {}
    return str(first.get("contractRet") or "") if isinstance(first, Mapping) else ""


def _fingerprint(answer: Mapping[str, Any]) -> str | None:
    meta = answer.get("meta")
    value = meta.get("fingerprint") if isinstance(meta, Mapping) else None
    return str(value) if value else None


def _when(ts_ms: int) -> datetime | None:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC) if ts_ms else None


def _uint(word: str) -> int:
    return int(word[:64] or "0", 16)


def _abi_string(data: str) -> str | None:
    try:
        length = int(data[64:128], 16)
        text = bytes.fromhex(data[128:128 + 2 * length]).decode("utf-8", "replace")
    except ValueError:
        return None
    return text or None
