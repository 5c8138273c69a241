"""The SQL source and `acctsec load` against a real PostgreSQL server (ci/postgres.sh).

Skipped without ACCTSEC_TEST_PG; with CI=true a missing server fails instead.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from acctsec.errors import InputError
from acctsec.service import population_query
from acctsec.sources.folder import FolderSource
from acctsec.sources.sql import SqlSource
from acctsec.sources.sql_load import load
from sources.test_sql_support import SAMPLE_UIDS, broken_folder, comparable, store_tables


@pytest.fixture(scope="module")
def server() -> str:
    url = os.environ.get("ACCTSEC_TEST_PG", "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but ACCTSEC_TEST_PG is not set: ci/postgres.sh could not start "
                        "PostgreSQL (see its message above)")
        pytest.skip("no PostgreSQL server: run the tests through `bash ci/postgres.sh …` or set "
                    "ACCTSEC_TEST_PG=postgresql://…")
    return url


def in_schema(server: str, schema: str) -> str:
    joiner = "&" if "?" in server else "?"
    return f"{server}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def schema_url(server: str) -> Iterator[str]:
    """A URL whose tables live in a fresh schema, dropped afterwards."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{name}"')
    yield in_schema(server, name)
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f'DROP SCHEMA "{name}" CASCADE')


def test_loaded_examples_equal_the_folder(schema_url: str, examples_dir: Path) -> None:
    result = load(examples_dir, schema_url, "postgresql")
    assert result.rows["accounts"] == 300 and not result.problems
    folder, sql = FolderSource(examples_dir), SqlSource(schema_url)
    for uid in SAMPLE_UIDS:
        mine, theirs = folder.account(uid), sql.account(uid)
        assert comparable(theirs) == comparable(mine), uid
        query = population_query(mine)
        assert sql.population(query) == folder.population(query), uid
    assert list(sql.uids()) == list(folder.uids())
    # a batch chunk's figures, asked at once, are each account's own
    queries = [population_query(sql.account(uid)) for uid in sql.uids()]
    assert sql.populations(queries) == [sql.population(q) for q in queries]


def test_investigate_and_load_from_the_command_line(schema_url: str, examples_dir: Path,
                                                    tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSEC_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "acctsec", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)

    assert run("load", str(examples_dir), schema_url).returncode == 0
    again = run("load", str(examples_dir), schema_url)
    assert again.returncode == 1 and "--replace" in again.stderr
    assert run("load", str(examples_dir), schema_url, "--replace").returncode == 0
    import json

    by_sql = run("investigate", "10007", "--source", schema_url, "--format", "json")
    by_folder = run("investigate", "10007", "--source", str(examples_dir), "--format", "json")
    assert by_sql.returncode == 0, by_sql.stderr
    assert json.loads(by_sql.stdout)["verdict"] == json.loads(by_folder.stdout)["verdict"]
    assert run("investigate", "nobody", "--source", schema_url).returncode == 1


def test_a_failed_load_leaves_the_database_as_it_was(schema_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from acctsec.sources import sql_load

    data = broken_folder(tmp_path)
    load(data, schema_url, "postgresql")
    before = comparable(SqlSource(schema_url).account("1"))
    real, calls = sql_load._pg_table, []

    def failing(con: object, table: sql_load.LoadedTable) -> None:
        calls.append(table.name)
        if len(calls) == 3:
            raise InputError("simulated failure")
        real(con, table)

    monkeypatch.setattr(sql_load, "_pg_table", failing)
    with pytest.raises(InputError, match="simulated"):
        load(data, schema_url, "postgresql", replace=True)
    assert comparable(SqlSource(schema_url).account("1")) == before


def test_broken_rows_are_not_loaded_and_hostile_text_survives(schema_url: str,
                                                              tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    assert len(load(data, schema_url, "postgresql").problems) == 6
    mine, theirs = FolderSource(data).account("1"), SqlSource(schema_url).account("1")
    assert comparable(theirs, problems=False) == comparable(mine, problems=False)
    assert "\x1b[31m" in (theirs.account.email or "")


def test_accounts_are_linked_as_in_the_folder(schema_url: str, examples_dir: Path,
                                              tmp_path: Path) -> None:
    """The link tables are copied from the server once (a server-side cursor) and
    rebuilt after an UPDATE, which leaves every row count as it was."""
    import time

    import psycopg

    load(examples_dir, schema_url, "postgresql")
    sql, folder = SqlSource(schema_url, cache_dir=tmp_path), FolderSource(examples_dir)
    for uid in ("10297", "10007"):
        assert sql.link_builder().build(uid) == folder.link_builder().build(uid), uid
    store = sql.link_store()
    sql.close()
    with psycopg.connect(schema_url, autocommit=True) as con:
        con.execute("UPDATE accounts SET email = 'someone.else@example.org' WHERE uid = '10300'")
    deadline = time.monotonic() + 15  # the server publishes its change counts within seconds
    while True:
        again = SqlSource(schema_url, cache_dir=tmp_path)  # a source keeps its first answer
        rebuilt = again.link_store()
        again.close()
        if rebuilt != store or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert rebuilt != store


def test_the_link_tables_read_by_copy_equal_those_read_row_by_row(
        schema_url: str, examples_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server writes the link tables' rows as CSV (COPY), in files DuckDB reads one
    by one while the next is written; the tables equal those read row by row through
    Python, hostile text included: quotes, commas, line breaks, backslashes, COPY's own
    markers."""
    import psycopg

    import acctsec.link.database as database
    from acctsec.sources.sql_db import PostgresDatabase

    load(examples_dir, schema_url, "postgresql")
    hostile = ['a"b,c\nd@example.com', "\r\n", "", "\\N", "\\.", " padded ", "x\\,y\x1b[31m",
               "日本語 ,\"quoted\"", "=1+2"]
    with psycopg.connect(schema_url, autocommit=True) as con:
        for uid, text in zip(("10001", "10002", "10003", "10004", "10005", "10006", "10007",
                              "10008", "10009"), hostile, strict=True):
            con.execute("UPDATE accounts SET email = %s WHERE uid = %s", (text, uid))
            con.execute("UPDATE logins SET user_agent = %s, device_id = %s WHERE uid = %s",
                        (text, text, uid))
        con.execute("UPDATE logins SET user_agent = NULL WHERE uid = '10010'")
        # most line breaks of the CSV inside values
        con.execute("UPDATE logins SET device_id = repeat(E'line\\n', 30) || uid "
                    "WHERE uid BETWEEN '10100' AND '10199'")
    copied: list[str] = []
    real_rows = PostgresDatabase.csv_rows

    def csv_rows(self: PostgresDatabase, sql: str) -> Iterator[bytes]:
        copied.append(sql)
        return real_rows(self, sql)

    monkeypatch.setattr(PostgresDatabase, "csv_rows", csv_rows)
    monkeypatch.setattr(database, "CSV_PART", 4096)  # the sign-ins in dozens of files
    by_copy = SqlSource(schema_url, cache_dir=tmp_path / "copy").link_store()
    assert len(copied) == 5  # every table by COPY
    assert not list((tmp_path / "copy" / "links").glob("*.partial"))
    monkeypatch.setattr(PostgresDatabase, "reads_csv", lambda self: False)
    by_rows = SqlSource(schema_url, cache_dir=tmp_path / "rows").link_store()
    contents = [store_tables(by_copy), store_tables(by_rows)]
    assert set(contents[0]) >= {"usage_agg", "value_counts", "emails", "transactions"}
    assert all(contents[0][n] for n in ("usage_agg", "emails", "transactions", "accounts"))
    emails = {r[1] for r in contents[0]["accounts"]}
    # typed as a CSV folder's cells are: stripped, and empty as missing
    assert {'a"b,c\nd@example.com', "padded", "\\N", "=1+2", None} <= emails
    assert contents[0] == contents[1]


def test_a_table_that_fails_while_copied_leaves_nothing_behind(schema_url: str,
                                                               tmp_path: Path) -> None:
    """The server stops the COPY part-way (a row it cannot compute): the error names the
    table and the server's reason, and neither the CSV nor a half-made store is left."""
    import psycopg

    with psycopg.connect(schema_url, autocommit=True) as con:
        con.execute("CREATE TABLE accounts (uid TEXT, email TEXT)")
        con.execute("INSERT INTO accounts SELECT g::text, 'u' || g || '@example.com' "
                    "FROM generate_series(1, 5000) AS g")
        # rows 1-999 are written, then the first four-digit uid divides by zero
        con.execute("CREATE VIEW logins AS SELECT uid, "
                    "(1 / (length(uid) - 4))::text AS ip FROM accounts")
    source = SqlSource(schema_url, cache_dir=tmp_path)
    with pytest.raises(InputError, match="table logins: .*division by zero"):
        source.link_store()
    assert source.db.query("SELECT 1") == [(1,)], "the connection is still usable"
    source.close()
    assert not list((tmp_path / "links").glob("*")), "no CSV or half-made store is left"


def test_a_line_break_in_the_first_row_is_read_and_a_huge_row_read_row_by_row(
        schema_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB is told COPY's line ending: left to guess, a \\r inside the quotes of the
    CSV's first row made it fail. A row longer than its reader takes sends that table,
    and only that one, to the row-by-row copy; both stores are the row-by-row one."""
    import psycopg

    import acctsec.link.database as database
    from acctsec.sources.sql_db import PostgresDatabase

    with psycopg.connect(schema_url, autocommit=True) as con:
        con.execute("CREATE TABLE accounts (uid TEXT, email TEXT)")
        con.execute("INSERT INTO accounts VALUES ('1', E'first\\r\\nline'), ('2', E'a\\rb'), "
                    "('3', 'c@example.com')")
        con.execute("CREATE TABLE logins (uid TEXT, device_id TEXT)")
        con.execute("INSERT INTO logins VALUES ('1', 'short'), ('2', repeat('x', 5000))")
    streamed: list[str] = []
    real_stream = database._stream

    def stream(con: object, db: object, select: str, raw: str, present: list[str]) -> None:
        streamed.append(raw)
        real_stream(con, db, select, raw, present)  # type: ignore[arg-type]

    monkeypatch.setattr(database, "_stream", stream)
    monkeypatch.setattr(database, "CSV_LINE", 1024)
    by_copy = store_tables(SqlSource(schema_url, cache_dir=tmp_path / "copy").link_store())
    assert streamed == ["raw_logins"]
    assert not list((tmp_path / "copy" / "links").glob("*.partial"))
    monkeypatch.setattr(PostgresDatabase, "reads_csv", lambda self: False)
    by_rows = store_tables(SqlSource(schema_url, cache_dir=tmp_path / "rows").link_store())
    assert {"first\r\nline", "a\rb"} <= {r[1] for r in by_copy["accounts"]}
    assert by_copy == by_rows
