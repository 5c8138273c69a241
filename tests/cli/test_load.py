"""`acctsec load` and `investigate --source URL` as a user runs them."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acctsec.errors import InputError, UsageError
from acctsec.sources import sql_load
from acctsec.sources.folder import FolderSource
from sources.test_sql_support import broken_folder, comparable


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSEC_")}
    env["XDG_CONFIG_HOME"] = str(cwd)
    return subprocess.run([sys.executable, "-m", "acctsec", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def comparable_report(text: str) -> dict[str, Any]:
    """A JSON report without its time, with row references naming the table."""
    report = json.loads(re.sub(r'"(\w+)\.csv:(\d+)"', r'"\1:\2"', text))
    report.pop("generated_at")
    return report


def json_report(source: Any, uid: str) -> dict[str, Any]:
    from acctsec import service
    from acctsec.config import Settings
    from acctsec.render.formats import ReportFormat
    from acctsec.render.interface import formatter_for

    out = io.StringIO()
    formatter_for(ReportFormat.json).write(service.investigate(Settings(), source, uid), out)
    return comparable_report(out.getvalue())


@pytest.mark.parametrize("uid", ["10007", "10143", "10201", "10297"])
def test_sql_reports_equal_the_folder_reports(uid: str, tmp_path_factory: Any,
                                              examples_dir: Path) -> None:
    """Linking included: the link tables are copied from the database (10297 is in a
    fraud ring found through shared devices, payout addresses and e-mail patterns)."""
    from acctsec.sources.sql import SqlSource

    path = tmp_path_factory.getbasetemp() / "reports.duckdb"
    if not path.exists():
        sql_load.load(examples_dir, str(path))
    source = SqlSource(f"duckdb:///{path}")
    report = json_report(source, uid)
    source.close()
    assert report == json_report(FolderSource(examples_dir), uid)
    assert report["verdict"]["label"] == "fraud" or uid != "10297"
    assert any('"row": "logins:' in json.dumps(s) for s in report["signals"]) or uid != "10007"


def test_investigate_from_sqlite_gives_the_folder_verdict(tmp_path: Path,
                                                          examples_dir: Path) -> None:
    done = run("load", str(examples_dir), str(tmp_path / "ex.db"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "300 accounts" in done.stderr and done.stdout == ""
    url = f"sqlite:///{tmp_path / 'ex.db'}"
    by_sql = run("investigate", "10007", "--source", url, "--format", "json", cwd=tmp_path)
    by_folder = run("investigate", "10007", "--source", str(examples_dir), "--format", "json",
                    cwd=tmp_path)
    assert by_sql.returncode == by_folder.returncode == 0, by_sql.stderr
    sql, folder = comparable_report(by_sql.stdout), comparable_report(by_folder.stdout)
    assert sql["verdict"]["label"] == "takeover"
    assert sql == folder
    unknown = run("investigate", "nobody", "--source", url, cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown uid 'nobody'" in unknown.stderr


def test_load_reports_skipped_rows_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    done = run("load", str(data), str(tmp_path / "b.db"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skipped 6 rows" in done.stderr and "not loaded" in done.stderr
    again = run("load", str(data), str(tmp_path / "b.db"), cwd=tmp_path)
    assert again.returncode == 1 and "--replace" in again.stderr
    assert run("load", str(data), str(tmp_path / "b.db"), "--replace",
               cwd=tmp_path).returncode == 0


def test_parquet_output_reads_as_the_folder(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    sql_load.load(data, str(tmp_path / "pq"), "parquet")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == [
        "accounts.parquet", "alerts.parquet", "logins.parquet", "security_events.parquet",
        "transactions.parquet"]
    csv_side, parquet_side = FolderSource(data), FolderSource(tmp_path / "pq")
    for uid in ("1", "2"):
        a = comparable(csv_side.account(uid), problems=False)
        b = comparable(parquet_side.account(uid), problems=False)
        assert {k: _no_origin(v) for k, v in a.items()} == \
            {k: _no_origin(v) for k, v in b.items()}


def _no_origin(value: Any) -> Any:
    import dataclasses

    if isinstance(value, tuple):
        return tuple(_no_origin(v) for v in value)
    return dataclasses.replace(value, origin=None)


@pytest.mark.parametrize("fmt", ["sqlite", "duckdb", "parquet"])
def test_a_failed_load_leaves_no_output(tmp_path: Path, fmt: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = broken_folder(tmp_path)
    dest = tmp_path / "out"
    dest.mkdir() if fmt == "parquet" else dest.write_text("old", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    real = sql_load.arrow_batch if fmt != "sqlite" else sql_load._sqlite_table
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(sql_load, "arrow_batch" if fmt != "sqlite" else "_sqlite_table",
                        failing)
    with pytest.raises(OSError, match="disk full"):
        sql_load.load(data, str(dest), fmt, replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert dest.is_dir() if fmt == "parquet" else dest.read_text(encoding="utf-8") == "old"


def test_unknown_format_is_wrong_usage(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--format 'csv'"):
        sql_load.load(broken_folder(tmp_path), str(tmp_path / "x"), "csv")


def test_load_makes_the_destinations_folders_or_says_why_not(tmp_path: Path) -> None:
    """A DuckDB or SQLite file in folders not made yet (an internal error before), and a
    place that cannot hold one: one line naming it, exit 1."""
    data = broken_folder(tmp_path)
    for name in ("new/a/x.duckdb", "new/b/x.db", "new/c/pq"):
        done = run("load", str(data), name, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / name).exists()
    blocker = tmp_path / "file"
    blocker.write_text("", "utf-8")
    done = run("load", str(data), str(blocker / "x.duckdb"), cwd=tmp_path)
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and str(blocker) in done.stderr


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_load_to_a_place_a_database_cannot_be_written(tmp_path: Path) -> None:
    """A folder that is there but takes no new file (/proc here, a read-only mount for a
    user): DuckDB and SQLite refuse to open it, one line, exit 1 (was an internal error,
    exit 70). Root ignores permission bits, so a read-only folder would not do."""
    data = broken_folder(tmp_path)
    for name in ("x.duckdb", "x.db"):
        done = run("load", str(data), f"/proc/{name}", cwd=tmp_path)
        assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and "/proc" in done.stderr


def test_a_load_killed_outright_leaves_nothing_after_the_next_load(tmp_path: Path) -> None:
    """SIGKILL or a power loss skips the clean-up, leaving the half-written copy; the next
    load into the same place removes it. A live load's copy is left alone."""
    data = broken_folder(tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dead = [tmp_path / f".x.duckdb.part-{gone}", tmp_path / f".x.duckdb.part-{gone}.wal",
            tmp_path / f".x.duckdb.old-{gone}"]
    live = tmp_path / f".x.duckdb.part-{os.getpid()}x"  # not a pid: somebody else's file
    alive = tmp_path / ".x.duckdb.part-1"  # init never ends
    for path in (*dead, live, alive):
        path.write_text("half", encoding="utf-8")
    huge = tmp_path / ".x.duckdb.part-99999999999999999999"  # no PID at all
    huge.write_text("half", encoding="utf-8")
    sql_load.load(data, str(tmp_path / "x.duckdb"), None, replace=True)
    assert not any(p.exists() for p in (*dead, huge))
    assert live.exists() and alive.exists() and (tmp_path / "x.duckdb").exists()


def test_a_load_killed_between_its_renames_gets_the_old_copy_back(tmp_path: Path) -> None:
    data = broken_folder(tmp_path)
    sql_load.load(data, str(tmp_path / "x.duckdb"), None)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "x.duckdb").rename(tmp_path / f".x.duckdb.old-{gone}")
    with pytest.raises(InputError, match="exists"):  # the old copy is back, not lost
        sql_load.load(data, str(tmp_path / "x.duckdb"), None)
    assert (tmp_path / "x.duckdb").exists()
    assert not (tmp_path / f".x.duckdb.old-{gone}").exists()


def test_rows_whose_ip_is_no_address_are_loaded_with_the_address_unknown(tmp_path: Path) -> None:
    """The load says which rows were kept so, apart from those it skipped."""
    import csv
    import shutil

    from conftest import EXAMPLES

    data = tmp_path / "data"
    shutil.copytree(EXAMPLES, data)
    path = data / "transactions.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["ip"] = "unknown"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = run("load", str(data), str(tmp_path / "x.duckdb"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "loaded 1 rows whose ip is no address with the address unknown" in done.stderr
    assert "skipped" not in done.stderr
    assert f"{len(rows)} transactions" in done.stderr
