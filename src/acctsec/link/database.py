"""The link tables of a SQL source (SQLite, DuckDB, PostgreSQL), copied once into DuckDB.

Account linking asks DuckDB SQL of the whole population's values (link.query). A
folder source gets its tables from the files (link.sql); a database source gets them
here: the contract's columns of each table are read once, as text, typed as a CSV
folder's cells are, and grouped into the tables a batch run's link store holds
(usage_agg, emails, email_keys, and accounts, transactions, security_events and
alerts; the sign-ins only feed usage_agg and are dropped). The file is kept in the
cache dir under a fingerprint of the database and reused until the data changes.
"""

# SQL here is assembled from this package's constants and quoted identifiers only.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.cachefiles import entry_name, source_id, supersede
from acctsec.errors import InputError
from acctsec.link.sql import (
    COLUMNS,
    QUIET,
    column_expr,
    create_emails,
    create_usage,
    create_usage_agg,
    empty,
)
from acctsec.sources.files import sql_path
from acctsec.sources.sql_db import Database, Table, quote

if TYPE_CHECKING:
    import duckdb

STREAM_ROWS = 50_000  # rows held in Python at a time while a table is copied
CSV_LINE = 8 << 20  # bytes: a longer row sends a PostgreSQL table to the row-by-row copy
CSV_PART = 64 << 20  # bytes of a PostgreSQL table's CSV read by DuckDB at a time
# Part of the fingerprint: a store made by an acctsec whose tables differ is not reused.
STORE_VERSION = 4  # 2: text stripped as str.strip() strips; 3: value_counts; 4: vid


def fingerprint(db: Database, tables: dict[str, Table]) -> str:
    """Changes when the data may have: the database's identity, each contract table's
    columns and row count, and for a file its size and modification time."""
    parts = [f"store {STORE_VERSION}", db.identity()]
    path = db.file()
    if path is not None:
        # Writes may sit in the write-ahead log (SQLite's -wal, DuckDB's .wal) for a while.
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + ".wal")):
            if file.exists():
                st = file.stat()
                parts.append(f"{file.name} {st.st_size}:{st.st_mtime_ns}")
    for name in COLUMNS:
        table = tables.get(name)
        if table is None:
            parts.append(f"{name}: absent")
            continue
        count = db.query(f"SELECT count(*) FROM {quote(table.name)}")[0][0]
        parts.append(f"{name}: {sorted(table.columns)} {count} {db.changes(table.name)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def cached_path(db: Database, tables: dict[str, Table], cache_dir: Path) -> Path:
    return cache_dir / "links" / entry_name("sql", source_id(db.identity()),
                                            fingerprint(db, tables), ".duckdb")


def forget_older_versions(db: Database, path: Path) -> None:
    """Removes the copies of earlier states of this database beside `path`."""
    supersede(path, "sql", source_id(db.identity()), ".duckdb")


def build(db: Database, tables: dict[str, Table], path: Path,
          limits: dict[str, str] | None = None) -> Path:
    """Reads the database's contract columns into a new DuckDB file at `path`.

    DuckDB holds at most 1 GB unless `limits` say otherwise, and spills beyond it.
    """
    import duckdb

    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")  # several runs may build it
    tmp.unlink(missing_ok=True)
    config: dict[str, Any] = {"memory_limit": "1GB",
                              "temp_directory": str(path.parent / "spill"), **(limits or {})}
    con = duckdb.connect(str(tmp), config=config)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(QUIET)
        attached = _attached(con, db)
        for name in COLUMNS:
            scratch = tmp.with_name(f"{path.name}.{os.getpid()}.{name}.csv.partial")
            try:
                _copy(con, db, name, tables.get(name), attached, scratch)
            except InputError as exc:
                raise InputError(f"table {name}: {exc}") from None
        create_usage(con, "VIEW")
        create_usage_agg(con)
        con.execute("DROP VIEW usage")
        con.execute("DROP VIEW emails")
        create_emails(con, "TABLE")
        con.execute("DROP TABLE logins")
    except BaseException as exc:
        con.close()
        tmp.unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error):
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise InputError(f"{db.shown}: the link tables cannot be built ({first})") from None
        raise
    con.close()
    os.replace(tmp, path)
    return path


def _attached(con: duckdb.DuckDBPyConnection, db: Database) -> str | None:
    """A DuckDB source attached to the store's connection, so DuckDB copies its tables
    itself (the link tables of 10 M sign-ins in 18 s, 39 s row by row through Python)."""
    path = db.file()
    if db.kind != "duckdb" or path is None:
        return None
    con.execute(f"ATTACH {sql_path(path)} AS source (READ_ONLY)")
    return "source"


def _copy(con: duckdb.DuckDBPyConnection, db: Database, name: str, table: Table | None,
          attached: str | None = None, scratch: Path | None = None) -> None:
    """One contract table: its columns read as text, then typed as a CSV folder's are.
    `scratch`: where a PostgreSQL table's CSV may be written while it is read."""
    wanted = COLUMNS[name]
    if table is None:
        con.execute(f"CREATE TABLE {name} AS {empty(name)}")
        return
    present = [c for c in wanted if c in table.columns]
    typed = ", ".join(f"{column_expr(kind, quote(c) if c in present else None, 'VARCHAR')} AS {c}"
                      for c, kind in wanted.items())
    texts = ", ".join(f"{db.as_text(table.columns[c])} AS {quote(c)}" for c in present)
    select = f"SELECT {texts} FROM {quote(table.name)}"
    if attached is not None:
        con.execute(f"CREATE TABLE {name} AS SELECT {typed} FROM "
                    f"(SELECT {texts} FROM {attached}.{quote(table.name)})")
        return
    if scratch is not None and db.reads_csv():
        import duckdb

        con.execute(f"CREATE TABLE {name} AS {empty(name)}")  # the typed columns' types
        try:
            _copy_csv(con, db, select, scratch, f"INSERT INTO {name} SELECT {typed} FROM",
                      present)
            return
        except duckdb.Error:
            # DuckDB refused the CSV (a row over CSV_LINE bytes): read row by row
            con.execute(f"DROP TABLE {name}")
    raw = f"raw_{name}"
    con.execute(f"CREATE TEMP TABLE {raw} ({', '.join(f'{quote(c)} VARCHAR' for c in present)})")
    _stream(con, db, select, raw, present)
    con.execute(f"CREATE TABLE {name} AS SELECT {typed} FROM {raw}")
    con.execute(f"DROP TABLE {raw}")


def _stream(con: duckdb.DuckDBPyConnection, db: Database, select: str, raw: str,
            present: list[str]) -> None:
    """The rows of `select` on the source into the store's table `raw`, as text."""
    import pyarrow as pa

    schema = pa.schema([(c, pa.string()) for c in present])
    for rows in db.stream(select, STREAM_ROWS):
        batch = pa.Table.from_arrays([pa.array([_text(r[i]) for r in rows], pa.string())
                                      for i in range(len(present))], schema=schema)
        con.register("batch_rows", batch)
        con.execute(f"INSERT INTO {raw} SELECT * FROM batch_rows")
        con.unregister("batch_rows")


def _copy_csv(con: duckdb.DuckDBPyConnection, db: Database, select: str, scratch: Path,
              insert: str, present: list[str]) -> None:
    """The rows of `select` as the server's CSV (PostgreSQL's COPY), written to files of
    CSV_PART bytes beside `scratch`; each finished file is read by DuckDB, `insert`
    followed by the file's reader, on a thread of its own while the next is written.
    No cell becomes a Python object. Raises the first error of either side."""
    import queue
    import threading

    written: queue.Queue[Path | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    loader = con.cursor()  # a connection of its own to the store, for the thread

    def load() -> None:
        while (part := written.get()) is not None:
            try:
                if not failed:
                    loader.execute(f"{insert} {_csv_reader(part, present)}")
            except BaseException as exc:  # noqa: BLE001 - raised again by the writer
                failed.append(exc)
            finally:
                part.unlink(missing_ok=True)

    thread = threading.Thread(target=load, name="acctsec-copy", daemon=True)
    thread.start()
    rows = db.csv_rows(select)
    part, out, size, parts = scratch, None, 0, 0
    try:
        for chunk in rows:
            if out is None:
                part = scratch.with_suffix(f".{parts}.partial")  # NAME.csv.3.partial
                out, size, parts = part.open("wb"), 0, parts + 1
            out.write(chunk)
            size += len(chunk)
            if size >= CSV_PART:
                out.close()
                out = None
                written.put(part)
                if failed:
                    break
        if out is not None:
            out.close()
            out = None
            written.put(part)
    except OSError as exc:
        raise InputError(f"cannot write {part}: {exc.strerror or exc}") from None
    finally:
        rows.close()
        if out is not None:
            out.close()
            part.unlink(missing_ok=True)
        written.put(None)
        thread.join()
        loader.close()
    if failed:
        raise failed[0]


def _csv_reader(file: Path, present: list[str]) -> str:
    """DuckDB's reader of a file `_copy_csv` wrote: every value is quoted, so "" is an
    empty text and nothing at all between two commas is NULL. A row over CSV_LINE bytes
    (a huge detail) fails the read, and the table is read row by row instead."""
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in present)  # the contract's names
    return (f"read_csv({sql_path(file)}, columns = {{{columns}}}, header = false, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            # COPY ends every row with \n; left to guess, DuckDB took a \r inside the
            # first row's quotes for the line ending and failed
            f"new_line = '\\n', allow_quoted_nulls = false, max_line_size = {CSV_LINE})")


def _text(value: object) -> str | None:
    return None if value is None else str(value)
