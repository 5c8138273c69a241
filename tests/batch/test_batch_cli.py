"""`acctsec batch` as a user runs it: queues, formats, failures, summary, literal output."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch.conftest import comparable, read_jsonl, run_cli

try:
    import fcntl
except ImportError:  # Windows: runs cannot lock their folders there
    fcntl = None  # type: ignore[assignment]
needs_flock = pytest.mark.skipif(fcntl is None, reason="no flock on this system")


def test_alert_queue_reports_carry_their_alert_ids(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    code, stdout, err = run_cli("batch", "--source", str(examples), "--alerts",
                                str(examples / "alerts.csv"), "--out", str(out))
    assert code == 0, err
    assert stdout == ""
    reports = read_jsonl(out)
    assert reports and all(r["schema"] == "acctsec.report/1" and r["alert_ids"]
                           for r in reports)
    assert "labels: takeover" in err and "riskiest:" in err


def test_failed_accounts_are_recorded_and_do_not_stop_the_run(examples: Path,
                                                              tmp_path: Path) -> None:
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\nno-such-account\n10008\n", "utf-8")
    out = tmp_path / "f.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out))
    assert code == 0, err
    assert [r["uid"] for r in read_jsonl(out)] == ["10007", "10008"]
    errors = read_jsonl(tmp_path / "f.jsonl.errors.jsonl")
    assert errors[0]["uid"] == "no-such-account" and "unknown uid" in errors[0]["error"]
    assert "1 failed" in err and "no-such-account: unknown uid" in err


def test_out_in_a_folder_not_made_yet(examples: Path, tmp_path: Path) -> None:
    """`--out runs/today/q.jsonl` makes the folders, as an analyst's script expects."""
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    out = tmp_path / "runs" / "today" / "q.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out))
    assert code == 0, err
    assert [r["uid"] for r in read_jsonl(out)] == ["10007"]
    blocked = tmp_path / "file"
    blocked.write_text("", "utf-8")
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(blocked / "q.jsonl"))
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert err.count("\n") == 1 and str(blocked) in err
    assert err.strip().count("\n") == 0 and "its folder cannot be made" in err


def test_csv_output_is_flat_and_spreadsheet_safe(examples: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(examples, data)
    accounts = (data / "accounts.csv").read_text("utf-8")
    (data / "alerts.csv").write_text(
        "alert_id,uid,source,note\n=HYPERLINK(\"x\"),10007,email,\"\x1b[31mred\"\n"
        "'q,10008,sms,x\n", "utf-8")
    assert "10007" in accounts
    out = tmp_path / "o.csv"
    code, _, err = run_cli("batch", "--source", str(data), "--alerts", str(data / "alerts.csv"),
                           "--out", str(out), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["uid"] for r in rows] == ["10007", "10008"]
    assert rows[0]["alert_ids"] == "'=HYPERLINK(\"x\")"  # prefixed once, not per pass
    assert rows[1]["alert_ids"] == "''q"  # a spreadsheet shows 'q
    assert rows[0]["label"] == "takeover" and rows[0]["top_signals"]
    for row in rows:
        ids = row["top_signals"].split(";")
        assert len(ids) == len(set(ids)) <= 5
    assert "\x1b" not in out.read_text("utf-8")


def test_stdout_jsonl_without_out(examples: Path, tmp_path: Path) -> None:
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    code, stdout, err = run_cli("batch", "--source", str(examples), "--uids", str(queue))
    assert code == 0, err
    assert stdout.count("\n") == 1 and '"uid":"10007"' in stdout


def test_bad_alerts_file_is_a_one_line_error(examples: Path, tmp_path: Path) -> None:
    bad = tmp_path / "alerts.csv"
    bad.write_text("alert_id,uid\n,\n,\n", "utf-8")
    for path in (bad, tmp_path / "missing.csv", tmp_path / "alerts.txt"):
        if path.name == "alerts.txt":
            path.write_text("x", "utf-8")
        code, _, err = run_cli("batch", "--source", str(examples), "--alerts", str(path))
        assert code == 1, err
        assert err.startswith("acctsec: error:") and err.count("\n") == 1


def test_exactly_one_queue_is_required(examples: Path) -> None:
    """Wrong usage: exit 2, as the docs and Click's own usage errors say."""
    code, _, err = run_cli("batch", "--source", str(examples))
    assert code == 2 and "exactly one of" in err
    code, _, err = run_cli("batch", "--source", str(examples), "--all", "--uids", "x")
    assert code == 2 and "exactly one of" in err


def test_parquet_needs_an_out_file(examples: Path) -> None:
    code, _, err = run_cli("batch", "--source", str(examples), "--all", "--format", "parquet")
    assert code == 2 and "needs --out" in err


def test_line_progress_when_not_a_terminal() -> None:
    import io

    from acctsec.batch.progress import LineProgress, progress_for

    stream = io.StringIO()
    progress = progress_for(10, console=None, stream=stream)
    assert isinstance(progress, LineProgress)
    progress.every = 0.0
    progress.advance(4)
    progress.close()
    assert "batch: 4/10 accounts (40%)" in stream.getvalue() and "ETA" in stream.getvalue()


def _one_and_many_chunks(source: Path, queue: Path, tmp_path: Path) -> dict[str, dict]:
    """The reports of a batch run in one chunk and in chunks of 7 (which read the
    queue's rows pulled out once), by uid."""
    from batch.conftest import comparable

    runs = {}
    for name, chunk in (("one", "1000"), ("many", "7")):
        out = tmp_path / f"{name}.jsonl"
        code, _, err = run_cli("batch", "--source", str(source), "--uids", str(queue),
                               "--out", str(out), "--chunk", chunk)
        assert code == 0, err
        runs[name] = {r["uid"]: comparable(r) for r in read_jsonl(out)}
        assert ("queue's rows" in err) == (name == "many"), err
    return runs


def test_chunks_read_from_the_queue_rows_pulled_out_once(examples: Path, tmp_path: Path) -> None:
    """Many chunks over Parquet read one extract of the queue's rows: same reports as one
    chunk reading the source files, and the extract is gone when the run ends."""
    from batch.test_population import _to_parquet

    source = _to_parquet(examples, tmp_path / "pq")
    queue = tmp_path / "uids.txt"
    uids = sorted(line.split(",")[0] for line in
                  (examples / "accounts.csv").read_text(encoding="utf-8").splitlines()[1:])
    queue.write_text("\n".join(uids[::4]) + "\n", encoding="utf-8")
    runs = _one_and_many_chunks(source, queue, tmp_path)
    assert len(runs["one"]) == len(uids[::4])
    assert runs["many"] == runs["one"]
    assert not list((tmp_path / "many.jsonl.work").glob("rows-*/*.parquet"))


def _text_folder(examples: Path, folder: Path, fmt: str) -> tuple[Path, str, int]:
    """The examples with logins as CSV or JSONL, and one line the reader yields without
    asking its uid (not JSON; a CSV row of one cell), which belongs to every account,
    right after a row of another account. Returns the folder, that account and the line."""
    import json

    shutil.copytree(examples, folder)
    with (examples / "logins.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    (folder / "logins.csv").unlink()
    after = 40
    if fmt == "jsonl":
        lines = [json.dumps(r) for r in rows]
        lines.insert(after, "{not json")
        (folder / "logins.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return folder, rows[after - 1]["uid"], after + 1
    lines = (examples / "logins.csv").read_text(encoding="utf-8").splitlines()
    lines.insert(after + 1, "broken")
    (folder / "logins.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, rows[after - 1]["uid"], after + 2


@needs_flock
def test_each_run_pulls_its_rows_into_a_folder_of_its_own(
        examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs on the same files without --out share `<cache>/batch/`: a running one's
    rows are left alone, a killed one's removed, and the run removes its own."""
    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions, files_fingerprint, source_key
    from acctsec.cachefiles import entry_name
    from acctsec.config import Settings
    from acctsec.sources.files import table_files

    cache = tmp_path / "cache"
    monkeypatch.setenv("ACCTSEC_CACHE_DIR", str(cache))
    options = BatchOptions(examples, WorkQueue(()), Settings(cache_dir=cache))
    rows = cache / "batch" / entry_name("rows", source_key(options),
                                        files_fingerprint(table_files(examples)))
    # A run still going holds its folder's lock (here this process, through another open
    # file description); a killed run's lock went with its process.
    for name in ("run-live", "run-killed"):
        (rows / name).mkdir(parents=True)
        (rows / name / "logins.parquet").write_bytes(b"theirs")
        (rows / name / ".lock").touch()
    with (rows / "run-live" / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        queue = tmp_path / "uids.txt"
        queue.write_text("10007\n10008\n10009\n", encoding="utf-8")
        code, stdout, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                                    "--chunk", "1")
        assert code == 0, err
        assert len(stdout.splitlines()) == 3 and "queue's rows" in err
        assert sorted(p.name for p in rows.iterdir()) == ["run-live"]
        assert (rows / "run-live" / "logins.parquet").read_bytes() == b"theirs"


@needs_flock
def test_a_run_holds_its_rows_folder_locked_while_it_lasts(tmp_path: Path) -> None:
    from acctsec.batch.runner import release_run_folder, run_folder

    mine = run_folder(tmp_path)
    assert mine.name.startswith("run-") and mine.parent == tmp_path
    other = run_folder(tmp_path)  # another run on the same files: mine is left alone
    assert mine.exists() and other != mine
    with (mine / ".lock").open("a") as probe, pytest.raises(BlockingIOError):
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    release_run_folder(mine)
    release_run_folder(other)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_chunks_read_one_sorted_copy(examples: Path, tmp_path: Path,
                                                   fmt: str) -> None:
    """Over CSV or JSONL, many chunks read the rows the folder's reader gave once (kept
    as JSON text, sorted by uid): each account gets the report `investigate` gives,
    the line that belongs to every account included, whichever row came before it."""
    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.core.report import to_dict
    from batch.conftest import comparable

    folder, before, broken = _text_folder(examples, tmp_path / "src", fmt)
    uids = sorted(line.split(",")[0] for line in
                  (examples / "accounts.csv").read_text(encoding="utf-8").splitlines()[1:])
    chosen = [u for u in uids[::6] if u != before]
    queue = tmp_path / "uids.txt"
    queue.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    runs = _one_and_many_chunks(folder, queue, tmp_path)
    settings = load_settings(None, environ={}, overrides={"offline": True})
    source = service.open_source(settings, folder)
    single = {u: comparable(to_dict(service.investigate(settings, source, u)))
              for u in chosen}
    assert all(any(p["line"] == broken for p in r["skipped_rows"]) for r in single.values())
    assert runs["many"] == single
    assert runs["one"] == single


def test_a_sql_source_gives_each_account_the_report_investigate_gives(
        examples: Path, tmp_path: Path) -> None:
    """Batch over a loaded SQLite file: every account asked of the database as
    `investigate --source sqlite:///…` asks it, on two worker processes, and linked
    through the link tables copied from it (10297 is in a fraud ring)."""
    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.core.report import to_dict
    from acctsec.sources.sql_load import load
    from batch.conftest import comparable

    load(examples, str(tmp_path / "ex.db"))
    url = f"sqlite:///{tmp_path / 'ex.db'}"
    queue = tmp_path / "uids.txt"
    uids = ["10007", "10021", "10100", "10150", "10200", "10290", "10297", "nobody"]
    queue.write_text("\n".join(uids) + "\n", encoding="utf-8")
    out = tmp_path / "sql.jsonl"
    code, _, err = run_cli("batch", "--source", url, "--uids", str(queue), "--out", str(out),
                           "--jobs", "2", "--chunk", "3")
    assert code == 0, err
    got = {r["uid"]: comparable(r) for r in read_jsonl(out)}
    settings = load_settings(None, environ={}, overrides={"offline": True})
    source = service.open_source(settings, url)
    expected = {u: comparable(to_dict(service.investigate(settings, source, u)))
                for u in uids[:-1]}
    assert got == expected
    assert "1 failed" in err and "nobody" in err
    assert {r["verdict"]["label"] for r in got.values()} >= {"takeover", "fraud", "clear"}


@pytest.mark.parametrize("column", ["file_row_number", "__row__", "__json__"])
def test_parquet_with_a_column_named_as_the_batch_readers_own(examples: Path, tmp_path: Path,
                                                              column: str) -> None:
    """A Parquet sign-ins table with a column DuckDB's keyed reading adds (its row numbers,
    or the batch's keys): was an internal error (file_row_number). Such a table is read
    by the folder reader instead; one chunk, many chunks and `investigate` agree. The
    times are a real timestamp column, as exports have them (not JSON-able as such)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from batch.test_agreement import _investigate_all
    from batch.test_population import _to_parquet

    source = _to_parquet(examples, tmp_path / "pq")
    logins = pq.read_table(source / "logins.parquet")
    stamps = pc.strptime(logins["ts"], "%Y-%m-%dT%H:%M:%SZ", "us")
    logins = logins.set_column(logins.schema.get_field_index("ts"), "ts",
                               pc.cast(stamps, pa.timestamp("us", "UTC")))
    pq.write_table(logins.append_column(column, pa.array(["7"] * logins.num_rows)),
                   source / "logins.parquet")
    queue = tmp_path / "uids.txt"
    uids = [str(n) for n in range(10001, 10301, 20)] + ["10007", "10296"]
    queue.write_text("\n".join(uids) + "\n", encoding="utf-8")
    runs = _one_and_many_chunks(source, queue, tmp_path)
    assert runs["many"] == runs["one"]
    assert runs["one"] == _investigate_all(str(source), uids)
    rows = [e["row"] for r in runs["one"].values() for s in r["signals"]
            for e in [s["evidence"].get("first_access") or {}] if "row" in e]
    assert any(r.startswith("logins.parquet:") for r in rows)


def test_the_summary_names_the_csv_copies_only_for_csv_tables(examples: Path,
                                                              tmp_path: Path) -> None:
    from batch.test_population import _to_parquet

    queue = tmp_path / "two.txt"
    queue.write_text("10007\n10008\n", encoding="utf-8")
    for source, csv_tables in ((examples, True), (_to_parquet(examples, tmp_path / "pq"), False)):
        code, _, err = run_cli("batch", "--source", str(source), "--uids", str(queue),
                               "--out", str(tmp_path / f"{csv_tables}.jsonl"))
        assert code == 0, err
        assert ("CSV copies" in err) == csv_tables, err


def test_no_cache_leaves_no_working_files_and_cache_dir_holds_them(examples: Path,
                                                                    tmp_path: Path) -> None:
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n10008\n10296\n", encoding="utf-8")
    cache = tmp_path / "cache"
    code, kept, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                              "--cache-dir", str(cache))
    assert code == 0, err
    assert list((cache / "batch").glob("links-*.duckdb")), "the link graph is kept for later"
    out = tmp_path / "n.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out), "--no-cache", "--chunk", "1")
    assert code == 0, err
    assert not (tmp_path / "n.jsonl.work").exists()
    assert "queue's rows" in err  # the chunks' rows were pulled out, in a temporary folder
    reports = [comparable(r) for r in read_jsonl(out)]
    assert reports == [comparable(json.loads(line)) for line in kept.splitlines()]


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_no_cache_with_a_remote_dask_cluster_is_refused(examples: Path, how: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    flags = ["--no-cache"] if how == "flag" else []
    if how == "environment":
        monkeypatch.setenv("ACCTSEC_NO_CACHE", "1")
    code, out, err = run_cli("batch", "--source", str(examples), "--all", *flags,
                             "--dask", "tcp://127.0.0.1:1")
    assert code == 1 and out == ""
    assert "cannot be used with a remote --dask cluster" in err
    assert "Traceback" not in err


@needs_flock
def test_where_locks_fail_runs_keep_their_folders_and_leave_each_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without locks (NFS mounted nolock: ENOLCK) a run still gets its
    folder, and no run removes a folder it cannot prove finished."""
    import errno

    from acctsec.batch.runner import release_run_folder, run_folder

    def no_locks(fh: object, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    mine = run_folder(tmp_path)
    other = run_folder(tmp_path)
    assert mine.is_dir() and other.is_dir()
    release_run_folder(mine)
    release_run_folder(other)
    assert list(tmp_path.iterdir()) == []


@needs_flock
def test_no_cache_works_in_a_private_folder_and_clears_a_killed_runs(
        examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from acctsec.batch.runner import release_run_folder, run_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    private = run_folder(tmp_path, "acctsec-batch-", private=True)
    assert private.stat().st_mode & 0o777 == 0o700
    release_run_folder(private)
    killed, running = tmp_path / "acctsec-batch-killed", tmp_path / "acctsec-batch-running"
    for folder in (killed, running):
        folder.mkdir()
        (folder / ".lock").touch()
        (folder / "copy.parquet").write_bytes(b"data")
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n10008\n", encoding="utf-8")
    with (running / ".lock").open("r") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                               "--out", str(tmp_path / "out" / "n.jsonl"), "--no-cache",
                               "--chunk", "1")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acctsec-batch-running", "out",
                                                          "uids.txt"]


@needs_flock
def test_a_running_runs_rows_outlive_a_change_of_the_files(examples: Path,
                                                           tmp_path: Path) -> None:
    """The files changed (or acctsec was upgraded) while a long run reads its rows chunk by
    chunk: the next run removes the older versions' entries, but not rows still read."""
    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions, forget_older_versions, source_key
    from acctsec.cachefiles import entry_name
    from acctsec.config import Settings
    from acctsec.sources.files import table_files

    options = BatchOptions(examples, WorkQueue(()), Settings(cache_dir=tmp_path))
    older = {v: tmp_path / "batch" / entry_name("rows", source_key(options), v)
             for v in ("0000000000000001", "0000000000000002")}
    for entry in older.values():
        (entry / "run-a").mkdir(parents=True)
        (entry / "run-a" / ".lock").touch()
    with (older["0000000000000001"] / "run-a" / ".lock").open("r") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        forget_older_versions(options, table_files(examples))
        assert (older["0000000000000001"] / "run-a").is_dir()
        assert not older["0000000000000002"].exists()
    forget_older_versions(options, table_files(examples))  # that run has ended
    assert not older["0000000000000001"].exists()


def test_a_database_source_is_decided_in_chunks_of_one_population_query() -> None:
    """A SQL source's chunk costs a scan of the sign-ins per kind of figure, whatever its
    size: as many accounts as one populations() query asks, where a folder's chunks
    spread a queue over the workers."""
    from dataclasses import replace

    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions, chunk_size
    from acctsec.config import Settings
    from acctsec.sources.sql import OWNERS

    folder = BatchOptions(Path("data"), WorkQueue(()), Settings(), jobs=2)
    database = replace(folder, url="duckdb:///data.duckdb")
    assert chunk_size(database, 212) == OWNERS == 250
    assert chunk_size(folder, 212) == 53  # two chunks a worker
    assert chunk_size(replace(database, chunk_size=7), 212) == 7


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminal on Windows")
def test_a_run_by_hand_draws_its_bar_on_the_terminal(examples: Path, tmp_path: Path) -> None:
    """stderr a real (pseudo-)terminal, as when an analyst runs batch by hand: the progress
    bar is drawn and the run still writes every report (it once died entering the bar)."""
    import pty

    queue = tmp_path / "uids.txt"
    queue.write_text("10005\n10007\n", "utf-8")
    out = tmp_path / "t.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSEC_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path), ACCTSEC_OFFLINE="1", TERM="xterm",
               COLUMNS="120")
    master, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "acctsec", "batch", "--source", str(examples), "--uids",
             str(queue), "--out", str(out)],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=terminal)
        os.close(terminal)
        shown = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the run has closed its end of the terminal
                break
            if not data:
                break
            shown += data
        proc.wait(timeout=300)
    finally:
        os.close(master)
    text = shown.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "error" not in text
    assert "2/2" in text  # the bar's count
    assert "2 accounts decided" in text
    assert sorted(r["uid"] for r in read_jsonl(out)) == ["10005", "10007"]


def test_top_limits_the_riskiest_accounts_listed(examples: Path, tmp_path: Path) -> None:
    """--top was applied after the run had already kept the default ten."""
    queue = tmp_path / "uids.txt"
    queue.write_text("".join(f"{10001 + n}\n" for n in range(30)), "utf-8")
    for top, shown in ((0, 0), (3, 3), (25, 25)):
        out = tmp_path / f"top{top}.jsonl"
        code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                               "--out", str(out), "--top", str(top))
        assert code == 0, err
        lines = err.splitlines()
        listed = lines[lines.index("riskiest:") + 1:] if "riskiest:" in lines else []
        assert len([x for x in listed if x.startswith("  ")]) == shown, err


def test_queue_files_as_editors_and_exports_leave_them(examples: Path, tmp_path: Path) -> None:
    """A uids file saved with a byte-order mark (Notepad, Excel) works; an empty queue
    file, or an alerts file with its header alone, is an error, not a run of nothing."""
    queue = tmp_path / "bom.txt"
    queue.write_bytes("\ufeff10007\r\n10008\r\n".encode())
    out = tmp_path / "bom.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out))
    assert code == 0 and "0 failed" in err, err
    assert [r["uid"] for r in read_jsonl(out)] == ["10007", "10008"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing today\n\n", "utf-8")
    header = tmp_path / "alerts.csv"
    header.write_text("alert_id,uid,ts,source,kind\n", "utf-8")
    blank = tmp_path / "blank.csv"
    blank.write_text("", "utf-8")
    for option, path in (("--uids", empty), ("--alerts", header), ("--alerts", blank)):
        code, _, err = run_cli("batch", "--source", str(examples), option, str(path),
                               "--out", str(tmp_path / "none.jsonl"))
        assert code == 1 and err.count("\n") == 1 and str(path) in err, err
        assert not (tmp_path / "none.jsonl").exists()


def test_out_dash_is_stdout_and_out_exists_with_no_report(examples: Path,
                                                          tmp_path: Path) -> None:
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    code, stdout, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                                "--out", "-")
    assert code == 0, err
    assert [json.loads(line)["uid"] for line in stdout.splitlines()] == ["10007"]
    queue.write_text("no-such-account\n", "utf-8")
    out = tmp_path / "f.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out))
    assert code == 0 and "1 failed" in err, err
    assert out.read_text("utf-8") == ""  # there, for a script that reads it, and empty
    assert read_jsonl(tmp_path / "f.jsonl.errors.jsonl")[0]["uid"] == "no-such-account"


def test_a_damaged_parquet_table_is_named_in_one_line(examples: Path, tmp_path: Path) -> None:
    from acctsec.sources.sql_load import load

    data = tmp_path / "pq"
    load(examples, str(data))
    whole = (data / "logins.parquet").read_bytes()
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    for damaged in (whole[: len(whole) // 2], b""):
        (data / "logins.parquet").write_bytes(damaged)
        code, _, err = run_cli("batch", "--source", str(data), "--uids", str(queue),
                               "--out", str(tmp_path / "d.jsonl"))
        assert code == 1, err
        assert err.count("\n") == 1 and "logins.parquet: not a readable Parquet file" in err
    # Mended, the same command runs: the failed starts had kept nothing, so the changed
    # files are no reason to refuse it.
    (data / "logins.parquet").write_bytes(whole)
    code, _, err = run_cli("batch", "--source", str(data), "--uids", str(queue),
                           "--out", str(tmp_path / "d.jsonl"))
    assert code == 0, err
    assert [r["uid"] for r in read_jsonl(tmp_path / "d.jsonl")] == ["10007"]
