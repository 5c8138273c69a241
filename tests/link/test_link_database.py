"""Link tables copied from a SQL source: the contexts a folder gives, rebuilt when data changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from acctsec.errors import InputError
from acctsec.link.context import ContextBuilder
from acctsec.sources.folder import FolderSource
from acctsec.sources.sql import SqlSource
from acctsec.sources.sql_load import load
from conftest import EXAMPLES
from sources.test_sql_support import broken_folder, raw_sqlite, store_tables

RING = ("10297", "10300")  # a fraud ring of the examples: shared device, payout, e-mails


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (EXAMPLES / "accounts.csv").exists():
        pytest.skip("examples/data has not been generated")
    path = tmp_path_factory.mktemp("db") / "ex.db"
    load(EXAMPLES, str(path))
    return path


@pytest.mark.parametrize("uid", [*RING, "10007"])
def test_contexts_equal_the_folder(loaded: Path, examples_dir: Path, tmp_path: Path,
                                   uid: str) -> None:
    sql = SqlSource(f"sqlite:///{loaded}", cache_dir=tmp_path)
    folder = FolderSource(examples_dir)
    mine, theirs = sql.link_builder().build(uid), folder.link_builder().build(uid)
    assert mine == theirs
    assert len(mine.edges) > 0
    sql.close()


def test_the_store_is_kept_until_the_data_changes(loaded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(loaded.read_bytes())
    url = f"sqlite:///{copy}"
    first = SqlSource(url, cache_dir=tmp_path / "cache")
    store = first.link_store()
    before = first.link_builder().build("10297")
    assert store.parent == tmp_path / "cache" / "links"
    first.close()
    again = SqlSource(url, cache_dir=tmp_path / "cache")
    assert again.link_store() == store and store.exists()
    again.close()

    # A changed e-mail leaves every row count as it was; the fingerprint still moves.
    with sqlite3.connect(copy) as con:
        con.execute("UPDATE accounts SET email = 'someone.else@example.org' WHERE uid = '10300'")
    changed = SqlSource(url, cache_dir=tmp_path / "cache")
    assert changed.link_store() != store
    after = changed.link_builder().build("10297")
    changed.close()
    lookalikes = {e.b for e in before.edges if e.via == "email_lookalike"}
    assert "10300" in lookalikes
    assert "10300" not in {e.b for e in after.edges if e.via == "email_lookalike"}


def test_without_a_cache_the_store_is_temporary(loaded: Path) -> None:
    sql = SqlSource(f"sqlite:///{loaded}")
    builder: ContextBuilder = sql.link_builder()
    assert builder.build("10297").edges
    folder = sql._temporary
    assert folder is not None and list(folder.rglob("*.duckdb"))
    sql.close()
    assert not folder.exists()


def test_a_cell_that_is_not_utf8_does_not_stop_linking(loaded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(loaded.read_bytes())
    with sqlite3.connect(copy) as con:
        con.execute("UPDATE logins SET device_id = x'ff41' WHERE uid = '10296'")
    sql = SqlSource(f"sqlite:///{copy}", cache_dir=tmp_path)
    assert sql.link_builder().build("10297").edges
    assert sql.link_problem is None
    sql.close()


def test_raw_text_cells_are_typed_as_the_folder_types_them(tmp_path: Path) -> None:
    """A database not made by `acctsec load`: every cell text, epoch times, junk."""
    data = broken_folder(tmp_path)
    sql = SqlSource(f"sqlite:///{raw_sqlite(data, tmp_path / 'raw.db')}", cache_dir=tmp_path)
    folder = FolderSource(data)
    for uid in ("1", "2"):
        assert sql.link_builder().build(uid) == folder.link_builder().build(uid)
    sql.close()


def test_a_table_that_fails_to_read_leaves_linking_not_checked(tmp_path: Path) -> None:
    from acctsec import service
    from acctsec.config import Settings

    path = tmp_path / "bad.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE accounts (uid TEXT, email TEXT)")
        con.execute("INSERT INTO accounts VALUES ('1', 'a@example.com'), ('2', 'b@example.com')")
        # Listed fine, fails when account 2's row is read: SQLite's integer overflow.
        con.execute("CREATE VIEW logins AS SELECT uid, CASE WHEN uid = '2' "
                    "THEN abs(-9223372036854775807 - 1) END AS ip FROM accounts")
    source = SqlSource(f"sqlite:///{path}", cache_dir=tmp_path)
    with pytest.raises(InputError, match="table logins: .*query failed: integer overflow"):
        source.link_store()
    assert not list((tmp_path / "links").glob("*")), "no half-written store is left"
    report = service.investigate(Settings(offline=True), source, "1")
    reasons = [n.reason for n in report.not_checked if n.check == "linking"]
    assert len(reasons) == 1 and "integer overflow" in reasons[0], reasons


def test_a_struct_detail_in_duckdb_is_read_as_json(tmp_path: Path) -> None:
    """An exchange's own DuckDB tables may keep `detail` as a STRUCT: the e-mail change
    in it still links the old and the new address."""
    import duckdb

    path = tmp_path / "own.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE accounts (uid VARCHAR, email VARCHAR)")
    con.execute("INSERT INTO accounts VALUES ('1', 'new@example.com')")
    con.execute("CREATE TABLE security_events (ts TIMESTAMP, uid VARCHAR, event VARCHAR, "
                "detail STRUCT(old VARCHAR, new VARCHAR))")
    con.execute("INSERT INTO security_events VALUES ('2026-10-01 10:00:00', '1', "
                "'email_change', {'old': 'old@example.com', 'new': 'new@example.com'})")
    con.close()
    source = SqlSource(f"duckdb:///{path}", cache_dir=tmp_path / "cache")
    store = duckdb.connect(str(source.link_store()), read_only=True)
    values = {r[0] for r in store.execute(
        "SELECT value FROM usage_agg WHERE family = 'email'").fetchall()}
    store.close()
    source.close()
    assert values == {"old@example.com", "new@example.com"}


def test_a_duckdb_source_copied_by_duckdb_equals_a_copy_row_by_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DuckDB file is attached and copied by DuckDB itself; its tables equal those read
    row by row through Python, even where the source's session shows times in another
    zone (its sign-in times are TIMESTAMP WITH TIME ZONE)."""
    import acctsec.link.database as database

    load(EXAMPLES, str(tmp_path / "ex.duckdb"))
    url = f"duckdb:///{tmp_path / 'ex.duckdb'}"
    attached = SqlSource(url, cache_dir=tmp_path / "attached").link_store()
    monkeypatch.setattr(database, "_attached", lambda con, db: None)
    source = SqlSource(url, cache_dir=tmp_path / "rows")
    source.db.connection.execute("SET TimeZone = 'Asia/Kolkata'")
    by_rows = source.link_store()
    source.close()
    contents = [store_tables(attached), store_tables(by_rows)]
    assert set(contents[0]) >= {"usage_agg", "value_counts", "emails", "transactions"}
    assert all(contents[0][n] for n in ("usage_agg", "emails", "transactions"))
    assert contents[0] == contents[1]
