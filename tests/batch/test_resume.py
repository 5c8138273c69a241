"""A batch run killed at any point continues where it stopped: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from acctsec.batch.output import AppendLog, recover_lines
from batch.conftest import comparable, read_jsonl, run_cli, spawn


def test_a_torn_last_line_is_cut_off_and_its_account_redone(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_text('{"uid": "1", "x": 1}\n{"uid": "2", "x": 2}\n{"uid": "3", "x"', "utf-8")
    assert [r["uid"] for r in recover_lines(out)] == ["1", "2"]
    assert out.read_text("utf-8") == '{"uid": "1", "x": 1}\n{"uid": "2", "x": 2}\n'
    log = AppendLog(out)
    log.write({"uid": "3", "x": 3})
    log.close()
    assert [r["uid"] for r in read_jsonl(out)] == ["1", "2", "3"]


def test_damage_in_the_middle_drops_everything_after_it(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_bytes(b'{"uid": "1"}\n\x00\x00\x00\n{"uid": "3"}\n')
    assert [r["uid"] for r in recover_lines(out)] == ["1"]


def _uids(folder: Path, uids: list[str]) -> Path:
    path = folder / "uids.txt"
    path.write_text("\n".join(uids) + "\n", "utf-8")
    return path


def _kill_when(out: Path, proc: object, lines: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= lines:
            proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
            proc.wait()  # type: ignore[attr-defined]
            return
        if proc.poll() is not None:  # type: ignore[attr-defined]
            raise AssertionError("the run ended before it could be killed: "
                                 + proc.stderr.read())  # type: ignore[attr-defined]
        time.sleep(0.05)
    raise AssertionError("no output in time")


def test_sigkill_mid_run_then_restart_writes_every_account_once(
        examples: Path, tmp_path: Path, batch_all: Path) -> None:
    out = tmp_path / "q.jsonl"
    whole = {r["uid"]: r for r in read_jsonl(batch_all)}
    queue = _uids(tmp_path, sorted(whole)[:120])
    args = ("batch", "--source", str(examples), "--uids", str(queue), "--out", str(out),
            "--chunk", "10")
    _kill_when(out, spawn(*args, cwd=tmp_path), lines=30)
    with out.open("ab") as fh:  # a write torn by the kill
        fh.write(b'{"schema": "acctsec.report/1", "uid": "1')
    kept = len(recover_lines(out))
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert f"{kept} skipped as done by an earlier run" in err
    uids = [r["uid"] for r in read_jsonl(out)]
    assert len(uids) == len(set(uids)) == 120
    again = {r["uid"]: comparable(r) for r in read_jsonl(out)}
    assert again == {u: comparable(whole[u]) for u in again}
    code, _, err = run_cli(*args)
    assert code == 0 and "120 skipped as done" in err and len(read_jsonl(out)) == 120


def test_parquet_output_resumes_from_committed_parts(examples: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "q.parquet"
    queue = _uids(tmp_path, [str(u) for u in range(10001, 10061)])
    args = ("batch", "--source", str(examples), "--uids", str(queue), "--out", str(out),
            "--chunk", "10", "--format", "parquet")
    proc = spawn(*args, cwd=tmp_path)
    parts = tmp_path / "q.parquet.parts"
    deadline = time.monotonic() + 120
    while not (parts.exists() and len(list(parts.glob("part-*.parquet"))) >= 1):
        assert time.monotonic() < deadline and proc.poll() is None, "no part in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert "skipped as done by an earlier run" in err and " 0 skipped" not in err
    table = pq.read_table(out).to_pydict()
    assert len(table["uid"]) == len(set(table["uid"])) == 60
    assert not parts.exists()


def test_a_restart_with_other_arguments_is_refused(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    uids = tmp_path / "uids.txt"
    uids.write_text("10007\n10008\n", "utf-8")
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(uids),
                           "--out", str(out))
    assert code == 0, err
    uids.write_text("10007\n10009\n", "utf-8")
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(uids),
                           "--out", str(out))
    assert code == 1 and "other arguments" in err and err.count("\n") == 1
    manifest = json.loads((tmp_path / "r.jsonl.batch.json").read_text("utf-8"))
    assert manifest["format"] == "jsonl"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _jobs_run(examples: Path, out: Path) -> tuple[tuple[str, ...], subprocess.Popen[str]]:
    """A `--jobs 2` run of every example account in chunks of 2 as its own process, once
    it has written 4 reports: (its arguments, the process)."""
    args = ("batch", "--source", str(examples), "--all", "--out", str(out), "--chunk", "2",
            "--jobs", "2")
    proc = spawn(*args, cwd=out.parent)
    deadline = time.monotonic() + 120
    while not (out.exists() and out.read_bytes().count(b"\n") >= 4):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    return args, proc


def _ended(pids: list[int]) -> bool:
    """Whether all `pids` end within 15 s; those left are killed (not to outlive a test)."""
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in pids if _alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return not left


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="needs Linux's /proc")


@needs_proc
def test_workers_end_when_the_driver_is_killed(examples: Path, tmp_path: Path) -> None:
    """SIGKILL of the driver left its worker processes waiting for work forever, ~0.5 GB
    each on large data; now they end within seconds."""
    _, proc = _jobs_run(examples, tmp_path / "w.jsonl")
    workers = _children(proc.pid)
    assert len(workers) >= 2  # the pool's two workers (and multiprocessing's tracker)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _ended(workers)


@needs_proc
def test_sigterm_stops_the_run_as_ctrl_c_does(examples: Path, tmp_path: Path) -> None:
    """A scheduler's stop (systemd, Kubernetes) sends SIGTERM: what is done is kept, the
    workers and the run's rows folder go, and the same command finishes the queue."""
    out = tmp_path / "t.jsonl"
    args, proc = _jobs_run(examples, out)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted;" in err and "run the same command again" in err
    assert "Traceback" not in err
    assert "leaked" not in err  # DuckDB's bindings, when a worker ends with a thread running
    assert _ended(workers)
    assert not list((tmp_path / "t.jsonl.work").glob("rows-*/run-*"))
    kept = len(read_jsonl(out))
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert f"{kept} skipped as done by an earlier run" in err
    assert len({r["uid"] for r in read_jsonl(out)}) == len(read_jsonl(out)) == 300


@needs_proc
def test_a_worker_killed_mid_run_stops_it_with_a_message_not_a_traceback(
        examples: Path, tmp_path: Path) -> None:
    """The out-of-memory killer takes a worker: was "internal error: BrokenProcessPool"."""
    out = tmp_path / "k.jsonl"
    args, proc = _jobs_run(examples, out)
    workers = [w for w in _children(proc.pid)
               if "spawn_main" in Path(f"/proc/{w}/cmdline").read_bytes().decode()]
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "a worker process ended abruptly" in err and "run the same command again" in err
    assert "Traceback" not in err and "internal error" not in err
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert len({r["uid"] for r in read_jsonl(out)}) == len(read_jsonl(out)) == 300


def _two_accounts(source: Path | str, tmp_path: Path, out: Path, *extra: str) -> tuple[str, ...]:
    """The arguments of a batch run of accounts 10007 and 10008 into `out`."""
    uids = tmp_path / "uids.txt"
    uids.write_text("10007\n10008\n", "utf-8")
    return ("batch", "--source", str(source), "--uids", str(uids), "--out", str(out), *extra)


def test_ctrl_c_inside_a_duckdb_query_of_a_one_process_run_is_an_interruption(
        examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --jobs 1 the run's DuckDB queries run in the process Ctrl-C reaches; DuckDB
    turns the KeyboardInterrupt into its own "Query interrupted" error, which ended the
    run as an internal error (exit 70) instead of keeping what was done (exit 130)."""
    import threading

    import duckdb

    from acctsec.batch import runner

    real_prepare = runner.prepare

    def slow_prepare(*args: object, **kwargs: object) -> object:
        plan = real_prepare(*args, **kwargs)  # type: ignore[arg-type]
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        # A query long enough for the signal to arrive inside it (it is never finished).
        duckdb.connect().execute("SELECT count(*) FROM range(1000000000000) a")
        return plan

    monkeypatch.setattr(runner, "prepare", slow_prepare)
    out = tmp_path / "i.jsonl"
    args = _two_accounts(examples, tmp_path, out)
    code, _, err = run_cli(*args)
    assert code == 130, err
    assert "interrupted; 0 accounts kept, run the same command again" in err
    assert "internal error" not in err
    monkeypatch.setattr(runner, "prepare", real_prepare)
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert sorted(r["uid"] for r in read_jsonl(out)) == ["10007", "10008"]


def test_a_window_given_as_a_span_ago_resumes_with_the_first_starts_times(
        examples: Path, tmp_path: Path) -> None:
    """`--since 3650d` means a time that moves on while a run is stopped and started
    again: the restart was refused as a run with other arguments. It now continues the
    first start's window: the account decided after the restart has the same one."""
    out = tmp_path / "s.jsonl"
    args = _two_accounts(examples, tmp_path, out, "--since", "3650d")
    code, _, err = run_cli(*args)
    assert code == 0, err
    first = read_jsonl(out)
    manifest = json.loads((tmp_path / "s.jsonl.batch.json").read_text("utf-8"))
    assert manifest["since"] == "3650d" and manifest["spans_at"][0] is not None
    # As if the run had been killed before it wrote the second account.
    out.write_text(json.dumps(first[0]) + "\n", "utf-8")
    time.sleep(0.01)
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert "1 skipped as done by an earlier run" in err
    again = read_jsonl(out)
    assert [r["uid"] for r in again] == [first[0]["uid"], first[1]["uid"]]
    assert again[1]["window"] == first[1]["window"] and again[1]["window"]["since"]
    assert comparable(again[1]) == comparable(first[1])
    # Another span is another run.
    code, _, err = run_cli(*args[:-1], "3000d")
    assert code == 1 and "other arguments" in err


def test_a_restart_after_the_source_changed_is_refused(examples: Path, tmp_path: Path) -> None:
    """Continuing a run over files that changed meanwhile would mix reports of two versions
    of the data in one file: the restart says so instead."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(examples, data)
    out = tmp_path / "c.jsonl"
    args = _two_accounts(data, tmp_path, out)
    code, _, err = run_cli(*args)
    assert code == 0, err
    code, _, err = run_cli(*args)  # unchanged: nothing left to do
    assert code == 0 and "2 skipped as done" in err, err
    with (data / "logins.csv").open("a", encoding="utf-8") as fh:
        fh.write("2026-10-01T00:00:00Z,10007,login_success,198.51.100.1,,dev-x,,,,\n")
    code, _, err = run_cli(*args)
    assert code == 1 and "source's files changed" in err and err.count("\n") == 1, err
    assert len(read_jsonl(out)) == 2


def test_a_database_source_run_resumes(examples: Path, tmp_path: Path) -> None:
    """The check of a folder's files was run for a database source too, on the current
    folder, and a restart failed with "source .: no accounts file"."""
    from acctsec.sources.sql_load import load

    load(examples, str(tmp_path / "ex.duckdb"))
    out = tmp_path / "d.jsonl"
    args = _two_accounts(f"duckdb:///{tmp_path / 'ex.duckdb'}", tmp_path, out)
    code, _, err = run_cli(*args)
    assert code == 0, err
    code, _, err = run_cli(*args)
    assert code == 0 and "2 skipped as done by an earlier run" in err, err


def test_part_files_written_before_the_leaning_column_still_read(tmp_path: Path) -> None:
    """A run started by a release without `leaning` resumes: its parts read as empty
    there, in CSV and Parquet; a file with other columns is still refused."""
    import csv

    import pytest

    from acctsec.batch.output import ADDED_COLUMNS, FLAT_COLUMNS, BatchFormat, read_table
    from acctsec.errors import InputError

    older = [c for c in FLAT_COLUMNS if c not in ADDED_COLUMNS]
    row = {c: "" for c in older} | {"uid": "7", "label": "clear", "risk": "0"}
    part = tmp_path / "old.csv"
    with part.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, older)
        writer.writeheader()
        writer.writerow(row)
    table = read_table(part, BatchFormat.csv)
    assert table["uid"] == ["7"] and table["leaning"] == [None]

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({c: [row[c]] for c in older}), tmp_path / "old.parquet")
    assert read_table(tmp_path / "old.parquet", BatchFormat.parquet)["leaning"] == [None]

    other = tmp_path / "other.csv"
    other.write_text("uid,name\n7,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="columns differ"):
        read_table(other, BatchFormat.csv)
