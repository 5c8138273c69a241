"""The whole population's link graph, built once in DuckDB for `link --all` and batch runs."""

# SQL here is assembled from this package's constants only.
# ruff: noqa: S608

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.link.context import ContextBuilder
from acctsec.link.model import LinkContext
from acctsec.link.query import hub_case
from acctsec.link.sql import (
    create_emails,
    create_usage_agg,
    open_source,
    value_ok_sql,
)
from acctsec.link.weights import IpClassifier

if TYPE_CHECKING:
    import duckdb

# Families whose shared values make clusters: one hand behind the accounts.
# IPs are left out (households, carriers), and so are deposit sources (hot wallets).
CLUSTER_FAMILIES = ("device_id", "email", "phone", "address")


@dataclass(frozen=True, slots=True)
class GraphStats:
    accounts: int
    uses: int  # (value, account) pairs after grouping
    shared_values: int  # values used by 2 .. hub-limit accounts
    hubs: int
    pairs: int  # account pairs joined by a cluster family
    seconds: dict[str, float] = field(default_factory=dict)


class LinkGraph:
    """Every account's links, pre-grouped; `context(uid)` answers from it without re-reading."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stats: GraphStats,
                 ip_classifier: IpClassifier | None = None) -> None:
        self.con = con
        self.stats = stats
        self._builder = ContextBuilder(con, "usage_agg", ip_classifier)

    def context(self, uid: str, depth: int = 1) -> LinkContext:
        return self._builder.build(uid, depth)

    def clusters(self, min_size: int = 2) -> list[list[str]]:
        """Groups of accounts joined by devices, mailboxes, phones or payout addresses."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                parent[x] = parent.get(parent[x], parent[x])
                x = parent[x]
            return x

        for a, b in self.con.execute("SELECT a, b FROM pairs").fetchall():
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        groups: dict[str, list[str]] = {}
        for uid in parent:
            groups.setdefault(find(uid), []).append(uid)
        out = [sorted(g) for g in groups.values() if len(g) >= min_size]
        return sorted(out, key=lambda g: (-len(g), g[0]))

    def close(self) -> None:
        self.con.close()


def build_link_graph(source_dir: Path, ip_classifier: IpClassifier | None = None,
                     limits: dict[str, str] | None = None,
                     files: dict[str, Path] | None = None) -> LinkGraph:
    """Groups every use of every linkable value once; hubs are counted, not paired.

    `limits` are DuckDB settings (memory_limit, temp_directory) for the connection:
    past the memory limit, grouping spills to the temporary directory. `files`: the
    table files to read instead of the folder's (open_source).
    """
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    con = open_source(source_dir, materialise=False, files=files)
    for name, value in (limits or {}).items():
        con.execute(f"SET {name} = '{value.replace(chr(39), chr(39) * 2)}'")
    for table in ("accounts", "transactions", "security_events", "alerts"):
        con.execute(f"CREATE TABLE {table}_t AS SELECT * FROM {table}")
        con.execute(f"DROP VIEW {table}")
        con.execute(f"ALTER TABLE {table}_t RENAME TO {table}")
    con.execute("DROP VIEW emails")
    create_emails(con, "TABLE")
    seconds["load"] = time.perf_counter() - start
    mark = time.perf_counter()
    create_usage_agg(con)
    seconds["group"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _pairs(con)
    seconds["pairs"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - start
    return LinkGraph(con, _stats(con, seconds), ip_classifier)


def _pairs(con: duckdb.DuckDBPyConnection) -> None:
    families = ", ".join(f"'{f}'" for f in CLUSTER_FAMILIES)
    con.execute(f"""
    CREATE TABLE pairs AS
    WITH g AS (
        SELECT DISTINCT u.family, u.value, u.uid FROM usage_agg u
        JOIN value_counts c USING (family, value)
        WHERE u.family IN ({families}) AND c.accounts BETWEEN 2 AND {hub_case()}
          AND (u.family <> 'address' OR u.via = 'withdrawal_address')
          AND {value_ok_sql('u.family', 'u.value')})
    SELECT DISTINCT g1.uid AS a, g2.uid AS b, g1.family, g1.value
    FROM g g1 JOIN g g2 ON g1.family = g2.family AND g1.value = g2.value AND g1.uid < g2.uid
    """)


def _stats(con: duckdb.DuckDBPyConnection, seconds: dict[str, float]) -> GraphStats:
    def one(sql: str) -> int:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    return GraphStats(
        accounts=one("SELECT count(*) FROM accounts"),
        uses=one("SELECT count(*) FROM usage_agg"),
        shared_values=one(f"SELECT count(*) FROM value_counts WHERE accounts BETWEEN 2 AND "
                          f"{hub_case()}"),
        hubs=one(f"SELECT count(*) FROM value_counts WHERE accounts > {hub_case()}"),
        pairs=one("SELECT count(*) FROM pairs"),
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )
