"""The cache keeps one version of what it derives from each source."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from acctsec import service
from acctsec.cachefiles import entry_name, supersede, sweep_leftovers, used
from acctsec.config import load_settings


def _touch(path: Path, age: float = 0.0) -> Path:
    path.write_text("x", encoding="utf-8")
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_supersede_removes_other_versions_of_the_same_kind_and_source_only(
        tmp_path: Path) -> None:
    kept = _touch(tmp_path / entry_name("links", "aaaa", "0002", ".duckdb"))
    kept_wal = _touch(tmp_path / (kept.name + ".wal"))
    old = _touch(tmp_path / entry_name("links", "aaaa", "0001", ".duckdb"))
    old_wal = _touch(tmp_path / (old.name + ".wal"))
    old_dir = tmp_path / entry_name("rows-all", "aaaa", "0001")
    old_dir.mkdir()
    _touch(old_dir / "logins.parquet")
    other_source = _touch(tmp_path / entry_name("links", "bbbb", "0001", ".duckdb"))
    other_kind = _touch(tmp_path / entry_name("population", "aaaa", "0001", ".pickle"))
    building = _touch(tmp_path / f"{old.name}.4242.tmp")  # a build going on now
    killed = _touch(tmp_path / f"{kept.name}.17.partial", age=3 * 24 * 3600)

    assert supersede(kept, "links", "aaaa", ".duckdb") == 3  # old, its .wal, the dead build
    assert not old.exists() and not old_wal.exists() and not killed.exists()
    assert kept.exists() and kept_wal.exists()
    assert other_source.exists() and other_kind.exists()
    assert building.exists()
    assert old_dir.exists()  # another kind: superseded with its own kind
    assert supersede(tmp_path / entry_name("rows-all", "aaaa", "0002"), "rows-all", "aaaa") == 1
    assert not old_dir.exists()


def test_leftovers_of_killed_builds_go_after_a_day(tmp_path: Path) -> None:
    fresh = _touch(tmp_path / "links-a-1.duckdb.99.tmp")
    dead = _touch(tmp_path / "links-a-1.duckdb.98.tmp", age=2 * 24 * 3600)
    dead_dir = tmp_path / "rows.parquet.97.unsorted"
    dead_dir.mkdir()
    os.utime(dead_dir, (time.time() - 2 * 24 * 3600,) * 2)
    assert sweep_leftovers(tmp_path) == 2
    assert fresh.exists() and not dead.exists() and not dead_dir.exists()


def test_entries_unused_for_a_month_go_and_a_use_keeps_them(tmp_path: Path) -> None:
    month = 31 * 24 * 3600
    old = _touch(tmp_path / entry_name("links", "aaaaaaaaaaaa", "0001", ".duckdb"), age=month)
    reused = _touch(tmp_path / entry_name("population", "bbbbbbbbbbbb", "01", ".pickle"),
                    age=month)
    recent = _touch(tmp_path / entry_name("links", "cccccccccccc", "0001", ".duckdb"),
                    age=29 * 24 * 3600)
    old_dir = tmp_path / entry_name("rows-all", "aaaaaaaaaaaa", "0001")
    old_dir.mkdir()
    os.utime(old_dir, (time.time() - month,) * 2)
    used(reused)
    assert sweep_leftovers(tmp_path) == 2
    assert not old.exists() and not old_dir.exists()
    assert reused.exists() and recent.exists()


def test_a_run_marks_its_entries_before_the_sweep(examples_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A large folder's entries a month old are kept when that folder is used again;
    another folder's entries as old are removed by the same run."""
    from acctsec.sources import folder as folder_module

    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                           "cache_dir": tmp_path / "cache"})
    monkeypatch.setattr(folder_module, "LARGE_BYTES", 0)
    service.investigate(settings, service.open_source(settings, examples_dir), "10007")
    batch = tmp_path / "cache" / "batch"
    mine = sorted(p.name for p in batch.iterdir() if p.name != "spill")
    month_ago = time.time() - 31 * 24 * 3600
    for name in mine:
        os.utime(batch / name, (month_ago, month_ago))
    other = _touch(batch / entry_name("links", "0123456789ab", "0001", ".duckdb"),
                   age=31 * 24 * 3600)
    inodes = {name: (batch / name).stat().st_ino for name in mine}
    service.investigate(settings, service.open_source(settings, examples_dir), "10007")
    # The same files, not removed and made again.
    assert {p.name: p.stat().st_ino for p in batch.iterdir() if p.name != "spill"} == inodes
    assert not other.exists()


def test_entries_named_the_old_way_are_removed(tmp_path: Path) -> None:
    legacy = [_touch(tmp_path / n) for n in (
        "population-01badffd0d941cdf.pickle", "links-01badffd0d941cdf.duckdb",
        "links-01badffd0d941cdf.duckdb.wal", "0123456789abcdef0123456789abcdef.duckdb",
        "sql-0028e56dac0b3aebe9c1a21b.duckdb")]
    (tmp_path / "rows-all-01badffd0d941cdf").mkdir()
    current = [_touch(tmp_path / entry_name("links", "d876645b22a2", "01badffd0d941cdf",
                                            ".duckdb")),
               _touch(tmp_path / entry_name("sql", "d876645b22a2", "0028e56dac0b3aebe9c1a21b",
                                            ".duckdb"))]
    spill = tmp_path / "spill"
    spill.mkdir()
    assert sweep_leftovers(tmp_path) == 6
    assert not any(p.exists() for p in legacy)
    assert all(p.exists() for p in current) and spill.exists()


def _entries(cache: Path, pattern: str) -> list[str]:
    return sorted(p.name for p in cache.rglob(pattern))


def test_a_large_folder_keeps_one_version_when_its_files_change(
        examples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Population index, link store and sorted rows of the old files are removed when
    the new ones are made; the report reflects the new files."""
    from acctsec.sources import folder as folder_module

    data = tmp_path / "data"
    shutil.copytree(examples_dir, data)
    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                           "cache_dir": tmp_path / "cache"})
    monkeypatch.setattr(folder_module, "LARGE_BYTES", 0)
    service.investigate(settings, service.open_source(settings, data), "10007")
    batch = tmp_path / "cache" / "batch"
    first = {p.name for p in batch.iterdir()}
    assert {n.split("-")[0] for n in first} >= {"population", "links", "rows"}

    with (data / "logins.csv").open("a", encoding="utf-8") as fh:
        fh.write("2026-10-30T10:00:00Z,10007,login_success,203.0.113.9,curl/8,dev-new,,,,\n")
    report = service.investigate(settings, service.open_source(settings, data), "10007")
    assert report.stats["logins"] > 0
    second = {p.name for p in batch.iterdir() if p.name != "spill"}
    assert not (first & second) - {"spill"}, "an old version was kept"
    for kind in ("population-", "links-", "rows-all-"):
        assert sum(n.startswith(kind) for n in second) == 1, second


def test_a_small_folder_and_a_database_keep_one_link_copy(examples_dir: Path,
                                                          tmp_path: Path) -> None:
    from acctsec.sources.sql_load import load

    data = tmp_path / "data"
    shutil.copytree(examples_dir, data)
    db = tmp_path / "ex.db"
    load(examples_dir, str(db))
    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                           "cache_dir": tmp_path / "cache"})
    links = tmp_path / "cache" / "links"
    for source in (str(data), f"sqlite:///{db}"):
        for _ in range(2):
            opened = service.open_source(settings, Path(source) if "://" not in source
                                         else source)
            try:
                service.investigate(settings, opened, "10007")
            finally:
                close = getattr(opened, "close", None)
                if close is not None:
                    close()
            if "://" in source:
                with sqlite3.connect(db) as con:
                    con.execute("UPDATE accounts SET email = 'new@example.org' "
                                "WHERE uid = '10021'")
            else:
                (data / "alerts.csv").write_text(
                    (data / "alerts.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert len(_entries(links, "folder-*.duckdb")) == 1, _entries(links, "*")
    assert len(_entries(links, "sql-*.duckdb")) == 1, _entries(links, "*")


def test_csv_copies_are_kept_per_version_and_killed_copies_swept(examples_dir: Path,
                                                                 tmp_path: Path) -> None:
    """The exact CSV copies are made once per version of the files (a table they cannot
    stand in for is remembered as refused), and a copy a killed run left half-written is
    removed once it is a day old."""
    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions, csv_copies
    from acctsec.config import Settings
    from acctsec.sources.files import table_files

    options = BatchOptions(examples_dir, WorkQueue(()), Settings(), out=tmp_path / "b.jsonl")
    files = table_files(examples_dir)
    copies = csv_copies(options, files, {})
    folder = copies["logins"].parent
    assert folder.name.startswith("csvcopy-") and "accounts" in copies
    assert (folder / "alerts.refused").exists()  # a note in alerts.csv spans two lines
    made = {t: p.stat().st_mtime_ns for t, p in copies.items()}
    old = _touch(folder / "logins.parquet.4242.tmp", age=2 * 24 * 3600)
    fresh = _touch(folder / "logins.parquet.4243.tmp")
    again = csv_copies(options, files, {})
    assert {t: p.stat().st_mtime_ns for t, p in again.items()} == made
    assert not old.exists() and fresh.exists()


def test_a_copy_that_fails_for_the_machine_is_not_remembered_as_refused(
        examples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk is not the file's fault: that run reads the CSV in Python, and the next
    run copies it; only a file the copy cannot stand in for is marked refused."""
    import duckdb

    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions, csv_copies
    from acctsec.config import Settings
    from acctsec.sources import csvcopy
    from acctsec.sources.files import table_files

    def full_disk(*_: object) -> None:
        raise duckdb.IOException("IO Error: No space left on device")

    options = BatchOptions(examples_dir, WorkQueue(()), Settings(), out=tmp_path / "b.jsonl")
    files = table_files(examples_dir)
    with monkeypatch.context() as patch:
        patch.setattr(csvcopy, "_copy", full_disk)
        assert csv_copies(options, files, {}) == {}
    folder = next((tmp_path / "b.jsonl.work").glob("csvcopy-*"))
    assert list(folder.iterdir()) == []
    assert {"accounts", "logins"} <= set(csv_copies(options, files, {}))
    assert (folder / "alerts.refused").exists()
