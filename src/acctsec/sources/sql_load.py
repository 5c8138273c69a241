"""Loading a folder source into Parquet, DuckDB, SQLite or PostgreSQL, typed, never half-written."""

# SQL here is built from quoted identifiers and this module's constants; every value
# that comes from the data is a bound parameter or goes through COPY / Arrow.
# ruff: noqa: S608

from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from acctsec.errors import InputError, UsageError
from acctsec.model import TABLES, RowProblem, RowRef
from acctsec.sources.files import table_files
from acctsec.sources.parse import BUILDERS, KNOWN_COLUMNS, RowError, RowKept, row_problem
from acctsec.sources.sql_db import file_of, masked_url, quote

FORMATS = ("parquet", "duckdb", "sqlite", "postgresql")
ROW_COLUMN = "_row"
INDEXED = {"logins": ("uid", "ip", "device_id", "session_id")}
INT64 = (-(2**63), 2**63 - 1)

# The contract's columns in order, each with the type it is stored as. Amounts are
# text: DECIMAL(38,18) cannot hold the 1e-30 … 1e30 the contract accepts, and would
# change how an amount is written in a report (1.5 -> 1.500000000000000000).
SCHEMA: Mapping[str, tuple[tuple[str, str], ...]] = {
    "accounts": (("uid", "text"), ("email", "text"), ("phone", "text"),
                 ("created_at", "time"), ("kyc_level", "int"), ("kyc_country", "text"),
                 ("status", "text"), ("restrictions", "text"), ("referrer_uid", "text")),
    "logins": (("ts", "time"), ("uid", "text"), ("event", "text"), ("ip", "text"),
               ("user_agent", "text"), ("device_id", "text"), ("session_id", "text"),
               ("mfa_method", "text"), ("channel", "text"), ("failure_reason", "text"),
               ("country", "text"), ("city", "text"), ("lat", "float"), ("lon", "float"),
               ("asn", "int"), ("as_org", "text")),
    "security_events": (("ts", "time"), ("uid", "text"), ("event", "text"), ("ip", "text"),
                        ("device_id", "text"), ("user_agent", "text"),
                        ("session_id", "text"), ("detail", "text")),
    "transactions": (("ts", "time"), ("uid", "text"), ("kind", "text"), ("tx_id", "text"),
                     ("asset", "text"), ("network", "text"), ("amount", "text"),
                     ("usd_value", "text"), ("address", "text"), ("txhash", "text"),
                     ("counterparty_uid", "text"), ("status", "text"), ("ip", "text"),
                     ("device_id", "text"), ("payment_method", "text"),
                     ("chargeback", "bool")),
    "alerts": (("alert_id", "text"), ("uid", "text"), ("ts", "time"), ("source", "text"),
               ("kind", "text"), ("note", "text")),
}
_GEO = frozenset({"country", "city", "lat", "lon", "asn", "as_org"})


# Rows typed and written per batch: a table of any size streams through.
BATCH_ROWS = 50_000


@dataclass
class LoadedTable:
    """One table to write: its columns with their kinds, and its rows in batches.

    The batches are read from the source file while they are written (once);
    `count` then holds how many rows were written.
    """

    name: str
    columns: list[tuple[str, str]]
    batches: Iterator[list[tuple[Any, ...]]]
    count: int = 0

    def stream(self) -> Iterator[list[tuple[Any, ...]]]:
        for batch in self.batches:
            self.count += len(batch)
            yield batch


@dataclass
class LoadResult:
    destination: str
    rows: dict[str, int]
    problems: list[RowProblem]


def _cell(record: Any, column: str) -> Any:
    if column in _GEO:
        geo = record.geo
        return getattr(geo, column) if geo is not None else None
    value = getattr(record, column)
    if column == "restrictions":
        return ";".join(value) or None
    if column == "detail" and isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False, default=str)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row_of(table: str, record: Any, extras: Sequence[str], to_pg: bool) -> tuple[Any, ...]:
    values = [_cell(record, c) for c, _ in SCHEMA[table]]
    for (column, kind), value in zip(SCHEMA[table], values, strict=True):
        if kind == "int" and value is not None and not INT64[0] <= value <= INT64[1]:
            raise RowError(f"{column} {value} does not fit a 64-bit integer")
    values += [record.extra.get(name) for name in extras]
    if to_pg and any(isinstance(v, str) and "\x00" in v for v in values):
        raise RowError("holds a NUL character, which PostgreSQL cannot store")
    return (*values, record.origin.line)


def read_folder(folder: Path, problems: list[RowProblem], *,
                to_pg: bool = False) -> list[LoadedTable]:
    """Every table of a folder source, parsed as the folder source parses it, as it is
    read; rows breaking the contract are added to `problems` and left out."""
    tables = []
    for table, path in table_files(folder).items():
        extras = _extra_columns(table, path)
        columns = [*SCHEMA[table], *((e, "text") for e in extras), (ROW_COLUMN, "int")]
        tables.append(LoadedTable(table, columns,
                                  _batches(table, path, extras, to_pg, problems)))
    return tables


def _extra_columns(table: str, path: Path) -> list[str]:
    """Columns beyond the contract, kept as text: the header's (CSV, Parquet), or every
    key any line has (JSONL)."""
    from acctsec.sources.files import file_format
    from acctsec.sources.folder import read_rows

    names: list[str] = []
    for _, row in read_rows(path, lambda _: True):
        names += [k for k in row if k not in names]
        if file_format(path) != "jsonl":
            break
    return [k for k in names
            if k not in KNOWN_COLUMNS[table] and k not in (ROW_COLUMN, "__problem__")]


def _batches(table: str, path: Path, extras: list[str], to_pg: bool,
             problems: list[RowProblem]) -> Iterator[list[tuple[Any, ...]]]:
    from acctsec.sources.folder import read_rows

    build = BUILDERS[table]
    batch: list[tuple[Any, ...]] = []
    for line, row in read_rows(path, lambda _: True):
        try:
            if "__problem__" in row:
                raise RowError(row["__problem__"])
            batch.append(_row_of(table, build(row, RowRef(path.name, line)), extras, to_pg))
        except RowError as exc:
            problems.append(row_problem(path.name, line, exc))
            if isinstance(exc, RowKept):
                batch.append(_row_of(table, exc.record, extras, to_pg))
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def guess_format(dest: str) -> str:
    lowered = dest.lower()
    if lowered.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    if lowered.startswith("duckdb://") or lowered.endswith(".duckdb"):
        return "duckdb"
    if lowered.startswith("sqlite://") or lowered.endswith((".db", ".sqlite", ".sqlite3")):
        return "sqlite"
    return "parquet"


def destination_path(dest: str) -> Path:
    return file_of(dest) if dest.lower().startswith(("sqlite://", "duckdb://")) else Path(dest)


def load(folder: Path, dest: str, fmt: str | None = None, *, replace: bool = False) -> LoadResult:
    """Writes the folder's tables to `dest`; rows breaking the contract are not loaded."""
    fmt = fmt or guess_format(dest)
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "postgresql" and not dest.lower().startswith(("postgresql://", "postgres://")):
        raise InputError("a PostgreSQL destination is a postgresql://user@host:port/db URL")
    if fmt != "postgresql":
        _check_free(destination_path(dest), replace)
        # A destination in folders not made yet gets them, as batch's --out does; a place
        # that cannot take them fails here, before the folder is read.
        destination_path(dest).parent.mkdir(parents=True, exist_ok=True)
    problems: list[RowProblem] = []
    tables = read_folder(folder, problems, to_pg=fmt == "postgresql")
    if fmt == "postgresql":
        write_postgres(dest, tables, replace=replace)
        shown = masked_url(dest)
    else:
        path = destination_path(dest)
        WRITERS[fmt](path, tables, replace)
        shown = str(path)
    return LoadResult(shown, {t.name: t.count for t in tables}, problems)


def _check_free(path: Path, replace: bool) -> None:
    if path.exists() and not replace:
        raise InputError(f"{path} exists: pass --replace to overwrite it")


@contextmanager
def _staged(path: Path, replace: bool) -> Iterator[Path]:
    """A temporary name next to `path`, renamed to it only when the block succeeds."""
    _remove_leftovers(path)
    temp = path.with_name(f".{path.name}.part-{os.getpid()}")
    _remove(temp)
    try:
        yield temp
        _check_free(path, replace)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(temp, path)
            _remove(old)
        else:
            os.replace(temp, path)
    finally:
        _remove(temp)
        _remove(temp.with_name(temp.name + ".wal"))


def _remove_leftovers(path: Path) -> None:
    """What a load into `path` killed outright (SIGKILL, power loss) left beside it: its
    `.NAME.part-PID` (and `.wal`) or `.NAME.old-PID`, when process PID is gone. An old
    copy is put back when it is all there is (the load died between its two renames).
    On a folder shared between machines a live load elsewhere looks gone: load there
    from one machine at a time."""
    for left in sorted(path.parent.glob(f".{glob.escape(path.name)}.*-*")):
        stage, _, pid = left.name[len(path.name) + 2:].removesuffix(".wal").partition("-")
        if stage not in ("part", "old") or not pid.isdigit() or _running(int(pid)):
            continue
        if stage == "old" and not left.name.endswith(".wal") and not path.exists():
            os.replace(left, path)  # killed between the two renames: the only copy
        else:
            _remove(left)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or no PID at all
        return False
    except OSError:  # someone else's process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def arrow_schema(columns: Sequence[tuple[str, str]]) -> Any:
    import pyarrow as pa

    types = {"text": pa.string(), "time": pa.timestamp("us", tz="UTC"), "int": pa.int64(),
             "float": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(c, types[k]) for c, k in columns])


def arrow_batch(columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]) -> Any:
    import pyarrow as pa

    schema = arrow_schema(columns)
    arrays = [pa.array([row[i] for row in rows], type=schema.field(i).type)
              for i in range(len(columns))]
    return pa.Table.from_arrays(arrays, schema=schema)


def _sorted_in_duckdb(con: Any, table: LoadedTable) -> str:
    """The table's batches put into DuckDB as they come; the SELECT that gives them back
    sorted by uid (file order kept within an account). DuckDB sorts past its memory
    limit on disk."""
    staging = quote(f"_incoming_{table.name}")
    columns = ", ".join(f"{quote(c)} {_DUCK_TYPES[k]}" for c, k in table.columns)
    con.execute(f"CREATE TABLE {staging} ({columns})")
    for batch in table.stream():
        arrow = arrow_batch(table.columns, batch)  # noqa: F841 - read by DuckDB below
        con.execute(f"INSERT INTO {staging} SELECT * FROM arrow")
    return f"SELECT * FROM {staging} ORDER BY uid, {ROW_COLUMN}"


_DUCK_TYPES = {"text": "VARCHAR", "time": "TIMESTAMPTZ", "int": "BIGINT", "float": "DOUBLE",
               "bool": "BOOLEAN"}


def _duckdb(path: Path, spill: Path) -> Any:
    import duckdb

    try:
        con = duckdb.connect(str(path), config={"memory_limit": "1GB",
                                                "temp_directory": str(spill)})
    except duckdb.IOException as exc:  # a read-only place, no such folder
        first = (str(exc).splitlines() or ["?"])[0]
        raise InputError(f"{path.parent}: a DuckDB file cannot be written there "
                         f"({first})") from None
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def write_parquet(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    """One file per table, rows sorted by uid (file order kept within an account)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _staged(path, replace) as temp:
        temp.mkdir(parents=True)
        con = _duckdb(temp / ".sorting.duckdb", temp / ".spill")
        try:
            for table in tables:
                columns = [(c, k) for c, k in table.columns if c != ROW_COLUMN]
                schema = arrow_schema(columns)
                ordered = _sorted_in_duckdb(con, table)
                reader = con.sql(f"SELECT * EXCLUDE ({ROW_COLUMN}) FROM ({ordered})"
                                 ).to_arrow_reader(BATCH_ROWS)
                with pq.ParquetWriter(temp / f"{table.name}.parquet", schema) as writer:
                    for batch in reader:
                        writer.write_table(pa.Table.from_batches([batch]).cast(schema))
        finally:
            con.close()
        for leftover in (".sorting.duckdb", ".sorting.duckdb.wal", ".spill"):
            _remove(temp / leftover)


def _index_sql(table: LoadedTable) -> list[str]:
    names = {c for c, _ in table.columns}
    return [f"CREATE INDEX {quote(f'{table.name}_{c}_idx')} ON {quote(table.name)} ({quote(c)})"
            for c in INDEXED.get(table.name, ("uid",)) if c in names]


def write_duckdb(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    with _staged(path, replace) as temp:
        spill = temp.with_name(temp.name + ".spill")
        con = _duckdb(temp, spill)
        try:
            for table in tables:
                con.execute(f"CREATE TABLE {quote(table.name)} AS "
                            f"{_sorted_in_duckdb(con, table)}")
                con.execute(f"DROP TABLE {quote(f'_incoming_{table.name}')}")
                for sql in _index_sql(table):
                    con.execute(sql)
            con.execute("CHECKPOINT")
        finally:
            con.close()
            _remove(spill)


_SQLITE_TYPES = {"text": "TEXT", "time": "TEXT", "int": "INTEGER", "float": "REAL",
                 "bool": "INTEGER"}


def write_sqlite(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    """Times as ISO 8601 text in UTC (SQLite has no time type)."""
    import sqlite3

    with _staged(path, replace) as temp:
        try:
            con = sqlite3.connect(temp)
        except sqlite3.OperationalError as exc:  # a read-only place, no such folder
            raise InputError(f"{path.parent}: an SQLite file cannot be written there "
                             f"({exc})") from None
        try:
            for table in tables:
                _sqlite_table(con, table)
            con.commit()
        finally:
            con.close()


def _sqlite_table(con: Any, table: LoadedTable) -> None:
    columns = ", ".join(f"{quote(c)} {_SQLITE_TYPES[k]}" for c, k in table.columns)
    con.execute(f"CREATE TABLE {quote(table.name)} ({columns})")
    times = [i for i, (_, k) in enumerate(table.columns) if k == "time"]
    marks = ", ".join("?" * len(table.columns))
    for batch in table.stream():
        rows = ([v.isoformat() if i in times and v is not None else v
                 for i, v in enumerate(row)] for row in batch)
        con.executemany(f"INSERT INTO {quote(table.name)} VALUES ({marks})", rows)
    for sql in _index_sql(table):
        con.execute(sql)


_PG_TYPES = {"text": "TEXT", "time": "TIMESTAMPTZ", "int": "BIGINT",
             "float": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def write_postgres(url: str, tables: list[LoadedTable], *, replace: bool) -> None:
    """All tables in one transaction: a failure leaves the database as it was."""
    import psycopg

    from acctsec.sources.sql_db import connect

    db = connect(url)  # retries, masked messages, DependencyError when unreachable
    con = db.connection
    try:
        con.autocommit = False
        with con.transaction():
            _pg_clear(con, db.shown, replace)
            for table in tables:
                _pg_table(con, table)
    except psycopg.Error as exc:
        raise db.failure(exc) from None
    finally:
        con.close()


def _pg_clear(con: Any, shown: str, replace: bool) -> None:
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()}
    clash = [n for n in TABLES if n in present]
    if clash and not replace:
        raise InputError(f"{shown} already has table {clash[0]}: pass --replace to overwrite")
    for name in clash:
        con.execute(f"DROP TABLE {quote(name)}")


def _pg_table(con: Any, table: LoadedTable) -> None:
    columns = ", ".join(f"{quote(c)} {_PG_TYPES[k]}" for c, k in table.columns)
    con.execute(f"CREATE TABLE {quote(table.name)} ({columns})")
    names = ", ".join(quote(c) for c, _ in table.columns)
    with con.cursor().copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
        for batch in table.stream():
            for row in batch:
                copy.write_row(row)
    for sql in _index_sql(table):
        con.execute(sql)


WRITERS: dict[str, Callable[[Path, list[LoadedTable], bool], None]] = {
    "parquet": write_parquet, "duckdb": write_duckdb, "sqlite": write_sqlite,
}
