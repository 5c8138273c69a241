"""Population-wide login figures for every account at once, from one DuckDB aggregate.

`FolderSource.population` scans all logins per account; here one GROUP BY gives,
per IP, device and session, the KeyStats of every value that more than one account
uses (or that other accounts' security events and transactions mention). Each
account's PopulationStats is then assembled from that index and its own rows, the
same figures the folder source would have counted for it.
"""

# SQL here is assembled from this module's constants only.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from acctsec.batch.records import OwnLogins
from acctsec.model import LOGIN_EVENTS, AccountRecords, KeyStats, PopulationStats
from acctsec.sources.files import file_format, sql_path
from acctsec.sources.parse import text

if TYPE_CHECKING:
    import duckdb

KINDS = (("ips", "ip"), ("devices", "device_id"), ("sessions", "session_id"),
         ("user_agents", "user_agent"))
SAMPLE = 25
POP_COLUMNS = ("raw_uid", "uid", "event", "ip", "device_id", "session_id", "user_agent")
_FAILED = ("login_failure", "mfa_failure")


class KeyAgg(NamedTuple):
    """KeyStats over every account, with one uid more in the sample (to drop one account).

    A named tuple, not a frozen dataclass: the index holds ~72,000 of them on 100k
    accounts, and each `investigate` on a large folder unpickles them all (0.17 s
    as tuples, 0.63 s as frozen dataclasses).
    """

    events: int
    accounts: int
    successes: int
    success_accounts: int
    failures: int
    failure_accounts: int
    sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Own:
    events: int = 0
    successes: int = 0
    failures: int = 0


@dataclass
class PopulationIndex:
    """The shared part of every account's PopulationStats."""

    rows: int = 0  # login rows that are not problems of the file itself
    accounts: int = 0  # distinct uids among them, stripped (an empty one counts)
    keys: dict[str, dict[str, KeyAgg]] = field(default_factory=dict)

    def size(self) -> int:
        return sum(len(v) for v in self.keys.values())

    def stats_for(self, records: AccountRecords, own: OwnLogins) -> PopulationStats:
        """What `FolderSource.population(population_query(records))` returns for this account."""
        from acctsec.service import population_query

        query = population_query(records)
        uid = records.account.uid
        wanted = {"ips": query.ips, "devices": query.devices, "sessions": query.sessions,
                  "user_agents": query.user_agents}
        out: dict[str, dict[str, KeyStats]] = {}
        for position, (kind, column) in enumerate(KINDS):
            strict = _own_counts((lg.event, getattr(lg, column)) for lg in records.logins)
            loose = _own_counts((row[0], row[position + 1]) for row in own.counted)
            found = {}
            for value in wanted[kind]:
                stats = _combine(self.keys.get(kind, {}).get(value), uid,
                                 loose.get(value, _Own()), strict.get(value, _Own()))
                if stats is not None:
                    found[value] = stats
            out[kind] = found
        has_raw = 1 if own.rows else 0
        return PopulationStats(
            total_logins=self.rows - own.rows + len(records.logins),
            total_accounts=self.accounts - has_raw + (1 if records.logins else 0),
            ips=out["ips"], devices=out["devices"], sessions=out["sessions"],
            user_agents=out["user_agents"],
        )


def _own_counts(pairs: Iterable[tuple[str, str | None]]) -> dict[str, _Own]:
    counts: dict[str, list[int]] = {}
    for event, value in pairs:
        if value is None:
            continue
        c = counts.setdefault(value, [0, 0, 0])
        c[0] += 1
        c[1] += event == "login_success"
        c[2] += event in _FAILED
    return {k: _Own(*v) for k, v in counts.items()}


def _combine(agg: KeyAgg | None, uid: str, loose: _Own, strict: _Own) -> KeyStats | None:
    """Everyone's figures without this account's raw rows, plus its valid logins."""
    if agg is None:
        agg = KeyAgg(0, 0, 0, 0, 0, 0, ())
        loose = _Own()  # an unshared value: only this account's rows, counted below
    events = agg.events - loose.events + strict.events
    if events <= 0:
        return None
    others = [u for u in agg.sample if u != uid]
    sample = sorted([*others, uid]) if strict.events else others
    return KeyStats(
        events=events,
        accounts=agg.accounts - (loose.events > 0) + (strict.events > 0),
        successes=agg.successes - loose.successes + strict.successes,
        success_accounts=agg.success_accounts - (loose.successes > 0) + (strict.successes > 0),
        failures=agg.failures - loose.failures + strict.failures,
        failure_accounts=agg.failure_accounts - (loose.failures > 0) + (strict.failures > 0),
        sample_uids=tuple(sample[:SAMPLE]),
    )


def _events_sql() -> str:
    return ", ".join(f"'{e}'" for e in sorted(LOGIN_EVENTS))


def aggregate(con: duckdb.DuckDBPyConnection, logins: str, extra_ips: str) -> PopulationIndex:
    """The index from a relation of (raw_uid, uid, event, ip, device_id, session_id) rows.

    `extra_ips` yields the IPs of security events and transactions: a value one
    account signed in from may be asked about by another account that only paid
    out from it, so those are kept even when one account uses them.
    """
    # One pass over the rows: per (value, account) counts of each kind, and the rows
    # per raw uid for the totals. Only these groups are kept, never the rows
    # themselves (a table of ten million rows took ~4 GB).
    keys_sql = ", ".join(f"({column}, uid)" for _, column in KINDS)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE __groups AS
    SELECT GROUPING({", ".join(c for _, c in KINDS)}, raw_uid) AS g,
           {", ".join(c for _, c in KINDS)}, uid, raw_uid, count(*) AS rows_all,
           count(*) FILTER (WHERE ok) AS n,
           count(*) FILTER (WHERE ok AND event = 'login_success') AS s,
           count(*) FILTER (WHERE ok AND event IN ('login_failure', 'mfa_failure')) AS f
    FROM (SELECT *, uid IS NOT NULL AND event IN ({_events_sql()}) AS ok FROM ({logins}))
    GROUP BY GROUPING SETS ({keys_sql}, (raw_uid))
    """)
    totals = con.execute(
        f"SELECT sum(rows_all), count(raw_uid) FROM __groups WHERE g = {_grouping_of('raw_uid')}"
    ).fetchone() or (0, 0)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __extra_ips AS SELECT DISTINCT ip FROM "
                f"({extra_ips}) WHERE ip IS NOT NULL")
    keys: dict[str, dict[str, KeyAgg]] = {kind: {} for kind, _ in KINDS}
    # One str object per uid across all samples (1.2 M sample entries name ~100,000
    # uids on 100k accounts): the pickle then stores each once, and every process
    # that loads the index holds ~60 MB less.
    uids: dict[str, str] = {}
    for kind, column in KINDS:
        for row in _key_rows(con, kind, column):
            c = [int(x) for x in row[1:7]]
            sample = tuple(uids.setdefault(u, u) for u in row[7])
            keys[kind][row[0]] = KeyAgg(c[0], c[1], c[2], c[3], c[4], c[5], sample)
    con.execute("DROP TABLE __groups")
    return PopulationIndex(int(totals[0] or 0), int(totals[1] or 0), keys)


def _grouping_of(column: str) -> int:
    """GROUPING(ip, device_id, session_id, user_agent, raw_uid) of the set keyed by `column`:
    a bit is set for each column the set does not group by."""
    order = [c for _, c in KINDS] + ["raw_uid"]
    return sum(1 << (len(order) - 1 - i) for i, c in enumerate(order) if c != column)


def _key_rows(con: duckdb.DuckDBPyConnection, kind: str, column: str) -> Iterator[Any]:
    extra = "OR key IN (SELECT ip FROM __extra_ips)" if kind == "ips" else ""
    sql = f"""
    WITH per_account AS (
        SELECT {column} AS key, uid, n, s, f FROM __groups
        WHERE g = {_grouping_of(column)} AND {column} IS NOT NULL AND n > 0),
    kept AS (SELECT key FROM per_account GROUP BY key HAVING count(*) >= 2 {extra})
    SELECT key, sum(n), count(*), sum(s), count(*) FILTER (WHERE s > 0),
           sum(f), count(*) FILTER (WHERE f > 0), list(uid ORDER BY uid)[1:{SAMPLE + 1}]
    FROM per_account SEMI JOIN kept USING (key) GROUP BY key
    """
    cursor = con.execute(sql)
    while True:
        chunk = cursor.fetchmany(50_000)
        if not chunk:
            return
        yield from chunk


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Lower-cased column name -> the quoted name as written in the file."""
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_path(path)})").fetchall()
    return {str(r[0]).lower(): '"' + str(r[0]).replace('"', '""') + '"' for r in rows}


def _parquet_logins(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    from acctsec.link.sql import lower_sql, strip_sql, text_sql

    present = _parquet_columns(con, path)

    def col(name: str) -> str:
        return text_sql(present[name]) if name in present else "CAST(NULL AS VARCHAR)"

    raw = (strip_sql(f"CAST({present['uid']} AS VARCHAR)") if "uid" in present
           else "CAST(NULL AS VARCHAR)")
    return (f"SELECT {raw} AS raw_uid, {col('uid')} AS uid, {lower_sql(col('event'))} AS event, "
            f"{col('ip')} AS ip, {col('device_id')} AS device_id, "
            f"{col('session_id')} AS session_id, {col('user_agent')} AS user_agent "
            f"FROM read_parquet({sql_path(path)})")


def _python_logins(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """The folder reader's rows (CSV, JSONL), cleaned as `sources.parse.text` cleans cells."""
    import pyarrow as pa

    from acctsec.sources.folder import read_columns

    schema = pa.schema([(c, pa.string()) for c in POP_COLUMNS])
    con.execute("CREATE OR REPLACE TEMP TABLE __pop_rows ("
                + ", ".join(f"{c} VARCHAR" for c in POP_COLUMNS) + ")")
    rows: list[tuple[str | None, ...]] = []

    def flush() -> None:
        columns = list(zip(*rows, strict=True)) or [() for _ in POP_COLUMNS]
        batch = pa.table([pa.array(c, pa.string()) for c in columns],  # noqa: F841
                         schema=schema)  # read by DuckDB below
        con.execute("INSERT INTO __pop_rows SELECT * FROM batch")
        rows.clear()

    clean = _Cleaned()
    fields = ("uid", "event", "ip", "device_id", "session_id", "user_agent")
    for raw, event, ip, device, session, agent in read_columns(path, fields):
        rows.append((None if raw is None else str(raw).strip(), clean(raw),
                     (clean(event) or "").lower(), clean(ip), clean(device), text(session),
                     clean(agent)))
        if len(rows) >= 100_000:
            flush()
    flush()
    return "SELECT * FROM __pop_rows"


class _Cleaned:
    """`text` of cells that repeat from row to row (uids, events, IPs, devices, user
    agents), worked out once per distinct string; at most LIMIT remembered."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.memo: dict[str, str | None] = {}

    def __call__(self, value: Any) -> str | None:
        if type(value) is not str:  # 1 == 1.0 == True as keys, not as text
            return text(value)
        try:
            return self.memo[value]
        except KeyError:
            if len(self.memo) >= self.LIMIT:
                self.memo.clear()
            found = self.memo[value] = text(value)
            return found


def _ips_of(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> str:
    from acctsec.link.sql import text_sql

    if file_format(path) == "parquet":
        present = _parquet_columns(con, path)
        if "ip" not in present:
            return "SELECT NULL AS ip WHERE false"
        return f"SELECT {text_sql(present['ip'])} AS ip FROM read_parquet({sql_path(path)})"
    import pyarrow as pa

    from acctsec.sources.folder import read_rows

    ips = sorted({ip for _, row in read_rows(path, lambda _: True)
                  if (ip := text(row.get("ip"))) is not None})
    found = pa.table({"ip": pa.array(ips, pa.string())})  # noqa: F841 - read by DuckDB
    con.execute(f"CREATE OR REPLACE TEMP TABLE __ips_{table} AS SELECT * FROM found")
    return f"SELECT ip FROM __ips_{table}"


def build_index(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> PopulationIndex:
    """The index of a folder source's files (Parquet in DuckDB, CSV/JSONL through Python)."""
    logins = files.get("logins")
    if logins is None:
        return PopulationIndex()
    relation = (_parquet_logins(con, logins) if file_format(logins) == "parquet"
                else _python_logins(con, logins))
    extra = [_ips_of(con, t, files[t]) for t in ("security_events", "transactions") if t in files]
    return aggregate(con, relation, " UNION ALL ".join(extra) or "SELECT NULL AS ip")
