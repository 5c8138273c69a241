"""Account linking for batch runs: the population's link graph built once, asked per account."""

# SQL here is assembled from this module's constants and quoted file paths only.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.batch.rows import quote

if TYPE_CHECKING:
    import duckdb

    from acctsec.link.context import ContextBuilder
    from acctsec.link.model import LinkContext

STORE_TABLES = ("accounts", "transactions", "security_events", "alerts", "usage_agg", "emails")


def build_link_store(folder: Path, path: Path) -> Path:
    """`build_link_graph`'s tables saved to a DuckDB file every worker opens read-only."""
    from acctsec.link.graph import build_link_graph

    graph = build_link_graph(folder)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = graph.con
        con.execute(f"ATTACH {quote(tmp)} AS store")
        for table in STORE_TABLES:
            con.execute(f"CREATE TABLE store.{table} AS SELECT * FROM {table}")
        con.execute("DETACH store")
    finally:
        graph.close()
    os.replace(tmp, path)
    return path


class Linker:
    """One read-only connection to the link store and a ContextBuilder over it, per worker.

    Before each chunk, the uses of the values the chunk's accounts hold are copied
    into a small temporary table, so each account's context query scans that, not
    the whole population's uses; every user of those values is in it, so the
    contexts are the ones the whole graph gives.
    """

    def __init__(self, store: Path) -> None:
        import duckdb

        self.con: duckdb.DuckDBPyConnection = duckdb.connect(str(store), read_only=True)
        self.con.execute("SET TimeZone = 'UTC'")
        self._builder: ContextBuilder | None = None

    def prepare(self, uids: Sequence[str]) -> None:
        from acctsec.link.context import ContextBuilder
        from acctsec.link.sql import device_ok_sql

        self.con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_chunk AS
        SELECT u.* FROM usage_agg u SEMI JOIN (
            SELECT DISTINCT family, value FROM usage_agg
            WHERE uid IN (SELECT unnest($uids::VARCHAR[]))
              AND (family <> 'device_id' OR {device_ok_sql('value')})) m
        ON u.family = m.family AND u.value = m.value
        """, {"uids": list(uids)})
        self._builder = ContextBuilder(self.con, "usage_chunk")

    def context(self, uid: str) -> LinkContext:
        """The depth-1 link context `service.link_context` builds for a folder source."""
        if self._builder is None:
            raise RuntimeError("Linker.prepare was not called")
        return self._builder.build(uid, depth=1)

    def close(self) -> None:
        self.con.close()
