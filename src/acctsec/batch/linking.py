"""Account linking for batch runs: the population's link graph built once, asked per account."""

# SQL here is assembled from this module's constants and quoted file paths only.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.link import query
from acctsec.link.query import Queries, Row
from acctsec.link.sql import open_read_only, value_ok_sql
from acctsec.sources.files import sql_path

if TYPE_CHECKING:
    import duckdb

    from acctsec.link.context import ContextBuilder
    from acctsec.link.model import LinkContext

STORE_TABLES = ("accounts", "transactions", "security_events", "alerts", "usage_agg",
                "value_counts", "emails", "email_keys")


def build_link_store(folder: Path, path: Path, limits: dict[str, str] | None = None,
                     files: dict[str, Path] | None = None) -> Path:
    """`build_link_graph`'s tables saved to a DuckDB file every worker opens read-only.
    `files`: the table files to read instead of the folder's (the CSV copies)."""
    from acctsec.link.graph import build_link_graph

    graph = build_link_graph(folder, limits=limits, files=files)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # several runs may build it
    tmp.unlink(missing_ok=True)
    try:
        con = graph.con
        con.execute(f"ATTACH {sql_path(tmp)} AS store")
        for table in STORE_TABLES:
            con.execute(f"CREATE TABLE store.{table} AS SELECT * FROM {table}")
        con.execute("DETACH store")
    finally:
        graph.close()
    os.replace(tmp, path)
    return path


class Linker:
    """One read-only connection to the link store and a ContextBuilder over it, per worker.

    Before each chunk, the chunk's link questions are asked once for all its accounts
    (ChunkQueries); the answers are the ones the whole graph gives.
    """

    def __init__(self, store: Path, memory_limit: str = "256MB") -> None:
        # Without a limit DuckDB may cache up to 80% of RAM of the store's blocks.
        self.con: duckdb.DuckDBPyConnection = open_read_only(
            store, {"memory_limit": memory_limit, "threads": 1})
        self._builder: ContextBuilder | None = None
        self._total: int | None = None

    def prepare(self, uids: Sequence[str]) -> None:
        from acctsec.link.context import ContextBuilder

        asked = ChunkQueries(self.con, "usage_agg", uids, self._total)
        self._total = asked.total_accounts()
        self._builder = ContextBuilder(self.con, "usage_agg", queries=asked)

    def context(self, uid: str) -> LinkContext:
        """The depth-1 link context `service.link_context` builds for a folder source."""
        if self._builder is None:
            raise RuntimeError("Linker.prepare was not called")
        return self._builder.build(uid, depth=1)

    def close(self) -> None:
        self.con.close()


class ChunkQueries(Queries):
    """A chunk's link questions answered from rows fetched for all its accounts at once.

    Each answer is the one the SQL of `link.query` gives for the same accounts: the
    rows are fetched with that SQL (or its chunk-wide form) and picked out here in
    the same order. Questions about other accounts go to the database.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, usage: str, uids: Sequence[str],
                 total: int | None = None) -> None:
        super().__init__(con, usage)
        self._total = total
        chunk = sorted(set(uids))
        self.chunk = frozenset(chunk)
        # The hits of query.shared_values for every value of the chunk, with how many
        # accounts use the value (counted once for the store); of a hub value, only the
        # chunk's own rows. usage_agg is grouped per (value, uid, via) already and sorted
        # by value number (link.sql.create_usage_agg): vid order is (family, value) order.
        uses = con.execute(f"""
            WITH wanted AS (SELECT DISTINCT vid FROM {usage} WHERE uid IN
                            (SELECT unnest($uids::VARCHAR[]))
                            AND {value_ok_sql('family', 'value')})
            SELECT family, via, value, uid, first_seen, last_seen, n, org, accounts
            FROM {usage} SEMI JOIN wanted USING (vid)
            WHERE accounts <= {query.hub_case()} OR uid IN (SELECT unnest($uids::VARCHAR[]))
            ORDER BY vid, uid, via""", {"uids": chunk}).fetchall()
        # Each value's rows, in the order query.shared_values gives them, and the values
        # of each account.
        self._users_of: dict[tuple[str, str], list[Row]] = {}
        self._values_of: dict[str, list[tuple[str, str]]] = {}
        for row in uses:
            key = (row[0], row[2])
            self._users_of.setdefault(key, []).append(row)
            self._values_of.setdefault(row[3], []).append(key)
        self._lookalikes = _by_first(con.execute(f"""
            SELECT * EXCLUDE (k) FROM (
                SELECT *, row_number() OVER (PARTITION BY uid ORDER BY {query.LOOKALIKE_COLUMNS})
                AS k FROM ({query.lookalike_pairs(con)}))
            WHERE k <= {query.LOOKALIKE_LIMIT} ORDER BY {query.LOOKALIKE_ORDER}
            """, {"uids": chunk}).fetchall())
        money = query.money_links(con, chunk)
        referrals = query.referrals(con, chunk)
        self._money = _index(money, lambda r: [str(r[0]), str(r[1])])
        self._referrals = _index(referrals, lambda r: [str(r[0]), str(r[1])])
        members = set(chunk) | {r[3] for r in uses}
        members |= {str(r[i]) for r in (*money, *referrals) for i in (0, 1)}
        members |= {r[1] for rows in self._lookalikes.values() for r in rows}
        self.known = frozenset(members)
        self._accounts = _by_first(query.account_rows(con, members))
        self._sensitive = _by_first(query.sensitive_events(con, members))
        self._alerts = _by_first(query.alert_rows(con, members))

    def shared_values(self, uids: Sequence[str]) -> list[Row]:
        wanted = set(uids)
        if not wanted <= self.chunk:
            return super().shared_values(uids)
        rows: list[Row] = []
        for key in sorted({key for u in wanted for key in self._values_of.get(u, ())}):
            users = self._users_of[key]
            if users[0][8] <= query.HUB_LIMIT.get(key[0], 50):
                rows += users
            else:
                rows += [r for r in users if r[3] in wanted]
        return rows

    def lookalike_emails(self, uids: Sequence[str]) -> list[Row]:
        if len(uids) != 1 or uids[0] not in self.chunk:
            return super().lookalike_emails(uids)
        return self._lookalikes.get(uids[0], [])

    def money_links(self, uids: Sequence[str]) -> list[Row]:
        if not set(uids) <= self.chunk:
            return super().money_links(uids)
        return _either(self._money, uids, key=lambda r: (r[0], r[1], r[2]))

    def referrals(self, uids: Sequence[str]) -> list[Row]:
        if not set(uids) <= self.chunk:
            return super().referrals(uids)
        return _either(self._referrals, uids, key=lambda r: (r[0], r[1]))

    def referrer(self, uid: str) -> str | None:
        if uid not in self.known:
            return super().referrer(uid)
        return next((str(r[6]) for r in self._accounts.get(uid, ()) if r[6] is not None), None)

    def account_rows(self, uids: Iterable[str]) -> list[Row]:
        return self._by_uid(self._accounts, uids) if set(uids) <= self.known \
            else super().account_rows(uids)

    def sensitive_events(self, uids: Iterable[str]) -> list[Row]:
        return self._by_uid(self._sensitive, uids) if set(uids) <= self.known \
            else super().sensitive_events(uids)

    def alert_rows(self, uids: Iterable[str]) -> list[Row]:
        return self._by_uid(self._alerts, uids) if set(uids) <= self.known \
            else super().alert_rows(uids)

    @staticmethod
    def _by_uid(index: dict[Any, list[Row]], uids: Iterable[str]) -> list[Row]:
        """The rows of `uids` as queries ordered by uid return them."""
        return [r for u in sorted(set(uids)) for r in index.get(u, ())]


def _index(rows: Iterable[Row], keys: Callable[[Row], list[Any]],
           value: Callable[[Row], Any] = lambda r: r) -> dict[Any, list[Any]]:
    """Rows (or `value` of them) under each of their keys, in the order given."""
    out: dict[Any, list[Any]] = {}
    for row in rows:
        for key in keys(row):
            out.setdefault(key, []).append(value(row))
    return out


def _by_first(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows under the uid in their first column, in the order given."""
    return _index(rows, lambda r: [str(r[0])])


def _either(index: dict[Any, list[Row]], uids: Sequence[str],
            key: Callable[[Row], Any]) -> list[Row]:
    """Rows with one of `uids` on either side, once each, in the query's order."""
    found = {id(r): r for u in set(uids) for r in index.get(u, ())}
    return sorted(found.values(), key=key)
