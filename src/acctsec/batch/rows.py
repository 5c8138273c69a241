"""Raw rows of the wanted accounts, grouped by uid, with the row numbers the folder source uses."""

# SQL here is assembled from quoted file paths and this module's constants only.
# ruff: noqa: S608

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from acctsec.sources.files import file_format, sql_path

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


class PythonRows:
    """CSV, JSONL (or Parquet) read by the folder source's own reader: the same lines and problems.

    A row the reader yields without asking for its uid (a line that is not JSON)
    belongs to every account, as it does for `FolderSource.account`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        wanted = set(uids)
        found: dict[str, list[RawRow]] = {}
        for key, line, row in _keyed_rows(self.path, wanted):
            for uid in [key] if key is not None else sorted(wanted):
                found.setdefault(uid, []).append((line, row))
        for uid in sorted(found):
            yield uid, found[uid]


KeyedRow = tuple[str | None, int, dict[str, Any]]


def _keyed_rows(path: Path, wanted: set[str] | None) -> Iterator[KeyedRow]:
    """(uid, line, row) of the rows of `wanted` uids (None: all) the folder reader yields,
    with uid None for a row it yields without asking its uid (a line that is not JSON)."""
    from acctsec.sources.folder import read_rows

    asked: list[str | None] = [None]

    def keep(value: str) -> bool:
        # A refused row is not yielded: forget its uid, or the next keyless row takes it.
        taken = wanted is None or value in wanted
        asked[0] = value if taken else None
        return taken

    for line, row in read_rows(path, keep):
        key, asked[0] = asked[0], None
        yield key, line, row


def _keyed(path: Path, first_line: int = 1) -> str:
    """A Parquet file's rows with their row number (__row__) and stripped uid (__key__).

    The folder source keeps a row when its stripped uid is the one asked for; the
    wanted uids are real uids, so stripping is that test (and cheaper than text_sql).
    `first_line`: the number of the first row (2 for a CSV copied by sources.csvcopy).
    """
    from acctsec.link.sql import strip_sql

    return f"""
    SELECT * EXCLUDE (file_row_number), file_row_number + {int(first_line)} AS __row__,
           {strip_sql('CAST("uid" AS VARCHAR)')} AS __key__
    FROM read_parquet({sql_path(path)}, file_row_number = true)"""


def extract(con: duckdb.DuckDBPyConnection, path: Path, uids: Sequence[str] | None,
            out: Path, first_line: int = 1) -> Path:
    """The rows of `uids` (None: of every account) in `path` (Parquet, its first row
    numbered `first_line`), keyed and sorted by uid, written once to `out`.

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
    _write_sorted(cursor, f"SELECT * FROM ({_keyed(path, first_line)}) WHERE {where}", out)
    cursor.close()
    return out


def _write_sorted(cursor: duckdb.DuckDBPyConnection, rows: str, out: Path) -> None:
    """`rows` (with __key__ and __row__) sorted by uid, then row, written to `out`."""
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")  # two runs may write the same file
    cursor.execute(f"""
    COPY (SELECT * FROM ({rows}) ORDER BY __key__ NULLS FIRST, __row__)
    TO {sql_path(tmp)} (FORMAT parquet, ROW_GROUP_SIZE {BATCH_ROWS})
    """)
    tmp.replace(out)


def extract_text(con: duckdb.DuckDBPyConnection, path: Path, uids: Sequence[str] | None,
                 out: Path) -> Path:
    """`extract` for a CSV or JSONL table: its rows read once by the folder source's own
    reader (the same lines and the same problems as `investigate` sees), each kept as
    JSON text under its uid and line, sorted by uid.

    Without it, every chunk of a batch run read the whole file again in Python (10 M
    sign-ins in CSV: ~18 s per chunk). A keyless row (PythonRows) is kept with a NULL
    uid and given to every account asked for.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("__key__", pa.string()), ("__row__", pa.int64()),
                        ("__json__", pa.string())])
    unsorted = out.with_name(f"{out.name}.{os.getpid()}.unsorted")
    batch: tuple[list[Any], list[Any], list[Any]] = ([], [], [])

    def flush(writer: Any) -> None:
        writer.write_table(pa.table([pa.array(c, t) for c, t in zip(batch, schema.types,
                                                                    strict=True)], schema))
        for column in batch:
            column.clear()

    try:
        with pq.ParquetWriter(unsorted, schema) as writer:
            for key, line, row in _keyed_rows(path, None if uids is None else set(uids)):
                batch[0].append(key)
                batch[1].append(line)
                batch[2].append(json.dumps(row))  # ASCII: any string, surrogates too
                if len(batch[1]) >= BATCH_ROWS:
                    flush(writer)
            flush(writer)
        cursor = con.cursor()
        _write_sorted(cursor, f"SELECT * FROM read_parquet({sql_path(unsorted)})", out)
        cursor.close()
    finally:
        unsorted.unlink(missing_ok=True)
    return out


def extract_any(con: duckdb.DuckDBPyConnection, path: Path, uids: Sequence[str] | None,
                out: Path) -> Path | None:
    """`extract` or `extract_text` by the file's format. None when a CSV or JSONL file
    cannot be read (its accounts then meet the reader's error one by one, as before), and
    for a Parquet file DuckDB cannot key (see keyable): its typed values (timestamps,
    decimals, bytes) are not JSON, so each chunk reads it with the folder reader."""
    from acctsec.errors import InputError

    if file_format(path) == "parquet":
        return extract(con, path, uids, out) if keyable(path) else None
    try:
        return extract_text(con, path, uids, out)
    except InputError:
        return None


class ParquetRows:
    """A Parquet table streamed from DuckDB in uid order, only the wanted accounts' rows.

    `extracted`: the file `extract` wrote; its row groups are sorted by uid, so a
    chunk reads only the groups its range of uids falls in.
    """

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection,
                 extracted: Path | None = None, first_line: int = 1) -> None:
        self.path = path
        self.con = con
        self.extracted = extracted
        self.first_line = first_line

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        import pyarrow as pa

        wanted = sorted(set(uids))
        if not wanted:
            return
        cursor = self.con.cursor()  # each table's stream needs its own open result
        cursor.register("__wanted", pa.table({"uid": pa.array(wanted, pa.string())}))
        if self.extracted is not None:
            rows = (f"SELECT * FROM read_parquet({sql_path(self.extracted)}) "
                    "WHERE __key__ BETWEEN $first AND $last")
            params = {"first": wanted[0], "last": wanted[-1]}
        else:
            rows, params = _keyed(self.path, self.first_line), {}
        sql = f"""
        SELECT * FROM ({rows})
        WHERE __key__ IN (SELECT uid FROM __wanted) ORDER BY __key__, __row__
        """
        reader = cursor.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
        yield from _grouped_batches(reader)


class ExtractedText:
    """A CSV or JSONL table's rows as `extract_text` kept them, streamed in uid order."""

    def __init__(self, extracted: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.extracted = extracted
        self.con = con
        self._keyless: list[RawRow] | None = None

    def groups(self, uids: Sequence[str]) -> Iterator[Group]:
        import pyarrow as pa

        wanted = sorted(set(uids))
        if not wanted:
            return
        keyless = self.keyless()
        cursor = self.con.cursor()
        cursor.register("__wanted", pa.table({"uid": pa.array(wanted, pa.string())}))
        reader = cursor.sql(f"""
        SELECT * FROM read_parquet({sql_path(self.extracted)})
        WHERE __key__ BETWEEN $first AND $last AND __key__ IN (SELECT uid FROM __wanted)
        ORDER BY __key__, __row__""", params={"first": wanted[0], "last": wanted[-1]}
        ).to_arrow_reader(BATCH_ROWS)
        own = _grouped_batches(reader, _from_json)
        if not keyless:
            yield from own
            return
        found = dict(own)
        for uid in wanted:
            yield uid, sorted([*found.get(uid, []), *keyless], key=lambda r: r[0])

    def keyless(self) -> list[RawRow]:
        """The rows that belong to every account (lines that are not JSON), read once."""
        if self._keyless is None:
            rows = self.con.execute(f"""
            SELECT __row__, __json__ FROM read_parquet({sql_path(self.extracted)})
            WHERE __key__ IS NULL ORDER BY __row__""").fetchall()
            self._keyless = [(int(line), json.loads(text)) for line, text in rows]
        return self._keyless


def _from_json(record: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(record["__json__"])
    return loaded


def _from_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in record.items()}


def _grouped_batches(reader: Any,
                     row_of: Callable[[dict[str, Any]], dict[str, Any]] = _from_columns,
                     ) -> Iterator[Group]:
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
            rows.append((line, row_of(record)))
    if current is not None:
        yield current, rows


def table_rows(path: Path, con: duckdb.DuckDBPyConnection | None,
               extracted: Path | None = None, copy: Path | None = None) -> TableRows:
    """DuckDB for Parquet (fast, streamed) and for a CSV's exact copy (`copy`, see
    sources.csvcopy), the folder reader for other CSV and JSONL (exact lines), or
    what `extract` or `extract_text` kept of them."""
    from acctsec.sources.csvcopy import FIRST_LINE

    if con is None:
        return PythonRows(path)
    if extracted is not None and _is_text(extracted):
        return ExtractedText(extracted, con)
    if file_format(path) == "parquet" and keyable(path):
        return ParquetRows(path, con, extracted)
    if copy is not None:
        return ParquetRows(copy, con, extracted, first_line=FIRST_LINE)
    return PythonRows(path)


def keyable(path: Path) -> bool:
    """Whether DuckDB can read a Parquet table with its row numbers and keys: none of its
    columns is named as what that reading adds (a `file_row_number` column makes DuckDB
    refuse the option). Otherwise the folder reader reads it, as for CSV and JSONL."""
    import pyarrow.parquet as pq

    from acctsec.sources.csvcopy import RESERVED_NAMES

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError):  # the folder reader names the problem
        return False
    return not any(name.lower() in RESERVED_NAMES for name in names)


def _is_text(extracted: Path) -> bool:
    """Whether `extract_text` wrote the file (rows as JSON text), not `extract`."""
    import pyarrow.parquet as pq

    return "__json__" in pq.read_schema(extracted).names
