"""Bitcoin through an Esplora REST API (Blockstream, mempool.space): UTXO flows as transfers.

A transaction becomes transfers from each input address to each output (and to
the miner fee), split pro rata to what each input address put in, in whole
satoshis that add up exactly both ways. Forward, a followed output is followed
to the transaction that spends it (`/tx/:txid/outspends`); backward, an input
to the output it spends (`prevout`). Change back to an input address is a flow
like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from acctsec.chain.http import Fetcher, NotFoundAnswer
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

PAGE_SIZE = 25  # confirmed transactions per `/txs/chain` page, fixed by Esplora
MAX_PAGES = 40
HISTORY_MAX_AGE_S = 6 * 3600.0  # a history or a spend may change; a day-old copy is stale
FEE = "(miner fee)"
COINBASE = "(coinbase)"
_UNCONFIRMED = 1 << 31


class EsploraClient:
    """`/tx/:txid`, `/tx/:txid/outspends` and `/address/:a/txs/chain[/:last_seen_txid]`."""

    def __init__(self, fetcher: Fetcher, url: str, net: Network) -> None:
        self.fetcher = fetcher
        self.url = url.rstrip("/")
        self.network = net
        self.notes: list[str] = []
        self._txs: dict[str, Mapping[str, Any]] = {}
        self._address_notes: dict[str, str] = {}

    def transfers_in_tx(self, txhash: str) -> list[Transfer]:
        txid = validate_txhash(self.network, txhash)
        return tx_transfers(self.network, self._tx(txid, seed=True))

    def history(self, address: str, window: Window) -> AddressHistory:
        """The address's confirmed transactions as transfers (change to itself netted out)."""
        address = normalize_address(self.network, address)
        txs, note = self._address_txs(address, window)
        legs = [t for tx in txs for t in tx_transfers(self.network, tx)]
        legs = [t for t in legs if window.contains(t.ts) and t.sender != t.receiver]
        return AddressHistory(
            address=address,
            incoming=tuple(t for t in legs if t.receiver == address),
            outgoing=tuple(t for t in legs if t.sender == address),
            note=note,
        )

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        return {address: self.history(address, window) for address in addresses}

    def followed_history(
        self, address: str, followed: Sequence[Transfer], window: Window, forward: bool
    ) -> AddressHistory:
        """Only the transactions that spend (forward) or fund (backward) the followed
        outputs, each one's inputs sorted just before its outputs."""
        if address in (FEE, COINBASE):
            return AddressHistory(address)
        spends = self._spends(address, followed, window) if forward else self._funded(followed)
        incoming: list[Transfer] = []
        outgoing: list[Transfer] = []
        for position, tx in enumerate(spends):
            ins, outs = self._legs(address, tx, position, followed, forward)
            incoming.extend(ins)
            outgoing.extend(outs)
        return AddressHistory(address, tuple(incoming), tuple(outgoing))

    def address_note(self, address: str) -> str | None:
        if address == COINBASE:
            return "newly mined coins (coinbase)"
        return self._address_notes.get(address)

    def _spends(
        self, address: str, followed: Sequence[Transfer], window: Window
    ) -> list[Mapping[str, Any]]:
        spend_ids: set[str] = set()
        for txid, vout in sorted({_outpoint(t) for t in followed if t.index.startswith("out:")}):
            spend = self._outspend(txid, vout)
            if not spend.get("spent"):
                self._address_notes[address] = f"output {txid}:{vout} is unspent"
            elif not (spend.get("status") or {}).get("confirmed"):
                self._address_notes[address] = (
                    f"output {txid}:{vout} is spent by unconfirmed {spend.get('txid')}"
                )
            else:
                spend_ids.add(str(spend.get("txid")))
        txs = [self._tx(txid) for txid in sorted(spend_ids)]
        kept = [tx for tx in txs if window.contains(_ts(tx))]
        if len(kept) < len(txs):
            self._address_notes[address] = "spent outside the time window"
        return sorted(kept, key=_chain_position)

    def _funded(self, followed: Sequence[Transfer]) -> list[Mapping[str, Any]]:
        txids = sorted({t.txhash for t in followed})
        return sorted((self._tx(txid) for txid in txids), key=_chain_position)

    def _legs(
        self,
        address: str,
        tx: Mapping[str, Any],
        position: int,
        followed: Sequence[Transfer],
        forward: bool,
    ) -> tuple[list[Transfer], list[Transfer]]:
        height = _height(tx)
        vins = list(tx.get("vin") or ())
        incoming: list[Transfer] = []
        followed_outpoints = {_outpoint(t) for t in followed}
        for n, vin in enumerate(vins):
            if _input_holder(vin) != address:
                continue
            point = (str(vin.get("txid") or ""), int(vin.get("vout") or 0))
            if forward and point not in followed_outpoints:
                pieces = [_clean_input(self.network, address, vin)]
            else:
                pieces = self._pieces(*point)
            incoming.extend(replace(t, order=(height, position, n)) for t in pieces)
        outgoing = [
            replace(t, order=(height, position, len(vins) + t.order[2]))
            for t in tx_transfers(self.network, tx)
            if t.sender == address
        ]
        return incoming, outgoing

    def _pieces(self, txid: str, vout: int) -> list[Transfer]:
        prefix = f"out:{vout}:"
        return [t for t in tx_transfers(self.network, self._tx(txid)) if t.index.startswith(prefix)]

    def _tx(self, txid: str, *, seed: bool = False) -> Mapping[str, Any]:
        if txid in self._txs:
            return self._txs[txid]
        try:
            tx = self.fetcher.get_json(
                f"{self.url}/tx/{txid}", check=_check_object, store=_confirmed
            )
        except NotFoundAnswer:
            if seed:
                raise TransactionNotFound(
                    f"transaction {txid} not found on {self.network.code}"
                ) from None
            raise ChainError(f"{self.fetcher.name}: transaction {txid} vanished") from None
        self._txs[txid] = tx
        return tx

    def _outspend(self, txid: str, vout: int) -> Mapping[str, Any]:
        spends = self.fetcher.get_json(
            f"{self.url}/tx/{txid}/outspends", max_age_s=HISTORY_MAX_AGE_S, check=_check_list
        )
        if vout >= len(spends) or not isinstance(spends[vout], Mapping):
            raise ChainError(f"{self.fetcher.name}: no spending status for {txid}:{vout}")
        spend: Mapping[str, Any] = spends[vout]
        return spend

    def _address_txs(
        self, address: str, window: Window
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        txs: list[Mapping[str, Any]] = []
        last: str | None = None
        for _ in range(MAX_PAGES):
            page = self._page(address, last)
            txs.extend(page)
            if len(page) < PAGE_SIZE or _before(page[-1], window):
                return txs, None
            last = str(page[-1].get("txid"))
        return txs, f"stopped after {MAX_PAGES} pages ({len(txs)} transactions) at {last}"

    def _page(self, address: str, last: str | None) -> list[Mapping[str, Any]]:
        url = f"{self.url}/address/{quote(address, safe='')}/txs/chain"
        if last:
            url += f"/{last}"
        page = self.fetcher.get_json(url, max_age_s=HISTORY_MAX_AGE_S, check=_check_list)
        for tx in page:
            txid = str(tx.get("txid") or "")
            if txid and _confirmed(tx):
                self._txs.setdefault(txid, tx)
        return list(page)


def tx_transfers(net: Network, tx: Mapping[str, Any]) -> list[Transfer]:
    """Every flow of one transaction: input address → output (and → miner fee), in BTC."""
    txid = str(tx.get("txid") or "").lower()
    rows = _input_values(tx)
    cols = _output_columns(tx, sum(v for _, v in rows))
    pieces = split_exact([v for _, v in rows], [v for _, _, v in cols])
    height, ts = _height(tx), _ts(tx)
    out: list[Transfer] = []
    for j, (vout, receiver, _) in enumerate(cols):
        for i, (sender, _) in enumerate(rows):
            if pieces[i][j] <= 0:
                continue
            fee = vout is None
            out.append(Transfer(
                network=net.code, txhash=txid,
                index=f"fee:{sender}" if fee else f"out:{vout}:{sender}",
                sender=sender, receiver=receiver, asset=net.native,
                amount=scale(pieces[i][j], net.decimals), decimals=net.decimals, ts=ts,
                block=None if height == _UNCONFIRMED else height,
                order=(height, 0, j), kind="fee" if fee else "native",
            ))
    return out


def _input_values(tx: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Satoshis each input address put in, in order of first appearance."""
    values: dict[str, int] = {}
    for vin in tx.get("vin") or ():
        holder = _input_holder(vin)
        value = _coinbase_value(tx) if holder == COINBASE else _sats(vin.get("prevout"))
        values[holder] = values.get(holder, 0) + value
    return [(h, v) for h, v in values.items() if v > 0]


def _output_columns(tx: Mapping[str, Any], total_in: int) -> list[tuple[int | None, str, int]]:
    cols: list[tuple[int | None, str, int]] = [
        (n, _holder(out), _sats(out)) for n, out in enumerate(tx.get("vout") or ())
    ]
    cols = [c for c in cols if c[2] > 0]
    fee = total_in - sum(c[2] for c in cols)
    if fee < 0:
        raise ChainError(f"transaction {tx.get('txid')}: outputs exceed inputs")
    return cols + [(None, FEE, fee)] if fee else cols


def _coinbase_value(tx: Mapping[str, Any]) -> int:
    return sum(_sats(out) for out in tx.get("vout") or ())


def _input_holder(vin: Mapping[str, Any]) -> str:
    if vin.get("is_coinbase"):
        return COINBASE
    prevout = vin.get("prevout")
    return _holder(prevout) if isinstance(prevout, Mapping) else COINBASE


def _holder(out: Mapping[str, Any]) -> str:
    """The output's address; an output without one (P2PK, bare multisig) by its script."""
    address = out.get("scriptpubkey_address")
    if address:
        text = str(address)
        return text.lower() if text.lower().startswith(("bc1", "tb1", "bcrt1")) else text
    return f"script:{out.get('scriptpubkey_type') or 'unknown'}:{out.get('scriptpubkey') or ''}"


def _clean_input(net: Network, address: str, vin: Mapping[str, Any]) -> Transfer:
    """An input of the spending transaction that is not followed: money of other origin."""
    txid = str(vin.get("txid") or "")
    vout = int(vin.get("vout") or 0)
    return Transfer(
        network=net.code, txhash=txid, index=f"out:{vout}", sender="(not followed)",
        receiver=address, asset=net.native, amount=scale(_sats(vin.get("prevout")), net.decimals),
        decimals=net.decimals,
    )


def _outpoint(transfer: Transfer) -> tuple[str, int]:
    parts = transfer.index.split(":")
    vout = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    return transfer.txhash, vout


def _sats(out: Any) -> int:
    value = out.get("value") if isinstance(out, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def _status(tx: Mapping[str, Any]) -> Mapping[str, Any]:
    status = tx.get("status")
    return status if isinstance(status, Mapping) else {}


def _confirmed(tx: Any) -> bool:
    return isinstance(tx, Mapping) and bool(_status(tx).get("confirmed"))


def _height(tx: Mapping[str, Any]) -> int:
    height = _status(tx).get("block_height")
    return int(height) if isinstance(height, int) else _UNCONFIRMED


def _ts(tx: Mapping[str, Any]) -> datetime | None:
    seconds = _status(tx).get("block_time")
    return datetime.fromtimestamp(int(seconds), tz=UTC) if isinstance(seconds, int) else None


def _chain_position(tx: Mapping[str, Any]) -> tuple[int, str]:
    return _height(tx), str(tx.get("txid") or "")


def _before(tx: Mapping[str, Any], window: Window) -> bool:
    ts = _ts(tx)
    return window.since is not None and ts is not None and ts < window.since


def _check_object(answer: Any) -> None:
    if not isinstance(answer, Mapping) or "vin" not in answer or "vout" not in answer:
        raise ChainError(f"esplora: unexpected answer: {_short(answer)}")


def _check_list(answer: Any) -> None:
    if not isinstance(answer, list):
        raise ChainError(f"esplora: unexpected answer: {_short(answer)}")


def _short(answer: Any) -> str:
    text = answer if isinstance(answer, str) else type(answer).__name__
    return repr(text[:120])



def split_exact(rows: Sequence[int], cols: Sequence[int]) -> list[list[int]]:
    """Whole-unit pieces proportional to rows[i] * cols[j] / total whose row sums are
    `rows` and column sums are `cols` exactly (the sums must be equal).

    Each piece is the exact share rounded down or up; which ones go up is a small
    flow problem that always has a solution (a transportation matrix is totally
    unimodular).
    """
    total = sum(rows)
    if total != sum(cols):
        raise ValueError("row and column totals differ")
    if total == 0:
        return [[0 for _ in cols] for _ in rows]
    cells = [[r * c // total for c in cols] for r in rows]
    row_need = [r - sum(line) for r, line in zip(rows, cells, strict=True)]
    col_left = [c - sum(line[j] for line in cells) for j, c in enumerate(cols)]
    fractional = {(i, j) for i, r in enumerate(rows) for j, c in enumerate(cols) if r * c % total}
    chosen: set[tuple[int, int]] = set()
    for i, need in enumerate(row_need):
        for _ in range(need):
            if not _augment(i, fractional, chosen, col_left, set()):
                raise ValueError("no exact split")  # impossible for equal totals
    for i, j in chosen:
        cells[i][j] += 1
    return cells


def _augment(
    i: int,
    fractional: set[tuple[int, int]],
    chosen: set[tuple[int, int]],
    col_left: list[int],
    visited: set[int],
) -> bool:
    """Gives row i one more unit, moving other rows' units along an alternating path."""
    for j in range(len(col_left)):
        if (i, j) not in fractional or (i, j) in chosen or j in visited:
            continue
        visited.add(j)
        if col_left[j] > 0:
            col_left[j] -= 1
            chosen.add((i, j))
            return True
        for other in [r for r, c in chosen if c == j]:
            chosen.discard((other, j))
            if _augment(other, fractional, chosen, col_left, visited):
                chosen.add((i, j))
                return True
            chosen.add((other, j))
    return False
