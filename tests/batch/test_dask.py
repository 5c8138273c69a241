"""The batch on a local multi-process Dask cluster reaches the single-process verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.conftest import comparable, read_jsonl, run_cli

pytest.importorskip("distributed")


def test_local_dask_cluster_gives_the_same_reports(examples: Path, batch_all: Path,
                                                   tmp_path: Path) -> None:
    whole = {r["uid"]: comparable(r) for r in read_jsonl(batch_all)}
    chosen = sorted(whole)[::5]  # 60 accounts of every family, in 6 chunks
    queue = tmp_path / "uids.txt"
    queue.write_text("\n".join(chosen) + "\n", "utf-8")
    out = tmp_path / "d.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(out), "--dask", "local:2", "--chunk", "10")
    assert code == 0, err
    got = {r["uid"]: comparable(r) for r in read_jsonl(out)}
    assert got == {u: whole[u] for u in chosen}


def test_unreachable_scheduler_is_a_dependency_error(examples: Path, tmp_path: Path) -> None:
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(tmp_path / "x.jsonl"), "--dask", "tcp://127.0.0.1:9")
    assert code == 3, err
    assert "cannot reach the scheduler" in err


def test_a_bad_dask_address_is_named_before_the_run_starts(examples: Path,
                                                           tmp_path: Path) -> None:
    """`bogus` and `local:0` were internal errors once the run had prepared everything."""
    from acctsec.batch.distributed import local_workers

    assert local_workers("local") == 2 and local_workers("local:3") == 3
    assert local_workers("tcp://10.0.0.5:8786") is None
    assert local_workers("localhost:8786") is None  # a host, not a local cluster of 8786
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    for address in ("bogus", "local:0", "local:x", "tcp://host", "localhost"):
        code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                               "--out", str(tmp_path / "x.jsonl"), "--dask", address)
        assert code == 1 and "expected local:N" in err and err.count("\n") == 1, err
        assert not (tmp_path / "x.jsonl.work").exists()


def test_no_cache_with_a_scheduler_on_localhost_is_refused(examples: Path,
                                                           tmp_path: Path) -> None:
    """localhost:8786 is a scheduler, not a local cluster: its workers read the working
    files, which --no-cache keeps in a private temporary folder."""
    queue = tmp_path / "uids.txt"
    queue.write_text("10007\n", "utf-8")
    code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                           "--out", str(tmp_path / "x.jsonl"), "--dask", "localhost:8786",
                           "--no-cache")
    assert code == 1 and "remote --dask" in err, err
