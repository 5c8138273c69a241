"""The SQL source: the contract's tables in a SQLite or DuckDB file or a PostgreSQL database."""

# SQL here is built from quoted identifiers and this module's constants; every value
# that comes from the data or the user is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acctsec.errors import InputError
from acctsec.model import (
    LOGIN_EVENTS,
    Account,
    AccountRecords,
    KeyStats,
    Login,
    PopulationQuery,
    PopulationStats,
    RowProblem,
    RowRef,
)
from acctsec.sources.parse import BUILDERS, RowError, RowKept, parse_time, row_problem, text
from acctsec.sources.records import assemble
from acctsec.sources.sql_db import Database, Table, connect, quote
from acctsec.sources.tally import SAMPLE, KeyCounter

# A column `acctsec load` writes: the row's line in the file it was loaded from.
ROW_COLUMN = "_row"
KEY_COLUMNS = (("ips", "ip"), ("devices", "device_id"), ("sessions", "session_id"),
               ("user_agents", "user_agent"))
CHUNK = 500  # values per IN (...) list
OWNERS = 250  # accounts per populations() query (Database.values_per_query)
_EVENTS_SQL = ", ".join(f"'{e}'" for e in sorted(LOGIN_EVENTS))
_FAILURES_SQL = "'login_failure', 'mfa_failure'"


@dataclass
class _Collected:
    records: list[Any] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class SqlSource:
    """The five tables of spec/data-model.md in a database named by a URL."""

    def __init__(self, url: str, *, strict: bool = False, cache_dir: Path | None = None) -> None:
        self.url = url
        self.strict = strict
        self.cache_dir = cache_dir  # where the link tables are kept (link.database)
        self._links: Any = None
        self._path: Path | None = None  # the link tables' file, once named
        self._temporary: Path | None = None  # a store made without a cache dir, removed on close
        self.link_problem: str | None = None  # why accounts cannot be linked
        self.db: Database = connect(url)
        self.tables = self.db.tables()
        if "accounts" not in self.tables:
            raise InputError(f"source {self.name}: no accounts table")
        for name, table in self.tables.items():
            if name in BUILDERS and "uid" not in table.columns:
                raise InputError(f"source {self.name}: table {table.name} has no uid column")
        self._totals: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        return self.db.shown

    def close(self) -> None:
        self.db.close()
        if self._links is not None:
            self._links.con.close()
        if self._temporary is not None:
            import shutil

            shutil.rmtree(self._temporary, ignore_errors=True)

    def _store_path(self) -> Path:
        """Where this database's link tables go, named by its fingerprint (asked once:
        it counts every table's rows)."""
        from acctsec.link.database import cached_path

        if self._path is None:
            folder = self.cache_dir
            if folder is None:
                import tempfile

                folder = self._temporary = Path(tempfile.mkdtemp(prefix="acctsec-links-"))
            self._path = cached_path(self.db, self.tables, folder)
        return self._path

    def link_store_cached(self) -> bool:
        return self.cache_dir is not None and self._store_path().exists()

    def link_store(self, limits: dict[str, str] | None = None) -> Path:
        """The DuckDB file of this database's link tables: built from the whole database
        on first use, then kept in the cache dir until the data changes (without a cache
        dir, in a temporary directory removed by close())."""
        from acctsec.cachefiles import used
        from acctsec.link.database import build, forget_older_versions

        path = self._store_path()
        used(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            build(self.db, self.tables, path, limits)
            forget_older_versions(self.db, path)
        return path

    def link_builder(self) -> Any:
        """The account-linking query builder over the link tables, opened once; None when
        the tables could not be copied (link_problem says why)."""
        if self._links is None and self.link_problem is None:
            from acctsec.link.context import ContextBuilder
            from acctsec.link.sql import open_read_only

            try:
                store = self.link_store()
            except InputError as exc:
                self.link_problem = f"the link tables could not be copied: {exc}"
                return None
            self._links = ContextBuilder(open_read_only(store), "usage_agg")
        return self._links

    def _uid_sql(self, table: Table) -> str:
        column = table.columns["uid"]
        return quote(column.name) if column.is_text else self.db.as_text(column)

    def _key_sql(self, table: Table) -> str:
        if ROW_COLUMN in table.columns:
            return quote(table.columns[ROW_COLUMN].name)
        return self.db.row_key(table.name.lower()) or "NULL"

    def _rows(self, table: Table, uids: Sequence[str]) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """(uid, row number, raw row) of the uids' rows, each uid's in the table's order."""
        names = [n for n in table.columns if n != ROW_COLUMN]
        values = ", ".join(self.db.value(table.columns[n]) for n in names)
        key, uid = self._key_sql(table), self._uid_sql(table)
        order = f" ORDER BY {key}" if key != "NULL" else ""
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start:start + CHUNK]
            sql = (f"SELECT {values}, {key}, {uid} FROM {quote(table.name)} "
                   f"WHERE {uid} IN ({', '.join([self.db.param] * len(chunk))}){order}")
            numbers: dict[str, int] = {}
            for row in self.db.query(sql, chunk):
                who = str(row[-1])
                numbers[who] = number = numbers.get(who, 0) + 1
                line = row[-2] if isinstance(row[-2], int) else number
                yield who, line, dict(zip(names, row[:-2], strict=True))

    def _collect(self, table_name: str, uids: Sequence[str]) -> dict[str, _Collected]:
        out: dict[str, _Collected] = {}
        table = self.tables.get(table_name)
        if table is None:
            return out
        build = BUILDERS[table_name]
        for uid, line, row in self._rows(table, uids):
            collected = out.setdefault(uid, _Collected())
            try:
                collected.records.append(build(row, RowRef(table_name, line)))
            except RowError as exc:
                if self.strict:
                    raise InputError(f"{self.name} {table_name}:{line}: {exc}") from None
                collected.problems.append(row_problem(table_name, line, exc))
                if isinstance(exc, RowKept):
                    collected.records.append(exc.record)
        return out

    def account(self, uid: str) -> AccountRecords:
        found = self.accounts([uid])[uid.strip()]
        if isinstance(found, InputError):
            raise found
        return found

    def accounts(self, uids: Sequence[str]) -> dict[str, AccountRecords | InputError]:
        """account() of each uid (stripped), or why it has none; each table read once for
        all of them (a batch chunk)."""
        wanted = sorted({u.strip() for u in uids})
        read = {t: self._collect(t, wanted) for t in
                ("accounts", "logins", "security_events", "transactions", "alerts")}
        return {uid: self._assembled(uid, {t: r.get(uid, _Collected()) for t, r in read.items()})
                for uid in wanted}

    def _assembled(self, uid: str, parts: dict[str, _Collected]) -> AccountRecords | InputError:
        accounts = parts.pop("accounts")
        if not accounts.records:
            reason = "; ".join(str(p) for p in accounts.problems)
            detail = f" (its row was skipped: {reason})" if reason else ""
            return InputError(f"unknown uid {uid!r}: not in table accounts of {self.name}"
                              f"{detail}")
        problems = [p for c in (accounts, *parts.values()) for p in c.problems]
        account: Account = accounts.records[0]
        return assemble(account, {t: c.records for t, c in parts.items()}, problems)

    def uids(self) -> Iterator[str]:
        table = self.tables["accounts"]
        key = self._key_sql(table)
        order = f" ORDER BY {key}" if key != "NULL" else ""
        seen: set[str] = set()
        for (value,) in self.db.query(f"SELECT {self._uid_sql(table)} FROM "
                                      f"{quote(table.name)}{order}"):
            uid = text(value)
            if uid is not None and uid not in seen:
                seen.add(uid)
                yield uid

    def population(self, query: PopulationQuery) -> PopulationStats:
        """The same figures as the folder source, counted by the database."""
        table = self.tables.get("logins")
        if table is None:
            return PopulationStats()
        own = _Tallies()
        for login in query.own_logins:
            own.add_login(login, query)
        keys: dict[str, dict[str, KeyStats]] = {}
        for kind, column in KEY_COLUMNS:
            wanted = sorted(getattr(query, kind))
            others = self._key_stats(table, column, wanted, query) \
                if column in table.columns and wanted else {}
            keys[kind] = _merge(others, own.stats(kind))
        rows, accounts = self._population_totals(table, query)
        return PopulationStats(total_logins=rows, total_accounts=accounts, ips=keys["ips"],
                               devices=keys["devices"], sessions=keys["sessions"],
                               user_agents=keys["user_agents"])

    def populations(self, queries: Sequence[PopulationQuery]) -> list[PopulationStats]:
        """population() of each query (a batch chunk's accounts), reading the database
        once per kind of value for all of them instead of once per account."""
        table = self.tables.get("logins")
        if table is None or any(q.since or q.until for q in queries):
            return [self.population(q) for q in queries]
        if len(queries) > OWNERS:  # each query binds owners + CHUNK values
            return [stats for start in range(0, len(queries), OWNERS)
                    for stats in self.populations(queries[start:start + OWNERS])]
        owners = sorted({q.own_uid for q in queries if q.own_uid is not None})
        shared: dict[str, dict[str, _Shared]] = {}
        for kind, column in KEY_COLUMNS:
            values = sorted(set().union(*(getattr(q, kind) for q in queries)))
            shared[kind] = self._shared(table, column, values, owners) \
                if column in table.columns and values else {}
        mine = self._rows_of(table, owners)
        return [self._population_of(q, shared, 0 if q.own_uid is None else mine.get(q.own_uid, 0))
                for q in queries]

    def _population_of(self, query: PopulationQuery, shared: dict[str, dict[str, _Shared]],
                       mine: int) -> PopulationStats:
        own = _Tallies()
        for login in query.own_logins:
            own.add_login(login, query)
        keys: dict[str, dict[str, KeyStats]] = {}
        for kind, _ in KEY_COLUMNS:
            others = {}
            for value in sorted(getattr(query, kind)):
                found = shared[kind].get(value)
                stats = found.without(query.own_uid) if found is not None else None
                if stats is not None:
                    others[value] = stats
            keys[kind] = _merge(others, own.stats(kind))
        rows, accounts = self._totals_without(self.tables["logins"], query, mine)
        return PopulationStats(total_logins=rows, total_accounts=accounts, ips=keys["ips"],
                               devices=keys["devices"], sessions=keys["sessions"],
                               user_agents=keys["user_agents"])

    def _population_totals(self, table: Table, query: PopulationQuery) -> tuple[int, int]:
        """Logins and accounts: the others' rows in the table plus the account's own logins."""
        mine = 0
        if query.own_uid is not None:
            mine = self._rows_of(table, [query.own_uid]).get(query.own_uid, 0)
        return self._totals_without(table, query, mine)

    def _totals_without(self, table: Table, query: PopulationQuery, mine: int) -> tuple[int, int]:
        """The table's rows and accounts less the `mine` rows of the account's uid as stored,
        plus its own logins."""
        if self._totals is None:
            uid, name = self._uid_sql(table), quote(table.name)
            # The accounts counted in a subquery of their own: PostgreSQL hashes a DISTINCT
            # there on every core, where COUNT(DISTINCT …) sorts in one process (10 M
            # sign-ins: 1.6 s against 3.5 s, each investigation's figures included).
            ((rows, accounts),) = self.db.query(
                f"SELECT (SELECT COUNT(*) FROM {name}), "
                f"(SELECT COUNT(u) FROM (SELECT DISTINCT {uid} AS u FROM {name}) AS d)")
            self._totals = (int(rows), int(accounts))
        rows, accounts = self._totals
        rows -= mine
        accounts -= 1 if mine else 0
        return rows + len(query.own_logins), accounts + (1 if query.own_logins else 0)

    def _rows_of(self, table: Table, uids: Sequence[str]) -> dict[str, int]:
        """Rows per uid, compared as stored (a padded uid is another account's)."""
        uid = self._uid_sql(table)
        found: dict[str, int] = {}
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start:start + CHUNK]
            sql = (f"SELECT {uid}, COUNT(*) FROM {quote(table.name)} WHERE {uid} IN "
                   f"({', '.join([self.db.param] * len(chunk))}) GROUP BY {uid}")
            found.update((str(u), int(n)) for u, n in self.db.query(sql, chunk))
        return found

    def _key_stats(self, table: Table, column: str, wanted: Sequence[str],
                   query: PopulationQuery) -> dict[str, KeyStats]:
        found: dict[str, KeyStats] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            if query.since or query.until:
                found.update(self._key_stats_in_window(table, column, chunk, query))
            else:
                found.update(self._key_stats_counted(table, column, chunk, query.own_uid))
        return found

    def _matching(self, table: Table, column: str, values: Sequence[str],
                  own_uid: str | None, extra: str = "") -> tuple[str, list[Any]]:
        """A query yielding (v, u, e[, extra]) of others' rows holding one of the values."""
        p = self.db.param
        uid = self._uid_sql(table)
        event = self.db.as_text(table.columns["event"]) if "event" in table.columns else "NULL"
        where = f"{quote(table.columns[column].name)} IN ({', '.join([p] * len(values))})"
        params: list[Any] = list(values)
        if own_uid is not None:
            where += f" AND {uid} <> {p}"
            params.append(own_uid)
        sql = (f"SELECT {quote(table.columns[column].name)} AS v, {uid} AS u, "
               f"lower(trim({event})) AS e{extra} FROM {quote(table.name)} "
               f"WHERE {where} AND {uid} IS NOT NULL")
        return sql, params

    def _key_stats_counted(self, table: Table, column: str, values: Sequence[str],
                           own_uid: str | None) -> dict[str, KeyStats]:
        """One aggregate query: counts per value, and each value's first uids in order."""
        matching, params = self._matching(table, column, values, own_uid)
        u = self.db.sort_text("u")
        sql = (
            f"WITH m AS ({matching}), k AS (SELECT * FROM m WHERE e IN ({_EVENTS_SQL})) "
            "SELECT 'n', v, NULL, COUNT(*), COUNT(DISTINCT u), "
            "SUM(CASE WHEN e = 'login_success' THEN 1 ELSE 0 END), "
            "COUNT(DISTINCT CASE WHEN e = 'login_success' THEN u END), "
            f"SUM(CASE WHEN e IN ({_FAILURES_SQL}) THEN 1 ELSE 0 END), "
            f"COUNT(DISTINCT CASE WHEN e IN ({_FAILURES_SQL}) THEN u END) FROM k GROUP BY v "
            "UNION ALL SELECT 's', v, u, 0, 0, 0, 0, 0, 0 FROM "
            f"(SELECT v, u, ROW_NUMBER() OVER (PARTITION BY v ORDER BY {u}) AS r "
            f"FROM (SELECT DISTINCT v, u FROM k) AS d) AS s WHERE r <= {SAMPLE}")
        counts: dict[str, list[int]] = {}
        samples: dict[str, list[str]] = {}
        for part, value, uid, *numbers in self.db.query(sql, params):
            key = text(value)
            if key is None:
                continue
            if part == "n":
                counts[key] = [int(n or 0) for n in numbers]
            elif uid is not None:
                samples.setdefault(key, []).append(str(uid))
        return {key: _key_stats(numbers, samples.get(key, [])) for key, numbers in counts.items()}

    def _shared(self, table: Table, column: str, values: Sequence[str],
                owners: Sequence[str]) -> dict[str, _Shared]:
        """Per value, everyone's counts, its first uids in order and the owners' own counts:
        enough to give each owner the figures _key_stats_counted gives it."""
        u = self.db.sort_text("u")
        found: dict[str, _Shared] = {}
        size = self.db.values_per_query
        for start in range(0, len(values), size):
            matching, params = self._matching(table, column, values[start:start + size], None)
            owned = f"u IN ({', '.join([self.db.param] * len(owners))})" if owners else "1 = 0"
            sql = (
                f"WITH m AS ({matching}), k AS (SELECT * FROM m WHERE e IN ({_EVENTS_SQL})), "
                "g AS (SELECT v, u, COUNT(*) AS n, "
                "SUM(CASE WHEN e = 'login_success' THEN 1 ELSE 0 END) AS s, "
                f"SUM(CASE WHEN e IN ({_FAILURES_SQL}) THEN 1 ELSE 0 END) AS f "
                "FROM k GROUP BY v, u), "
                f"r AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY v ORDER BY {u}) AS r FROM g) "
                "SELECT 't', v, NULL, SUM(n), COUNT(*), SUM(s), "
                "SUM(CASE WHEN s > 0 THEN 1 ELSE 0 END), SUM(f), "
                "SUM(CASE WHEN f > 0 THEN 1 ELSE 0 END), 0 FROM g GROUP BY v "
                "UNION ALL SELECT 'u', v, u, n, 0, s, 0, f, 0, r FROM r "
                f"WHERE r <= {SAMPLE + 1} OR {owned}")
            for part, value, uid, *numbers, rank in self.db.query(sql, [*params, *owners]):
                key = text(value)
                if key is None:
                    continue
                entry = found.setdefault(key, _Shared())
                if part == "t":
                    entry.totals = [int(n or 0) for n in numbers]
                else:
                    entry.add(str(uid), int(numbers[0]), int(numbers[2]), int(numbers[4]),
                              int(rank))
        return found

    def _key_stats_in_window(self, table: Table, column: str, values: Sequence[str],
                             query: PopulationQuery) -> dict[str, KeyStats]:
        """With --since/--until every row's time is read as the folder source reads it."""
        if "ts" not in table.columns:
            return {}
        ts = self.db.value(table.columns["ts"])
        sql, params = self._matching(table, column, values, query.own_uid, f", {ts} AS t")
        tallies = _Tallies()
        for value, uid, event, when in self.db.query(sql, params):
            key, who = text(value), text(uid)
            if key is None or who is None or event not in LOGIN_EVENTS:
                continue
            try:
                at = parse_time(when)
            except RowError:
                continue
            if at is None or (query.since and at < query.since) or \
                    (query.until and at > query.until):
                continue
            tallies.add("keys", key, who, event)
        return tallies.stats("keys")


def _key_stats(numbers: list[int], sample: list[str]) -> KeyStats:
    events, accounts, successes, success_accounts, failures, failure_accounts = numbers
    return KeyStats(events, accounts, successes, success_accounts, failures, failure_accounts,
                    tuple(sorted(sample)))


class _Shared:
    """One value's figures over every account (a chunk's `_shared` query), from which
    each account's figures without its own rows are taken."""

    def __init__(self) -> None:
        self.totals = [0] * 6
        self.first: list[tuple[int, str]] = []  # (rank, uid) of the first SAMPLE + 1 uids
        self.counts: dict[str, tuple[int, int, int]] = {}  # uid -> events, successes, failures

    def add(self, uid: str, events: int, successes: int, failures: int, rank: int) -> None:
        self.counts[uid] = (events, successes, failures)
        if rank <= SAMPLE + 1:
            self.first.append((rank, uid))

    def without(self, uid: str | None) -> KeyStats | None:
        """The figures of the other accounts; None when no other account used the value."""
        events, accounts, successes, success_accounts, failures, failure_accounts = self.totals
        n, s, f = self.counts.get(uid, (0, 0, 0)) if uid is not None else (0, 0, 0)
        if events - n <= 0:
            return None
        sample = [u for _, u in sorted(self.first) if u != uid][:SAMPLE]
        return _key_stats([events - n, accounts - (n > 0), successes - s,
                           success_accounts - (s > 0), failures - f, failure_accounts - (f > 0)],
                          sample)


class _Tallies:
    """Per kind and value, counted in Python: the account's own logins, or rows in a window."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, KeyCounter]] = {}

    def add(self, kind: str, value: str, uid: str, event: str) -> None:
        bucket = self.kinds.setdefault(kind, {})
        counter = bucket.get(value)
        if counter is None:
            counter = bucket[value] = KeyCounter()
        counter.add(uid, event)

    def add_login(self, login: Login, query: PopulationQuery) -> None:
        if (query.since and login.ts < query.since) or (query.until and login.ts > query.until):
            return
        for kind, column in KEY_COLUMNS:
            value = getattr(login, column)
            if value is not None and value in getattr(query, kind):
                self.add(kind, value, login.uid, login.event)

    def stats(self, kind: str) -> dict[str, KeyStats]:
        return {value: t.stats() for value, t in self.kinds.get(kind, {}).items()}


def _merge(others: dict[str, KeyStats], own: dict[str, KeyStats]) -> dict[str, KeyStats]:
    """Figures of two disjoint sets of accounts (the others, and the account itself)."""
    merged = dict(others)
    for value, mine in own.items():
        theirs = merged.get(value)
        merged[value] = mine if theirs is None else _added(theirs, mine)
    return merged


def _added(a: KeyStats, b: KeyStats) -> KeyStats:
    return KeyStats(
        events=a.events + b.events, accounts=a.accounts + b.accounts,
        successes=a.successes + b.successes,
        success_accounts=a.success_accounts + b.success_accounts,
        failures=a.failures + b.failures, failure_accounts=a.failure_accounts + b.failure_accounts,
        sample_uids=tuple(sorted({*a.sample_uids, *b.sample_uids})[:SAMPLE]),
    )


def is_sql_url(value: str | None) -> bool:
    from acctsec.sources.sql_db import is_database_url

    return value is not None and is_database_url(value)

