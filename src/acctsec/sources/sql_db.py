"""Database URLs and connections for the SQL source: SQLite, DuckDB and PostgreSQL, one shape."""

# SQL here is built from quoted identifiers and this module's constants; every value
# that comes from the data or the user is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import os
import re
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.parse import quote as quote_url

from acctsec.errors import DependencyError, InputError

SCHEMES = ("sqlite", "duckdb", "postgresql", "postgres")
_URL = re.compile(r"^(sqlite|duckdb|postgresql|postgres)://", re.IGNORECASE)
RETRY_DELAYS_S = (0.3, 1.0)


def is_database_url(value: str) -> bool:
    """True for sqlite:///…, duckdb:///… and postgresql://…."""
    return bool(_URL.match(value))


_SECRET_PARAMS = ("password", "sslpassword")


def secrets_of(url: str) -> list[str]:
    """The passwords in the URL (user:password@, ?password=…) and in PGPASSWORD: never
    printed."""
    found = []
    try:
        parts = urlsplit(url)
        password = parts.password
        params = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        password, params = None, []
    if password:
        found += [password, unquote(password)]
    for name, value in params:
        if name.lower() in _SECRET_PARAMS and value:
            found += [value, quote_url(value, safe="")]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [s for s in found if s]


def mask(message: str, url: str) -> str:
    """`message` with every password of `url` (and PGPASSWORD) replaced by ***."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def masked_url(url: str) -> str:
    """The URL as it may be shown: password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return mask(url, url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return mask(parts._replace(netloc=netloc).geturl(), url)


def file_of(url: str) -> Path:
    """The file of a sqlite:///rel.db or sqlite:////abs.db URL (SQLAlchemy's convention)."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest == "/":
        raise InputError(f"{url}: a file URL is sqlite:///relative.db or sqlite:////absolute.db")
    return Path(rest[1:])


def quote(identifier: str) -> str:
    """A quoted SQL identifier (table or column names come from the database itself)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    name: str  # as the database spells it
    type: str  # the database's type name, lower case

    @property
    def is_text(self) -> bool:
        return self.type in ("", "text", "varchar", "string") or "char" in self.type


@dataclass(frozen=True)
class Table:
    name: str  # as the database spells it
    columns: Mapping[str, Column]  # by lower-case name


class Database:
    """One open connection and the dialect details the SQL source needs."""

    kind = ""
    param = "?"
    # Values bound in one IN (...) of a chunk's population query: under SQLite's old
    # limit of 999 binds with the chunk's 250 account ids.
    values_per_query = 500

    def __init__(self, url: str, connection: Any) -> None:
        self.url = url
        self.connection = connection

    @property
    def shown(self) -> str:
        return masked_url(self.url)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = self.connection.cursor()
            cursor.execute(sql, tuple(params))
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        except Exception as exc:  # noqa: BLE001 - each driver has its own error tree
            raise self.failure(exc) from None
        return rows

    def stream(self, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a query without parameters, `size` at a time."""
        try:
            cursor = self.connection.cursor()
            cursor.execute(sql)
            while rows := cursor.fetchmany(size):
                yield rows
        except Exception as exc:  # noqa: BLE001 - each driver has its own error tree
            raise self.failure(exc) from None

    def reads_csv(self) -> bool:
        """Whether `csv_rows` can give a query's rows (PostgreSQL's COPY)."""
        return False

    def csv_rows(self, sql: str) -> Generator[bytes, None, None]:
        """The rows of a query without parameters as UTF-8 CSV, every value quoted and
        NULL as nothing between the commas; only where `reads_csv()`."""
        raise NotImplementedError

    def failure(self, exc: Exception) -> Exception:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return InputError(mask(f"{self.shown}: query failed: {first}", self.url))

    def file(self) -> Path | None:
        """The database file, for SQLite and DuckDB."""
        return file_of(self.url).resolve()

    def identity(self) -> str:
        """Which database this is, without its password."""
        path = self.file()
        return f"{self.kind} {path}" if path is not None else f"{self.kind} {self.shown}"

    def changes(self, table: str) -> str:
        """The server's count of a table's row changes, where it keeps one."""
        return ""

    def tables(self) -> dict[str, Table]:
        """Tables and views by lower-case name, with their columns."""
        found: dict[str, Table] = {}
        for table, column, kind in self.catalog():
            entry = found.setdefault(str(table).lower(), Table(str(table), {}))
            columns: dict[str, Column] = entry.columns  # type: ignore[assignment]
            key = str(column).lower()
            if key in columns:
                raise InputError(f"{self.shown}: table {table}: column {key!r} appears twice")
            columns[key] = Column(str(column), str(kind).lower())
        return found

    def catalog(self) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def table_name(self, table: str) -> str:
        """The table as the database spells it."""
        return table

    def row_key(self, table: str) -> str | None:
        """An expression numbering a table's rows, when the database has one."""
        return None

    def value(self, column: Column) -> str:
        """The SELECT expression of a column, converted to what Python drivers can read."""
        return quote(column.name)

    def as_text(self, column: Column) -> str:
        return f"CAST({quote(column.name)} AS TEXT)"

    def sort_text(self, expr: str) -> str:
        """`expr` compared by code point, as Python sorts strings."""
        return expr

    def bound(self, memory_limit: str) -> None:
        """Keeps a batch worker's reads within `memory_limit` where the database runs in
        this process (DuckDB); a server's or SQLite's page cache is bounded already."""

    def close(self) -> None:
        self.connection.close()


class SqliteDatabase(Database):
    kind = "sqlite"

    def catalog(self) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT m.name, p.name, p.type FROM sqlite_master AS m, "
            "pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view') ORDER BY p.cid")

    def row_key(self, table: str) -> str | None:
        kinds = self.query("SELECT type FROM sqlite_master WHERE lower(name) = ?", (table,))
        return "rowid" if kinds and kinds[0][0] == "table" else None


def _sqlite_text(raw: bytes) -> str:
    """SQLite stores whatever bytes it was given: a cell that is not UTF-8 is read with
    U+FFFD in place of the bad bytes, by the account's queries and the link tables' copy
    alike, rather than failing the account (or the whole copy)."""
    return raw.decode("utf-8", "replace")


class DuckDatabase(Database):
    kind = "duckdb"
    # Without indexes on the values, DuckDB scans the column for each query, long list
    # or short: a chunk's 4,000 session ids cost 8 scans in lists of 500, one in one list.
    values_per_query = 20_000

    def catalog(self) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")

    def row_key(self, table: str) -> str | None:
        kinds = self.query("SELECT table_type FROM information_schema.tables WHERE "
                           "table_schema = current_schema() AND lower(table_name) = ?", (table,))
        return "rowid + 1" if kinds and kinds[0][0] == "BASE TABLE" else None

    def value(self, column: Column) -> str:
        # Reading TIMESTAMPTZ into Python needs pytz; as a UTC TIMESTAMP it needs nothing.
        if column.type.startswith("timestamp with time zone"):
            return f"timezone('UTC', {quote(column.name)})"
        return quote(column.name)

    def bound(self, memory_limit: str) -> None:
        # Index scans off: a chunk's thousands of session ids loaded the whole index of
        # them into memory (~0.5 GB on 10 M sign-ins, and a chunk asks no faster through
        # it than by scanning the column). A chunk's rows are still found fast without
        # the uid index, as acctsec load sorts the tables by uid: 200 accounts in 0.3 s.
        for setting in (f"SET memory_limit = '{memory_limit}'", "SET index_scan_max_count = 0",
                        "SET index_scan_percentage = 0"):
            self.connection.execute(setting)

    def as_text(self, column: Column) -> str:
        if column.type.startswith(("struct", "map", "json")):  # JSON, as a folder's detail
            return f"CAST(to_json({quote(column.name)}) AS VARCHAR)"
        return f"CAST({quote(column.name)} AS VARCHAR)"


class PostgresDatabase(Database):
    kind = "postgresql"
    param = "%s"

    def catalog(self) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")

    def sort_text(self, expr: str) -> str:
        return f'{expr} COLLATE "C"'

    def file(self) -> Path | None:
        return None

    def changes(self, table: str) -> str:
        # Rows inserted, updated and deleted since the statistics were last reset: an
        # UPDATE that leaves the row count alone still changes these.
        rows = self.query("SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                          "WHERE relid = %s::regclass", (quote(table),))
        if not rows:  # a view (or a partitioned table): any table of the database may feed it
            rows = self.query("SELECT sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_del) "
                              "FROM pg_stat_user_tables")
        return str(rows[0]) if rows else ""

    def stream(self, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        # A server-side cursor: the client holds `size` rows at a time, not the table.
        try:
            with self.connection.transaction(), \
                    self.connection.cursor(name="acctsec_stream") as cursor:
                cursor.execute(sql)
                while rows := cursor.fetchmany(size):
                    yield rows
        except Exception as exc:  # noqa: BLE001 - each driver has its own error tree
            raise self.failure(exc) from None

    def reads_csv(self) -> bool:
        # COPY writes in the connection's encoding; DuckDB reads the CSV as UTF-8.
        return str(self.connection.info.encoding) == "utf-8"

    def csv_rows(self, sql: str) -> Generator[bytes, None, None]:
        # The server writes the CSV itself: no row becomes a Python object.
        try:
            with self.connection.cursor() as cursor, \
                    cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)") as copy:
                yield from copy
        except Exception as exc:  # noqa: BLE001 - each driver has its own error tree
            raise self.failure(exc) from None

    def failure(self, exc: Exception) -> Exception:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            first = (str(exc).strip().splitlines() or ["connection lost"])[0]
            return DependencyError(mask(f"{self.shown}: {first}", self.url))
        return super().failure(exc)


def connect(url: str) -> Database:
    """An open database for a URL; InputError for a missing file, DependencyError for a
    server that cannot be reached after retries."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme == "duckdb":
        return _duckdb(url)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url)
    raise InputError(f"{masked_url(url)}: not a sqlite:///, duckdb:/// or postgresql:// URL")


def _existing(url: str) -> Path:
    path = file_of(url)
    if not path.is_file():
        raise InputError(f"source {masked_url(url)}: file {path} does not exist")
    return path


def _sqlite(url: str) -> Database:
    import sqlite3
    from urllib.parse import quote as quote_url

    path = _existing(url)
    try:
        connection = sqlite3.connect(f"file:{quote_url(str(path.resolve()))}?mode=ro", uri=True)
        connection.text_factory = _sqlite_text
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise InputError(f"source {masked_url(url)}: not a readable SQLite file ({exc})") from None
    return SqliteDatabase(url, connection)


def _duckdb(url: str) -> Database:
    import duckdb

    path = _existing(url)
    try:
        connection = duckdb.connect(str(path), read_only=True)
        connection.execute("SET enable_progress_bar = false")
    except duckdb.Error as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"source {masked_url(url)}: not a readable DuckDB file ({first})") \
            from None
    return DuckDatabase(url, connection)


def _postgres(url: str, delays: Sequence[float] = RETRY_DELAYS_S) -> Database:
    import psycopg

    last = ""
    for delay in (*delays, None):
        try:
            connection = psycopg.connect(url, connect_timeout=5, autocommit=True)
        except psycopg.OperationalError as exc:
            last = (str(exc).strip().splitlines() or ["connection failed"])[0]
        except psycopg.Error as exc:  # a malformed URL or option
            raise InputError(mask(f"source {masked_url(url)}: {exc}", url)) from None
        else:
            return PostgresDatabase(url, connection)
        if delay is not None:
            time.sleep(delay)
    tries = len(delays) + 1
    raise DependencyError(mask(f"cannot connect to {masked_url(url)} after {tries} tries: "
                               f"{last}", url))
