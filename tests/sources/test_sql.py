"""The SQL source gives the folder source's records, problems and population figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec.errors import DependencyError, InputError
from acctsec.service import population_query
from acctsec.sources.folder import FolderSource
from acctsec.sources.sql import SqlSource
from acctsec.sources.sql_db import is_database_url, masked_url
from acctsec.sources.sql_load import load
from sources.test_sql_support import SAMPLE_UIDS, broken_folder, comparable, raw_sqlite

KINDS = ("sqlite", "duckdb")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from conftest import EXAMPLES

    if not (EXAMPLES / "accounts.csv").exists():
        pytest.skip("examples/data has not been generated")
    root = tmp_path_factory.mktemp("sql")
    urls = {}
    for kind in KINDS:
        path = root / f"examples.{'db' if kind == 'sqlite' else 'duckdb'}"
        load(EXAMPLES, str(path), kind)
        urls[kind] = f"{kind}:///{path}"
    return urls


@pytest.fixture(scope="module")
def folder() -> FolderSource:
    from conftest import EXAMPLES

    return FolderSource(EXAMPLES)


@pytest.mark.parametrize("kind", KINDS)
def test_accounts_and_population_equal_the_folder(kind: str, loaded: dict[str, str],
                                                  folder: FolderSource) -> None:
    sql = SqlSource(loaded[kind])
    for uid in SAMPLE_UIDS:
        mine, theirs = folder.account(uid), sql.account(uid)
        assert comparable(theirs) == comparable(mine), uid
        assert mine.logins, uid
        query = population_query(mine)
        assert sql.population(query) == folder.population(query), uid


@pytest.mark.parametrize("kind", KINDS)
def test_uids_in_file_order(kind: str, loaded: dict[str, str], folder: FolderSource) -> None:
    assert list(SqlSource(loaded[kind]).uids()) == list(folder.uids())


def test_population_figures_are_not_trivially_equal(loaded: dict[str, str],
                                                    folder: FolderSource) -> None:
    query = population_query(folder.account("10007"))
    stats = SqlSource(loaded["sqlite"]).population(query)
    assert stats.total_logins > 10000 and stats.total_accounts == 300
    assert any(s.accounts > 1 for s in stats.user_agents.values())


def test_broken_rows_give_the_same_records_and_problems(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    folder = FolderSource(data)
    sql = SqlSource(f"sqlite:///{raw_sqlite(data, tmp_path / 'raw.db')}")
    for uid in ("1", "2"):
        mine, theirs = folder.account(uid), sql.account(uid)
        assert mine.problems
        # The folder also reports the row with too few cells: SQL tables have no such row.
        expected = comparable(mine)
        expected["problems"] = tuple(p for p in expected["problems"]
                                     if "cells where the header" not in p.reason)
        assert comparable(theirs) == expected
        query = population_query(mine)
        assert sql.population(query) == folder.population(query)


def test_loaded_broken_folder_keeps_every_good_record(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    result = load(data, str(tmp_path / "b.duckdb"))
    folder, sql = FolderSource(data), SqlSource(f"duckdb:///{tmp_path / 'b.duckdb'}")
    # kyc_level 'lots', ts 'not-a-time', event 'teleport', a short row, amount -1, no alert_id
    assert len(result.problems) == 6
    assert result.rows == {"accounts": 2, "logins": 3, "security_events": 2,
                           "transactions": 2, "alerts": 1}
    for uid in ("1", "2"):
        assert comparable(sql.account(uid), problems=False) == \
            comparable(folder.account(uid), problems=False)
        assert sql.account(uid).problems == ()
    with pytest.raises(InputError, match="unknown uid '3'"):
        sql.account("3")  # its only row had kyc_level 'lots'


def test_strict_stops_at_the_first_broken_row(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    sql = SqlSource(f"sqlite:///{raw_sqlite(data, tmp_path / 'raw.db')}", strict=True)
    with pytest.raises(InputError, match="logins:3: ts 'not-a-time'"):
        sql.account("1")


def test_unknown_uid_missing_file_and_missing_accounts(tmp_path: Path,
                                                       loaded: dict[str, str]) -> None:
    with pytest.raises(InputError, match="unknown uid"):
        SqlSource(loaded["sqlite"]).account("nobody")
    with pytest.raises(InputError, match="does not exist"):
        SqlSource(f"sqlite:///{tmp_path / 'none.db'}")
    import sqlite3

    sqlite3.connect(tmp_path / "empty.db").execute("CREATE TABLE logins (uid TEXT)")
    with pytest.raises(InputError, match="no accounts table"):
        SqlSource(f"sqlite:///{tmp_path / 'empty.db'}")


def test_missing_tables_are_absent(tmp_path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(tmp_path / "a.db")
    con.execute("CREATE TABLE accounts (uid INTEGER, email TEXT)")
    con.execute("INSERT INTO accounts VALUES (5, 'x@example.com')")
    con.commit()
    records = SqlSource(f"sqlite:///{tmp_path / 'a.db'}").account("5")
    assert records.account.uid == "5" and records.logins == () and records.alerts == ()
    assert records.account.origin is not None and records.account.origin.line == 1


def test_unreachable_postgres_is_a_dependency_error_with_the_password_masked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("acctsec.sources.sql_db.RETRY_DELAYS_S", (0.0,))
    monkeypatch.setenv("PGPASSWORD", "envsecret")
    url = "postgresql://bob:hunter2@127.0.0.1:1/db"
    with pytest.raises(DependencyError) as caught:
        SqlSource(url)
    message = str(caught.value)
    assert "hunter2" not in message and "envsecret" not in message
    assert "bob:***@127.0.0.1:1" in message and "\n" not in message


def test_urls() -> None:
    assert masked_url("postgresql://u:p%40ss@h:5/db") == "postgresql://u:***@h:5/db"
    assert is_database_url("postgresql://u@h:5/db") and is_database_url("sqlite:///rel.db")
    assert not is_database_url("examples/data") and not is_database_url("sqlite:/collapsed")


def test_a_password_in_the_query_string_is_masked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("acctsec.sources.sql_db.RETRY_DELAYS_S", (0.0,))
    url = "postgresql://bob@127.0.0.1:1/db?sslmode=disable&password=hun%21ter2"
    assert masked_url(url) == "postgresql://bob@127.0.0.1:1/db?sslmode=disable&password=***"
    with pytest.raises(DependencyError) as caught:
        SqlSource(url)
    assert "hun" not in str(caught.value) and "password=***" in str(caught.value)


def test_sqlite_text_that_is_not_utf8_is_read_with_a_replacement_character(
        loaded: dict[str, str], tmp_path: Path) -> None:
    """SQLite keeps any bytes: a bad cell in an account's sign-ins used to fail its
    investigation ("Could not decode to UTF-8"); it is read as the link copy reads it."""
    import shutil
    import sqlite3

    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.intel.ip import OfflineIpIntel

    path = tmp_path / "bad.db"
    shutil.copy(loaded["sqlite"].removeprefix("sqlite:///"), path)
    con = sqlite3.connect(path)
    con.execute("UPDATE logins SET user_agent = CAST(X'4d6f7aff696c6c61' AS TEXT) WHERE rowid = "
                "(SELECT min(rowid) FROM logins WHERE uid = '10007')")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    agents = {lg.user_agent for lg in SqlSource(url).account("10007").logins}
    assert "Moz\ufffdilla" in agents
    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                          "cache_dir": tmp_path / "cache"})
    report = service.investigate(settings, service.open_source(settings, url), "10007",
                                 intel=OfflineIpIntel(settings))
    assert report.verdict.label == "takeover"
    assert not any(n.check == "linking" for n in report.not_checked)


@pytest.mark.parametrize("kind", KINDS)
def test_a_chunks_records_equal_each_accounts_own(kind: str, loaded: dict[str, str],
                                                  folder: FolderSource) -> None:
    """accounts() (a batch chunk: more uids than one IN list holds) reads what the folder
    reads for each uid, and says why for a uid it has no account of."""
    sql = SqlSource(loaded[kind])
    uids = list(folder.uids())
    uids += [f"{uid}-gone" for uid in uids] + [" 10007 "]
    found = sql.accounts(uids)
    assert len(found) == 600  # " 10007 " is 10007
    for uid in folder.uids():
        assert comparable(found[uid]) == comparable(folder.account(uid)), uid
    assert found["10007"].logins and found["10007"].transactions
    missing = found["10007-gone"]
    assert isinstance(missing, InputError) and "unknown uid '10007-gone'" in str(missing)


def test_a_chunks_records_keep_each_accounts_problems(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    sql = SqlSource(f"sqlite:///{raw_sqlite(data, tmp_path / 'raw.db')}")
    found = sql.accounts(["1", "2", "3"])
    assert found["1"] == sql.account("1") and found["2"] == sql.account("2")
    assert found["1"].problems and found["2"].problems
    assert "its row was skipped" in str(found["3"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_chunks_figures_equal_each_accounts_own(kind: str, loaded: dict[str, str],
                                                  folder: FolderSource) -> None:
    """populations() (a batch chunk) gives what population() gives account by account;
    300 accounts are more than one query's 250 owners."""
    sql = SqlSource(loaded[kind])
    queries = [population_query(sql.account(uid)) for uid in folder.uids()]
    assert len(queries) == 300
    alone = [sql.population(q) for q in queries]
    assert sql.populations(queries) == alone
    assert any(s.accounts > 1 for stats in alone for s in stats.ips.values())
    assert any(s.accounts > 10 for stats in alone for s in stats.user_agents.values())


def test_a_chunks_figures_keep_uids_as_stored(tmp_path: Path) -> None:
    """A padded uid is counted as another account, as population() counts it, and an
    owner among a value's first uids or past them leaves the sample 25 long."""
    import sqlite3

    path = tmp_path / "raw.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE accounts (uid TEXT)")
    con.execute("CREATE TABLE logins (ts TEXT, uid TEXT, event TEXT, ip TEXT, device_id TEXT, "
                "session_id TEXT, user_agent TEXT)")
    uids = [f"{n:02d}" for n in range(40)]
    con.executemany("INSERT INTO accounts VALUES (?)", [(u,) for u in uids])
    rows = [("2026-10-01T10:00:00Z", u, "login_success", f"10.0.0.{n % 3}", f"d{n}", f"s{n}",
             "shared-agent") for n, u in enumerate(uids)]
    rows += [("2026-10-01T11:00:00Z", " 01", " LOGIN_FAILURE", "10.0.0.1", "d1", "s1", "x"),
             ("2026-10-01T12:00:00Z", "02", "mfa_failure", "10.0.0.2", "d2", "s99", "x"),
             ("2026-10-01T12:00:00Z", "03", "logout", "10.0.0.0", "d3", "s3", "x")]
    con.executemany("INSERT INTO logins VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    sql = SqlSource(f"sqlite:///{path}")
    queries = [population_query(sql.account(uid)) for uid in ("01", "02", "03", "30", "39")]
    together = sql.populations(queries)
    assert together == [sql.population(q) for q in queries]
    first = together[0]
    assert first.ips["10.0.0.1"].failures == 1  # the padded uid's row is another account's
    assert len(first.user_agents["shared-agent"].sample_uids) == 25
    assert "01" in first.user_agents["shared-agent"].sample_uids
    assert together[4].user_agents["shared-agent"].sample_uids == tuple(uids[:25])


def test_a_bounded_duckdb_source_keeps_to_its_memory_and_scans(loaded: dict[str, str]) -> None:
    """A batch worker's DuckDB source: held to the run's memory, and no index scans
    (a chunk's session ids loaded the whole session index, ~0.5 GB at 10 M sign-ins)."""
    sql = SqlSource(loaded["duckdb"])
    sql.db.bound("300MB")
    settings = dict(sql.db.query(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('memory_limit', 'index_scan_max_count', 'index_scan_percentage')"))
    assert settings["index_scan_max_count"] == "0"
    assert float(settings["index_scan_percentage"]) == 0
    assert settings["memory_limit"].startswith(("286", "300"))
    assert sql.account("10007").logins  # still reads
