"""Address histories of EVM chains through the Etherscan v2 / Blockscout `account` API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from acctsec.chain.http import Fetcher, RetryableAnswer
from acctsec.chain.interface import (
    AddressHistory,
    ChainError,
    Network,
    Transfer,
    Window,
    scale,
)

PAGE_SIZE = 1000
MAX_PAGES = 20
HISTORY_MAX_AGE_S = 6 * 3600.0  # an address history may grow; a day-old copy is stale
_EMPTY_MESSAGES = ("no transactions found", "no records found", "no token transfers found")


class EtherscanClient:
    """`txlist`, `tokentx` and `txlistinternal`, paged by block cursor.

    Works against Etherscan v2 (`chainid` picks the chain) and Blockscout's
    Etherscan-compatible `/api`. The API key travels as a secret parameter of the
    Fetcher, never in cache keys or messages.
    """

    def __init__(self, fetcher: Fetcher, url: str, net: Network, *, page_size: int = PAGE_SIZE):
        self.fetcher = fetcher
        self.url = url
        self.network = net
        self.page_size = page_size

    def history(self, address: str, window: Window) -> AddressHistory:
        notes: list[str] = []
        transfers: list[Transfer] = []
        for action in ("txlist", "tokentx", "txlistinternal"):
            rows, note = self._all_rows(action, address, window)
            transfers.extend(self._transfers(action, rows))
            if note:
                notes.append(f"{action}: {note}")
        return AddressHistory.of(address, transfers, lambda t: window.contains(t.ts), notes)

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        return {address: self.history(address, window) for address in addresses}

    def internal_in_tx(self, txhash: str) -> list[Transfer]:
        """ETH moved by contract calls inside one transaction (`txlistinternal&txhash=`)."""
        params = self._params("txlistinternal") | {"txhash": txhash}
        rows = self.fetcher.get_json(self.url, params, check=self._check)
        return list(self._transfers("txlistinternal", _result(rows), txhash=txhash))

    def _params(self, action: str) -> dict[str, Any]:
        params: dict[str, Any] = {"module": "account", "action": action}
        if self.network.chain_id is not None:
            params["chainid"] = self.network.chain_id
        return params

    def _all_rows(
        self, action: str, address: str, window: Window
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        rows: list[Mapping[str, Any]] = []
        notes: list[str] = []
        start = 0
        for _ in range(MAX_PAGES):
            page = self._page(action, address, start)
            rows.extend(page)
            if len(page) < self.page_size or _past(page[-1], window):
                return rows, "; ".join(notes) or None
            last = int(page[-1]["blockNumber"])
            if last == start:
                # One block filled the page: rows of it beyond the page are out of reach.
                notes.append(f"block {last} may hold more than {self.page_size} rows")
                last += 1
            # The last block may be cut in the middle: ask again from it and de-duplicate.
            start = last
        notes.append(f"stopped after {MAX_PAGES} pages at block {start}")
        return rows, "; ".join(notes)

    def _page(self, action: str, address: str, start: int) -> list[Mapping[str, Any]]:
        params = self._params(action) | {
            "address": address, "startblock": start, "endblock": 999_999_999,
            "page": 1, "offset": self.page_size, "sort": "asc",
        }
        answer = self.fetcher.get_json(
            self.url, params, max_age_s=HISTORY_MAX_AGE_S, check=self._check
        )
        return _result(answer)

    def _check(self, answer: Any) -> None:
        """Etherscan answers errors with HTTP 200 and `status` "0"; sort them out."""
        if not isinstance(answer, Mapping):
            raise ChainError(f"{self.fetcher.name}: unexpected answer shape")
        if str(answer.get("status")) == "1":
            return
        message = str(answer.get("message") or "")
        result = answer.get("result")
        if message.lower() in _EMPTY_MESSAGES or result == []:
            return
        text = f"{message}: {result}" if isinstance(result, str) else message
        if "rate limit" in text.lower():
            raise RetryableAnswer("rate limited")
        raise ChainError(f"{self.fetcher.name} refused: {self.fetcher.scrub(text)}")

    def _transfers(
        self, action: str, rows: Iterable[Mapping[str, Any]], txhash: str | None = None
    ) -> Iterable[Transfer]:
        for row in rows:
            transfer = _row_transfer(self.network, action, row, txhash)
            if transfer is not None:
                yield transfer


def _result(answer: Any) -> list[Mapping[str, Any]]:
    result = answer.get("result") if isinstance(answer, Mapping) else None
    return [r for r in result if isinstance(r, Mapping)] if isinstance(result, list) else []


def _past(row: Mapping[str, Any], window: Window) -> bool:
    if window.until is None:
        return False
    return _ts(row) > window.until


def _ts(row: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(row.get("timeStamp") or 0), tz=UTC)


def _row_transfer(
    net: Network, action: str, row: Mapping[str, Any], txhash: str | None
) -> Transfer | None:
    if str(row.get("isError") or "0") != "0":
        return None
    value = int(row.get("value") or 0)
    sender = str(row.get("from") or "").lower()
    receiver = str(row.get("to") or row.get("contractAddress") or "").lower()
    if value <= 0 or not sender or not receiver:
        return None
    block = int(row.get("blockNumber") or 0)
    position = int(row.get("transactionIndex") or 0)
    common: dict[str, Any] = {
        "network": net.code, "txhash": str(row.get("hash") or txhash or "").lower(),
        "sender": sender, "receiver": receiver, "ts": _ts(row), "block": block,
    }
    if action == "txlist":
        return Transfer(
            index="native", asset=net.native, amount=scale(value, net.decimals),
            decimals=net.decimals, order=(block, position, 0), kind="native", **common,
        )
    if action == "tokentx":
        return _token_transfer(row, value, block, position, common)
    trace_id = str(row.get("traceId") or f"{sender}:{receiver}:{value}")
    # Internal calls run inside their transaction, after it starts: sort them after it.
    return Transfer(
        index=f"internal:{trace_id}", asset=net.native, amount=scale(value, net.decimals),
        decimals=net.decimals, order=(block, position if position else 1 << 30, 1),
        kind="internal", **common,
    )


def _token_transfer(
    row: Mapping[str, Any], value: int, block: int, position: int, common: dict[str, Any]
) -> Transfer:
    contract = str(row.get("contractAddress") or "").lower()
    decimals = int(row.get("tokenDecimal") or 0)
    log_index = row.get("logIndex")
    # Etherscan's tokentx has no log index; the same transfer seen from both ends
    # must get one identity, so fall back to what both ends see alike.
    index = (
        f"log:{int(log_index)}" if log_index not in (None, "")
        else f"token:{contract}:{common['sender']}:{common['receiver']}:{value}"
    )
    sub = int(log_index) + 2 if log_index not in (None, "") else 2
    return Transfer(
        index=index, asset=contract, amount=scale(value, decimals), decimals=decimals,
        order=(block, position, sub), kind="token",
        symbol=str(row.get("tokenSymbol") or "") or None, **common,
    )
