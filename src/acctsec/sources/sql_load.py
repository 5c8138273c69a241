"""Loading a folder source into Parquet, DuckDB, SQLite or PostgreSQL, typed, never half-written."""

# SQL here is built from quoted identifiers and this module's constants; every value
# that comes from the data is a bound parameter or goes through COPY / Arrow.
# ruff: noqa: S608

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from acctsec.errors import InputError
from acctsec.model import TABLES, RowProblem, RowRef
from acctsec.sources.files import table_files
from acctsec.sources.parse import BUILDERS, KNOWN_COLUMNS, RowError
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


@dataclass
class LoadedTable:
    """One table ready to write: its columns with their kinds, and its rows."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        at = [c for c, _ in self.columns].index(name)
        return [row[at] for row in self.rows]


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


def read_folder(folder: Path, *, to_pg: bool = False) -> tuple[list[LoadedTable],
                                                                list[RowProblem]]:
    """Every table of a folder source, parsed as the folder source parses it."""
    from acctsec.sources.folder import read_rows

    tables, problems = [], []
    for table, path in table_files(folder).items():
        records = []
        for line, row in read_rows(path, lambda _: True):
            try:
                if "__problem__" in row:
                    raise RowError(row["__problem__"])
                records.append(BUILDERS[table](row, RowRef(path.name, line)))
            except RowError as exc:
                problems.append(RowProblem(path.name, line, str(exc)))
        loaded, bad = _typed(table, path.name, records, to_pg)
        tables.append(loaded)
        problems += bad
    return tables, problems


def _typed(table: str, file: str, records: list[Any],
           to_pg: bool) -> tuple[LoadedTable, list[RowProblem]]:
    extras: list[str] = []
    for record in records:
        extras += [k for k in record.extra if k not in extras]
    extras = [k for k in extras if k not in KNOWN_COLUMNS[table] and k != ROW_COLUMN]
    loaded = LoadedTable(table, [*SCHEMA[table], *((e, "text") for e in extras),
                                 (ROW_COLUMN, "int")])
    problems = []
    for record in records:
        try:
            loaded.rows.append(_row_of(table, record, extras, to_pg))
        except RowError as exc:
            problems.append(RowProblem(file, record.origin.line, str(exc)))
    return loaded, problems


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
        raise InputError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "postgresql" and not dest.lower().startswith(("postgresql://", "postgres://")):
        raise InputError("a PostgreSQL destination is a postgresql://user@host:port/db URL")
    if fmt != "postgresql":
        _check_free(destination_path(dest), replace)
    tables, problems = read_folder(folder, to_pg=fmt == "postgresql")
    if fmt == "postgresql":
        write_postgres(dest, tables, replace=replace)
        shown = masked_url(dest)
    else:
        path = destination_path(dest)
        WRITERS[fmt](path, tables, replace)
        shown = str(path)
    return LoadResult(shown, {t.name: len(t.rows) for t in tables}, problems)


def _check_free(path: Path, replace: bool) -> None:
    if path.exists() and not replace:
        raise InputError(f"{path} exists: pass --replace to overwrite it")


@contextmanager
def _staged(path: Path, replace: bool) -> Iterator[Path]:
    """A temporary name next to `path`, renamed to it only when the block succeeds."""
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


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def arrow_table(table: LoadedTable, with_row: bool = True) -> Any:
    import pyarrow as pa

    types = {"text": pa.string(), "time": pa.timestamp("us", tz="UTC"), "int": pa.int64(),
             "float": pa.float64(), "bool": pa.bool_()}
    names = [c for c, _ in table.columns if with_row or c != ROW_COLUMN]
    arrays = [pa.array(table.column(c), type=types[k]) for c, k in table.columns if c in names]
    return pa.Table.from_arrays(arrays, names=names)


def write_parquet(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    """One file per table, rows sorted by uid (file order kept within an account)."""
    import pyarrow.parquet as pq

    with _staged(path, replace) as temp:
        temp.mkdir(parents=True)
        for table in tables:
            data = arrow_table(table).sort_by([("uid", "ascending"), (ROW_COLUMN, "ascending")])
            pq.write_table(data.drop_columns([ROW_COLUMN]), temp / f"{table.name}.parquet")


def _index_sql(table: LoadedTable) -> list[str]:
    names = {c for c, _ in table.columns}
    return [f"CREATE INDEX {quote(f'{table.name}_{c}_idx')} ON {quote(table.name)} ({quote(c)})"
            for c in INDEXED.get(table.name, ("uid",)) if c in names]


def write_duckdb(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    import duckdb

    with _staged(path, replace) as temp:
        con = duckdb.connect(str(temp))
        con.execute("SET enable_progress_bar = false")
        try:
            for table in tables:
                con.register("incoming", arrow_table(table))
                con.execute(f"CREATE TABLE {quote(table.name)} AS SELECT * FROM incoming "
                            f"ORDER BY uid, {ROW_COLUMN}")
                con.unregister("incoming")
                for sql in _index_sql(table):
                    con.execute(sql)
            con.execute("CHECKPOINT")
        finally:
            con.close()


_SQLITE_TYPES = {"text": "TEXT", "time": "TEXT", "int": "INTEGER", "float": "REAL",
                 "bool": "INTEGER"}


def write_sqlite(path: Path, tables: list[LoadedTable], replace: bool) -> None:
    """Times as ISO 8601 text in UTC (SQLite has no time type)."""
    import sqlite3

    with _staged(path, replace) as temp:
        con = sqlite3.connect(temp)
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
    rows = ([v.isoformat() if i in times and v is not None else v for i, v in enumerate(row)]
            for row in table.rows)
    marks = ", ".join("?" * len(table.columns))
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
        for row in table.rows:
            copy.write_row(row)
    for sql in _index_sql(table):
        con.execute(sql)


WRITERS: dict[str, Callable[[Path, list[LoadedTable], bool], None]] = {
    "parquet": write_parquet, "duckdb": write_duckdb, "sqlite": write_sqlite,
}
