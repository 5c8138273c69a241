"""Offline tracing over ethereum-etl exports (transactions, token_transfers), with DuckDB."""

# SQL here is built from fixed table names and quoted file paths; every value from
# the user (hashes, addresses) is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acctsec.chain.interface import (
    AddressHistory,
    Network,
    TransactionNotFound,
    Transfer,
    Window,
    scale,
    validate_txhash,
)
from acctsec.errors import InputError

_TABLES = ("transactions", "token_transfers", "blocks", "tokens")
_SUFFIXES = (".parquet", ".csv", ".csv.gz")
_INDEX_VERSION = "index-2"
_COLUMNS = "txhash, idx, sender, receiver, asset, raw, block, pos, sub, ts"


def _find(folder: Path, table: str) -> Path | None:
    for suffix in _SUFFIXES:
        path = folder / f"{table}{suffix}"
        if path.exists():
            return path
    return None


def _reader(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.name.endswith(".parquet"):
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header=true, all_varchar=true)"


class SnapshotClient:
    """Answers from an export folder; the first use builds `.acctsec/index.duckdb` beside it
    (edges sorted by sender and by receiver, so a hop reads a few row groups, not 10M rows)."""

    def __init__(self, folder: Path, net: Network, *, index_dir: Path | None = None) -> None:
        if net.family != "evm":
            raise InputError(f"--snapshot reads ethereum-etl exports: EVM networks only, "
                             f"not {net.code}")
        self.folder = folder
        self.network = net
        self.files = {t: _find(folder, t) for t in _TABLES}
        if not self.files["transactions"] and not self.files["token_transfers"]:
            raise InputError(f"{folder}: no transactions or token_transfers file "
                             f"(.parquet, .csv or .csv.gz)")
        self.index_path = (index_dir or folder / ".acctsec") / "index.duckdb"
        self._db: Any = None
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[int, str | None]] = {}
        self.notes: list[str] = []  # what the trace reports as not checked

    def _fingerprint(self) -> str:
        parts = [_INDEX_VERSION]
        for table, path in sorted(self.files.items()):
            if path is not None:
                stat = path.stat()
                parts.append(f"{table}:{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def connect(self) -> Any:
        """The index database, built on first use or when the export files changed."""
        if self._db is None:
            import duckdb

            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            db = duckdb.connect(str(self.index_path))
            db.execute("SET enable_progress_bar = false")
            if not self._index_current(db):
                self._build(db)
            self._db = db
            self._load_tokens()
        return self._db

    def _index_current(self, db: Any) -> bool:
        try:
            row = db.execute("SELECT fingerprint FROM meta").fetchone()
        except Exception as exc:  # noqa: BLE001 - duckdb raises CatalogException for a new file
            if "meta" not in str(exc):
                raise
            return False
        return bool(row and row[0] == self._fingerprint())

    def _build(self, db: Any) -> None:
        parts = []
        tx = self.files["transactions"]
        if tx is not None:
            parts.append(
                f"SELECT lower(hash), 'native', lower(from_address), lower(to_address), "
                f"'{self.network.native}', CAST(value AS VARCHAR), CAST(block_number AS BIGINT), "
                f"CAST(transaction_index AS BIGINT), 0, {self._ts_expr('t')} "
                f"FROM {_reader(tx)} t WHERE to_address IS NOT NULL "
                f"AND CAST(value AS VARCHAR) NOT IN ('0', '')"
            )
        tt = self.files["token_transfers"]
        if tt is not None:
            parts.append(
                f"SELECT lower(transaction_hash), 'log:' || CAST(log_index AS VARCHAR), "
                f"lower(from_address), lower(to_address), lower(token_address), "
                f"CAST(value AS VARCHAR), CAST(block_number AS BIGINT), 0, "
                f"CAST(log_index AS BIGINT) + 2, NULL FROM {_reader(tt)}"
            )
        union = " UNION ALL ".join(parts)
        db.execute("DROP TABLE IF EXISTS edges_out; DROP TABLE IF EXISTS edges_in; "
                   "DROP TABLE IF EXISTS tx_senders; DROP TABLE IF EXISTS meta")
        db.execute(f"CREATE TEMP VIEW edges_all({_COLUMNS}) AS {union}")
        db.execute("CREATE TABLE edges_out AS SELECT * FROM edges_all ORDER BY sender, block")
        db.execute("CREATE TABLE edges_in AS SELECT * FROM edges_out ORDER BY receiver, block")
        # A narrow copy sorted by hash finds a transaction's sender without a full scan.
        db.execute("CREATE TABLE tx_senders AS SELECT DISTINCT txhash, sender FROM edges_out "
                   "ORDER BY txhash")
        self._fill_times(db)
        db.execute("CREATE TABLE meta AS SELECT ? AS fingerprint", [self._fingerprint()])
        db.execute("CHECKPOINT")

    def _ts_expr(self, alias: str) -> str:
        return f"TRY_CAST({alias}.block_timestamp AS BIGINT)"

    def _fill_times(self, db: Any) -> None:
        blocks = self.files["blocks"]
        if blocks is None:
            return
        for table in ("edges_out", "edges_in"):
            db.execute(
                f"UPDATE {table} SET ts = TRY_CAST(b.timestamp AS BIGINT) "
                f"FROM {_reader(blocks)} b "
                f"WHERE {table}.ts IS NULL AND CAST(b.number AS BIGINT) = {table}.block"
            )

    def _load_tokens(self) -> None:
        tokens = self.files["tokens"]
        if tokens is None:
            return
        rows = self._db.execute(
            f"SELECT lower(address), CAST(decimals AS VARCHAR), symbol FROM {_reader(tokens)}"
        ).fetchall()
        for address, decimals, symbol in rows:
            digits = int(decimals) if decimals and str(decimals).isdigit() else 0
            self._tokens[address] = (digits, symbol or None)

    def transfers_in_tx(self, txhash: str) -> list[Transfer]:
        txhash = validate_txhash(self.network, txhash)
        with self._lock:
            db = self.connect()
            senders = [r[0] for r in db.execute(
                "SELECT sender FROM tx_senders WHERE txhash = ?", [txhash]).fetchall()]
            rows = []
            for sender in senders:
                rows += db.execute(
                    f"SELECT {_COLUMNS} FROM edges_out WHERE sender = ? AND txhash = ?",
                    [sender, txhash],
                ).fetchall()
        if not rows:
            raise TransactionNotFound(f"transaction {txhash} is not in the snapshot {self.folder}")
        return sorted((self._transfer(r) for r in rows), key=lambda t: (t.order, t.index))

    def history(self, address: str, window: Window) -> AddressHistory:
        return self.history_all([address], window)[address]

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        wanted = sorted({a.lower() for a in addresses})
        with self._lock:
            db = self.connect()
            outs = self._edges(db, "edges_out", "sender", wanted)
            ins = self._edges(db, "edges_in", "receiver", wanted)
        result: dict[str, AddressHistory] = {}
        for address in addresses:
            key = address.lower()
            result[address] = AddressHistory(
                address=address,
                incoming=tuple(t for t in ins.get(key, ()) if window.contains(t.ts)),
                outgoing=tuple(t for t in outs.get(key, ()) if window.contains(t.ts)),
            )
        return result

    def _edges(self, db: Any, table: str, column: str,
               wanted: list[str]) -> dict[str, list[Transfer]]:
        out: dict[str, list[Transfer]] = {}
        # One point query per address: each reads only the row groups whose
        # min/max of the sorted column can hold it.
        for address in wanted:
            rows = db.execute(f"SELECT {_COLUMNS} FROM {table} WHERE {column} = ?",
                              [address]).fetchall()
            transfers = [self._transfer(r) for r in rows]
            out[address] = sorted(transfers, key=lambda t: (t.order, t.index))
        return out

    def _transfer(self, row: tuple[Any, ...]) -> Transfer:
        txhash, idx, sender, receiver, asset, raw, block, pos, sub, ts = row
        native = idx == "native"
        if not native and asset not in self._tokens:
            note = (f"token {asset}: its decimals are not in the snapshot (no tokens table "
                    "row), so its amounts are raw units")
            if note not in self.notes:
                self.notes.append(note)
        decimals, symbol = ((self.network.decimals, None) if native
                            else self._tokens.get(asset, (0, None)))
        return Transfer(
            network=self.network.code, txhash=txhash, index=idx, sender=sender,
            receiver=receiver, asset=asset, amount=scale(raw, decimals), decimals=decimals,
            ts=datetime.fromtimestamp(ts, tz=UTC) if ts is not None else None, block=block,
            order=(int(block), int(pos), int(sub)), kind="native" if native else "token",
            symbol=symbol,
        )
