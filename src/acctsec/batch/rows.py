"""Raw rows of the wanted accounts, grouped by uid, with the row numbers the folder source uses."""

# SQL here is assembled from quoted file paths and this module's constants only.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from acctsec.sources.files import file_format

if TYPE_CHECKING:
    import duckdb

RawRow = tuple[int, dict[str, Any]]
Group = tuple[str, list[RawRow]]

# Rows fetched from DuckDB per Arrow batch: bounded memory whatever the table size.
BATCH_ROWS = 20_000


class TableRows(Protocol):
    """The raw rows of one table for a set of accounts."""

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        """(uid, rows in file order) for the wanted uids that have rows, in sorted uid order."""
        ...


def quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class PythonRows:
    """CSV, JSONL (or Parquet) read by the folder source's own reader: the same lines and problems.

    A row the reader yields without asking for its uid (a line that is not JSON)
    belongs to every account, as it does for `FolderSource.account`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        from acctsec.sources.folder import read_rows

        wanted = set(uids)
        asked: list[str | None] = [None]

        def keep(value: str) -> bool:
            asked[0] = value
            return value in wanted

        found: dict[str, list[RawRow]] = {}
        for line, row in read_rows(self.path, keep):
            key, asked[0] = asked[0], None
            targets = [key] if key is not None else sorted(wanted)
            for uid in targets:
                found.setdefault(uid, []).append((line, row))
        for uid in sorted(found):
            yield uid, found[uid]


def _keyed(path: Path) -> str:
    """A Parquet file's rows with their row number (__row__) and trimmed uid (__key__).

    The folder source keeps a row when its trimmed uid is the one asked for; the
    wanted uids are real uids, so trim() is that test (and cheaper than text_sql).
    """
    return f"""
    SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row__,
           trim(CAST("uid" AS VARCHAR)) AS __key__
    FROM read_parquet({quote(path)}, file_row_number = true)"""


def extract(con: duckdb.DuckDBPyConnection, path: Path, uids: Sequence[str] | None,
            out: Path) -> Path:
    """The rows of `uids` (None: of every account) in `path`, keyed and sorted by uid,
    written once to `out`.

    A run over many chunks then reads each chunk's rows from this file instead of
    scanning the whole table again for every chunk.
    """
    import pyarrow as pa

    cursor = con.cursor()
    if uids is None:
        where = "__key__ IS NOT NULL"
    else:
        cursor.register("__wanted", pa.table({"uid": pa.array(sorted(set(uids)), pa.string())}))
        where = "__key__ IN (SELECT uid FROM __wanted)"
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")  # two runs may write the same file
    cursor.execute(f"""
    COPY (SELECT * FROM ({_keyed(path)}) WHERE {where} ORDER BY __key__, __row__)
    TO {quote(tmp)} (FORMAT parquet, ROW_GROUP_SIZE {BATCH_ROWS})
    """)
    cursor.close()
    tmp.replace(out)
    return out


class ParquetRows:
    """A Parquet table streamed from DuckDB in uid order, only the wanted accounts' rows.

    `extracted`: the file `extract` wrote; its row groups are sorted by uid, so a
    chunk reads only the groups its range of uids falls in.
    """

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection,
                 extracted: Path | None = None) -> None:
        self.path = path
        self.con = con
        self.extracted = extracted

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        import pyarrow as pa

        wanted = sorted(set(uids))
        if not wanted:
            return
        cursor = self.con.cursor()  # each table's stream needs its own open result
        cursor.register("__wanted", pa.table({"uid": pa.array(wanted, pa.string())}))
        if self.extracted is not None:
            rows = (f"SELECT * FROM read_parquet({quote(self.extracted)}) "
                    "WHERE __key__ BETWEEN $first AND $last")
            params = {"first": wanted[0], "last": wanted[-1]}
        else:
            rows, params = _keyed(self.path), {}
        sql = f"""
        SELECT * FROM ({rows})
        WHERE __key__ IN (SELECT uid FROM __wanted) ORDER BY __key__, __row__
        """
        reader = cursor.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
        yield from _grouped_batches(reader)


def _grouped_batches(reader: Any) -> Iterator[Group]:
    current: str | None = None
    rows: list[RawRow] = []
    for batch in reader:
        for record in batch.to_pylist():
            uid = record.pop("__key__")
            line = int(record.pop("__row__"))
            if uid != current:
                if current is not None:
                    yield current, rows
                current, rows = uid, []
            rows.append((line, {str(k).lower(): v for k, v in record.items()}))
    if current is not None:
        yield current, rows


def table_rows(path: Path, con: duckdb.DuckDBPyConnection | None,
               extracted: Path | None = None) -> TableRows:
    """DuckDB for Parquet (fast, streamed), the folder reader for CSV and JSONL (exact lines)."""
    if con is not None and file_format(path) == "parquet":
        return ParquetRows(path, con, extracted)
    return PythonRows(path)
