"""DuckDB views over a folder source: the contract's columns, typed, the same for every format."""

# SQL here is assembled from this module's constants and quoted file paths only;
# every value that comes from the data or the user is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.cachefiles import entry_name, source_id, supersede, used
from acctsec.errors import InputError
from acctsec.sources.files import file_format, sql_path, table_files

if TYPE_CHECKING:
    import duckdb

# The columns each view offers and their SQL type; a missing column reads as NULL.
COLUMNS: Mapping[str, Mapping[str, str]] = {
    "accounts": {
        "uid": "text", "email": "text", "phone": "text", "created_at": "time",
        "kyc_country": "text", "status": "text", "referrer_uid": "text",
    },
    "logins": {
        "ts": "time", "uid": "text", "event": "text", "ip": "text", "device_id": "text",
        "as_org": "text",
    },
    "security_events": {
        "ts": "time", "uid": "text", "event": "text", "ip": "text", "device_id": "text",
        "detail": "json",
    },
    "transactions": {
        "ts": "time", "uid": "text", "kind": "text", "asset": "text", "network": "text",
        "amount": "money", "usd_value": "money", "address": "text", "txhash": "text",
        "counterparty_uid": "text", "status": "text", "ip": "text", "device_id": "text",
        "payment_method": "text", "chargeback": "text",
    },
    "alerts": {"uid": "text", "ts": "time", "source": "text", "kind": "text", "note": "text"},
}

# Part of the cached link tables' version: raised when what they hold changes meaning
# (2: text is stripped as str.strip() strips), so that older ones are never read.
LINK_FORMAT = 2

# Small sources are copied into memory once; large ones are scanned per query so
# that one account's questions never load the whole population.
MATERIALISE_BELOW_BYTES = 64 * 1024 * 1024


# What Python's str.strip() removes (str.isspace()); DuckDB's trim() removes spaces and
# some Unicode spaces, but not tabs, line breaks or \x1c-\x1f, \x85, U+2028, U+2029.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
              "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def strip_sql(expr: str) -> str:
    """`expr` (text) without the leading and trailing whitespace str.strip() removes.

    A value that starts and ends with a printable ASCII character is kept as is:
    trim() with a list of characters costs ~6x more, and is needed only by the rare
    value with whitespace or other characters at an end.
    """
    return (f"CASE WHEN {expr}[1] BETWEEN '!' AND '~' AND {expr}[-1] BETWEEN '!' AND '~' "
            f"THEN {expr} ELSE trim({expr}, '{WHITESPACE}') END")


def text_sql(expr: str) -> str:
    """Stripped text, NULL for empty and the words null/none/nan (as sources/parse.text)."""
    stripped = strip_sql(f"CAST({expr} AS VARCHAR)")
    return (
        f"CASE WHEN lower({stripped}) IN ('', 'null', 'none', 'nan') "
        f"THEN NULL ELSE {stripped} END"
    )


def lower_sql(expr: str) -> str:
    """lower() as Python's str.lower() gives it for the names compared with it (events):
    the one letter the two lower differently is U+0130 (DuckDB: i, Python: i + U+0307),
    and no name holds it, so such a value is no name (NULL)."""
    return f"CASE WHEN contains({expr}, '\u0130') THEN NULL ELSE lower({expr}) END"


def time_sql(expr: str) -> str:
    """ISO 8601 (offset honoured, none = UTC) or epoch seconds/milliseconds, as UTC TIMESTAMP."""
    x = text_sql(expr)
    number = f"TRY_CAST({x} AS DOUBLE)"
    return (
        f"COALESCE(CAST(TRY_CAST({x} AS TIMESTAMPTZ) AS TIMESTAMP), "
        f"CASE WHEN abs({number}) > 1e11 THEN make_timestamp(CAST({number} * 1000 AS BIGINT)) "
        f"WHEN {number} IS NOT NULL THEN make_timestamp(CAST({number} * 1000000 AS BIGINT)) END)"
    )


_TRIM = "'^[ \\t\\r\\n]+|[ \\t\\r\\n]+$'"


def email_norm_stage(source: str) -> str:
    """SQL twin of intel.identity.normalize_email, applied in stages to keep plans small.

    `source` yields (uid, raw, ts, org); the result yields (uid, value, ts, org).
    """
    return f"""
    SELECT uid, CASE WHEN x = '' THEN NULL WHEN has_at
        THEN (CASE WHEN dom = 'gmail.com' THEN replace(cut, '.', '') ELSE cut END) || '@' || dom
        ELSE x END AS value, ts, org
    FROM (SELECT *, CASE WHEN head = '' THEN loc ELSE head END AS cut
      FROM (SELECT *, split_part(loc, '+', 1) AS head,
                   CASE WHEN d = 'googlemail.com' THEN 'gmail.com' ELSE d END AS dom
        FROM (SELECT *, strpos(x, '@') > 0 AS has_at,
                     regexp_extract(x, '(?s)^(.*)@([^@]*)$', 1) AS loc,
                     regexp_extract(x, '(?s)^(.*)@([^@]*)$', 2) AS d
          FROM (SELECT uid, ts, org, lower(regexp_replace(raw, {_TRIM}, '', 'g')) AS x
                FROM ({source}) AS s(uid, raw, ts, org) WHERE raw IS NOT NULL))))
    """


def phone_norm_stage(source: str) -> str:
    """SQL twin of intel.identity.normalize_phone; (uid, raw, ts, org) -> (uid, value, ts, org)."""
    return f"""
    SELECT uid, CASE WHEN d = '' THEN NULL
        WHEN starts_with(regexp_replace(raw, {_TRIM}, '', 'g'), '+') THEN '+' || d
        WHEN starts_with(d, '00') AND length(d) > 2 THEN '+' || d[3:] ELSE d END AS value, ts, org
    FROM (SELECT *, regexp_replace(raw, '[^0-9]', '', 'g') AS d
          FROM ({source}) AS s(uid, raw, ts, org) WHERE raw IS NOT NULL)
    """


def address_norm_stage(source: str) -> str:
    """Hex (0x…) and bech32 addresses are case-blind; base58 ones are not."""
    return f"""
    SELECT uid, CASE WHEN regexp_matches(lower(raw), '^(0x|bc1|ltc1|tb1)')
        THEN lower(raw) ELSE raw END AS value, ts, org
    FROM ({source}) AS s(uid, raw, ts, org) WHERE raw IS NOT NULL
    """


def plain_stage(source: str) -> str:
    return f"SELECT * FROM ({source}) AS s(uid, value, ts, org)"


def device_ok_sql(expr: str) -> str:
    """False for the placeholder ids of intel.identity.is_placeholder_device.

    Applied to the few values of one account or to grouped values, never to every
    raw row: a per-row regex over ten million logins costs seconds.
    """
    return (
        f"({expr} IS NOT NULL AND lower({expr}) NOT IN "
        "('0', '-', 'null', 'none', 'nil', 'unknown', 'undefined', 'n/a', 'na', 'default') "
        f"AND NOT regexp_full_match({expr}, '[0\\-]*'))"
    )


_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"


def ip_ok_sql(expr: str) -> str:
    """False for an `ip` that is not an address (`unknown`, `-`, `1.2.3.400`): the reader
    takes such an address as unknown (sources.parse.RowKept), and as a link it would join
    every account that logged the placeholder. IPv6 is checked for its characters only. Applied as
    device_ok_sql is, to (lower-cased) values, not to every row."""
    return (f"(regexp_full_match({expr}, '({_OCTET}\\.){{3}}{_OCTET}') "
            f"OR (contains({expr}, ':') AND regexp_full_match({expr}, '[0-9a-f:.]+(%[^%]+)?')))")


def value_ok_sql(family: str, value: str) -> str:
    """False for placeholder devices and IPs that are no address: never a link."""
    return (f"(({family} <> 'device_id' OR {device_ok_sql(value)}) "
            f"AND ({family} <> 'ip' OR {ip_ok_sql(value)}))")


# DuckDB draws a progress bar on long queries; stderr is for acctsec's own messages.
QUIET = "SET enable_progress_bar = false"


def connect() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(QUIET)
    return con


def _reader(path: Path) -> str:
    kind = file_format(path)
    if kind == "csv":
        return (
            f"read_csv({sql_path(path)}, all_varchar = true, header = true, delim = ',', "
            "quote = '\"', escape = '\"', "
            "ignore_errors = true)"
        )
    if kind == "parquet":
        return f"read_parquet({sql_path(path)})"
    return f"read_ndjson_objects({sql_path(path)}, ignore_errors = true)"


def _columns(con: duckdb.DuckDBPyConnection, path: Path
             ) -> tuple[str, dict[str, tuple[str, str]]]:
    """The reader of a CSV or Parquet file, and its columns: lower-cased name -> (quoted
    name, DuckDB type). A CSV's columns are named as the folder reader names them
    (stripped of all whitespace, BOM removed, lower-cased) when DuckDB finds as many:
    DuckDB's own names keep a tab, and a BOM-prefixed quoted name, that the folder
    reader drops."""
    import duckdb

    reader = _reader(path)
    try:
        found = [(str(r[0]), str(r[1])) for r in
                 con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    names = _csv_names(path) if file_format(path) == "csv" else None
    if names is not None and len(names) == len(found) and "" not in names:
        listed = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
        reader = reader.removesuffix(")") + f", names = [{listed}])"
        found = [(n, kind) for n, (_, kind) in zip(names, found, strict=True)]
    return reader, {name.lower(): (_ident(name), kind) for name, kind in found}


def _csv_names(path: Path) -> list[str] | None:
    from acctsec.sources.folder import read_header

    header = read_header(path)  # None: the file is reported where it is read
    return None if header is None else header[0]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_expr(kind: str, raw: str | None, sql_type: str | None) -> str:
    if raw is None:
        return {"time": "CAST(NULL AS TIMESTAMP)", "money": "CAST(NULL AS DECIMAL(38, 8))"}.get(
            kind, "CAST(NULL AS VARCHAR)"
        )
    if kind == "time":
        if sql_type and sql_type.upper().startswith("TIMESTAMP"):
            return f"CAST({raw} AS TIMESTAMP)"
        return time_sql(raw)
    if kind == "money":
        return f"TRY_CAST({text_sql(raw)} AS DECIMAL(38, 8))"
    if kind == "json" and sql_type and sql_type.upper().startswith(("STRUCT", "MAP", "JSON")):
        return f"CAST(to_json({raw}) AS VARCHAR)"
    return text_sql(raw)


def _select(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> str:
    wanted = COLUMNS[table]
    if file_format(path) == "jsonl":
        exprs = [
            f"{column_expr(kind, _json_field(name), 'VARCHAR')} AS {name}"
            for name, kind in wanted.items()
        ]
        return f"SELECT {', '.join(exprs)} FROM {_reader(path)} WHERE json_valid(json)"
    reader, present = _columns(con, path)
    exprs = []
    for name, kind in wanted.items():
        raw, sql_type = present.get(name, (None, None))
        exprs.append(f"{column_expr(kind, raw, sql_type)} AS {name}")
    return f"SELECT {', '.join(exprs)} FROM {reader}"


def _json_field(name: str) -> str:
    return f"json_extract_string(json, '$.{name}')"


def empty(table: str) -> str:
    exprs = [f"{column_expr(kind, None, None)} AS {name}" for name, kind in COLUMNS[table].items()]
    return f"SELECT {', '.join(exprs)} WHERE false"


def open_source(folder: Path, materialise: bool | None = None,
                files: dict[str, Path] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with one view per table (accounts, logins, …) over `folder`'s files,
    or over `files` (table -> file) when given."""

    files = files if files is not None else table_files(folder)
    if materialise is None:
        size = sum(p.stat().st_size for p in files.values())
        materialise = size < MATERIALISE_BELOW_BYTES
    con = connect()
    _fill(con, folder, files, materialise)
    return con


def open_cached(folder: Path, cache_dir: Path) -> duckdb.DuckDBPyConnection:
    """The link tables of a small folder from a DuckDB file in the cache, built once per
    version of its files (size and modification time), opened read-only afterwards."""
    import duckdb

    files = table_files(folder)
    if sum(p.stat().st_size for p in files.values()) >= MATERIALISE_BELOW_BYTES:
        return open_source(folder)
    key = "|".join([f"format {LINK_FORMAT}"] + [
        f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(files.values())])
    source = source_id(str(folder.resolve()))
    version = hashlib.sha256(key.encode()).hexdigest()[:32]
    db = cache_dir / "links" / entry_name("folder", source, version, ".duckdb")
    used(db)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        partial = db.with_name(f"{db.stem}.{os.getpid()}.partial")
        con = duckdb.connect(str(partial))
        con.execute(QUIET)
        try:
            con.execute("SET TimeZone = 'UTC'")
            _fill(con, folder, files, materialise=True)
        finally:
            con.close()
        os.replace(partial, db)  # another process may build the same file: last one wins
        supersede(db, "folder", source, ".duckdb")
    return open_read_only(db)


def open_read_only(path: Path, config: dict[str, Any] | None = None,
                   ) -> duckdb.DuckDBPyConnection:
    """A DuckDB file of link tables opened read-only, in UTC, without progress bars."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True, config=config or {})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(QUIET)
    return con


def _fill(con: duckdb.DuckDBPyConnection, folder: Path, files: dict[str, Path],
          materialise: bool) -> None:
    import duckdb

    for table in COLUMNS:
        path = files.get(table)
        query = _select(con, table, path) if path is not None else empty(table)
        kind = "TABLE" if materialise else "VIEW"
        try:
            con.execute(f"CREATE {kind} {table} AS {query}")
        except duckdb.Error as exc:
            where = path if path is not None else folder
            raise InputError(f"{where}: cannot be read ({str(exc).splitlines()[0]})") from None
    create_usage(con, "TABLE" if materialise else "VIEW")


def _detail(field: str) -> str:
    """One field of a JSON `detail`; NULL when detail is plain text."""
    value = text_sql(f"json_extract_string(detail, '$.{field}')")
    return f"CASE WHEN json_valid(detail) THEN {value} END"


USAGE_PARTS = (
    # (family, via, normalising stage, SQL of (uid, raw value, ts, org) rows)
    ("device_id", "device_id", plain_stage, "SELECT uid, device_id, ts, NULL FROM logins"),
    ("device_id", "device_id", plain_stage,
     "SELECT uid, device_id, ts, NULL FROM security_events"),
    ("device_id", "device_id", plain_stage,
     f"SELECT uid, {_detail('device_id')}, ts, NULL FROM security_events "
     "WHERE event = 'device_authorize'"),
    ("device_id", "device_id", plain_stage, "SELECT uid, device_id, ts, NULL FROM transactions"),
    ("ip", "ip", plain_stage, "SELECT uid, lower(ip), ts, as_org FROM logins"),
    ("ip", "ip", plain_stage, "SELECT uid, lower(ip), ts, NULL FROM security_events"),
    ("ip", "ip", plain_stage, "SELECT uid, lower(ip), ts, NULL FROM transactions"),
    ("email", "email", email_norm_stage, "SELECT uid, email, created_at, NULL FROM accounts"),
    ("email", "email", email_norm_stage,
     f"SELECT uid, {_detail('old')}, ts, NULL FROM security_events WHERE event = 'email_change'"),
    ("email", "email", email_norm_stage,
     f"SELECT uid, {_detail('new')}, ts, NULL FROM security_events WHERE event = 'email_change'"),
    ("phone", "phone", phone_norm_stage, "SELECT uid, phone, created_at, NULL FROM accounts"),
    ("phone", "phone", phone_norm_stage,
     f"SELECT uid, {_detail('old')}, ts, NULL FROM security_events WHERE event = 'phone_change'"),
    ("phone", "phone", phone_norm_stage,
     f"SELECT uid, {_detail('new')}, ts, NULL FROM security_events WHERE event = 'phone_change'"),
    ("address", "withdrawal_address", address_norm_stage,
     "SELECT uid, address, ts, NULL FROM transactions "
     "WHERE kind = 'withdrawal' AND coalesce(status, '') NOT IN ('failed', 'cancelled')"),
    ("address", "withdrawal_address", address_norm_stage,
     f"SELECT uid, {_detail('address')}, ts, NULL FROM security_events "
     "WHERE event = 'withdrawal_address_add'"),
    ("address", "deposit_address", address_norm_stage,
     "SELECT uid, address, ts, NULL FROM transactions "
     "WHERE kind = 'deposit' AND coalesce(status, '') NOT IN ('failed', 'cancelled')"),
)


def create_usage_agg(con: duckdb.DuckDBPyConnection) -> None:
    """`usage_agg` and `value_counts`, the tables a link store holds from `usage`.

    usage_agg: the uses grouped per (value, account), each row with its value's number
    (`vid`, the values numbered in (family, value) order) and how many accounts use the
    value. value_counts: one row per value, with its vid and its accounts. usage_agg is
    stored in (vid, uid, via) order, so a batch chunk finds the rows of the values its
    accounts use by joining on one integer rather than on two strings (the 10 M-sign-in
    data's 2.9 M rows: 0.59 s to 0.27 s per chunk of 250 accounts).
    """
    con.execute(
        "CREATE TEMP TABLE usage_grouped AS SELECT family, via, value, uid, "
        "min(first_seen) AS first_seen, max(last_seen) AS last_seen, sum(n) AS n, "
        "max(org) AS org FROM usage GROUP BY ALL")
    con.execute(
        "CREATE TABLE value_counts AS SELECT row_number() OVER (ORDER BY family, value) AS vid, "
        "family, value, count(DISTINCT uid) AS accounts FROM usage_grouped GROUP BY family, value")
    con.execute(
        "CREATE TABLE usage_agg AS SELECT u.*, c.vid, c.accounts FROM usage_grouped u "
        "JOIN value_counts c USING (family, value) ORDER BY c.vid, u.uid, u.via")
    con.execute("DROP TABLE usage_grouped")


def create_usage(con: duckdb.DuckDBPyConnection, kind: str = "VIEW") -> None:
    """`usage(family, via, value, uid, first_seen, last_seen, n, org)`: each use of a value.

    Raw uses have first_seen = last_seen and n = 1, so queries written with
    min/max/sum run unchanged on the pre-grouped table of the population build.
    """
    parts = []
    for family, via, stage, select in USAGE_PARTS:
        parts.append(
            f"SELECT '{family}' AS family, '{via}' AS via, v.* FROM ({stage(select)}) AS v "
            "WHERE v.uid IS NOT NULL AND v.value IS NOT NULL"
        )
    body = " UNION ALL ".join(parts)
    con.execute(
        f"CREATE {kind} usage AS SELECT family, via, value, uid, ts AS first_seen, "
        f"ts AS last_seen, 1 AS n, org FROM ({body})"
    )
    create_emails(con, kind)


def create_emails(con: duckdb.DuckDBPyConnection, kind: str = "VIEW") -> None:
    """`emails(uid, norm, created_at, local, stem, stem_accounts)` of the current addresses."""
    norm = email_norm_stage("SELECT uid, email, created_at, NULL FROM accounts")
    con.execute(
        f"CREATE OR REPLACE {kind} emails AS SELECT *, "
        "count(*) OVER (PARTITION BY stem) AS stem_accounts FROM ("
        "SELECT uid, norm, created_at, local, "
        "regexp_replace(local, '[0-9._-]', '', 'g') AS stem FROM ("
        "SELECT uid, norm, created_at, regexp_extract(norm, '(?s)^(.*)@([^@]*)$', 1) AS local "
        f"FROM (SELECT uid, value AS norm, ts AS created_at FROM ({norm})) "
        "WHERE strpos(norm, '@') > 0))"
    )
    if kind == "TABLE":
        # What query.LOOKALIKE_PAIRS_KEYED joins on: each local part long enough to be
        # matched one edit away, whole and with each of its characters left out.
        con.execute(
            "CREATE OR REPLACE TABLE email_keys AS "
            "SELECT uid, norm, local AS key FROM emails WHERE length(local) > 5 UNION ALL "
            "SELECT uid, norm, substr(local, 1, i - 1) || substr(local, i + 1) "
            "FROM emails, range(1, length(local) + 1) AS r(i) WHERE length(local) > 5"
        )
