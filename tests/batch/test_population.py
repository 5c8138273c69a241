"""The per-account PopulationStats of a batch run equal the folder source's own counting."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from acctsec import service
from acctsec.batch.population import build_index
from acctsec.batch.queue import WorkQueue
from acctsec.batch.records import build_records, own_logins
from acctsec.batch.rows import table_rows
from acctsec.batch.runner import BatchOptions, csv_copies
from acctsec.config import Settings
from acctsec.sources.folder import FolderSource


def _to_parquet(folder: Path, target: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target.mkdir()
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        columns = {name: [r[i] if r[i] != "" else None for r in rows[1:]]
                   for i, name in enumerate(rows[0])}
        pq.write_table(pa.table(columns), target / (path.stem + ".parquet"))
    return target


def _hostile(folder: Path, target: Path) -> Path:
    """The examples with broken and padded login rows added."""
    shutil.copytree(folder, target)
    with (target / "logins.csv").open("a", encoding="utf-8", newline="") as fh:
        header = (folder / "logins.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        writer = csv.writer(fh)
        for ts, uid, event, ip in [
            ("not-a-time", "10007", "login_failure", "203.0.113.9"),  # counts for others only
            ("2026-10-01T00:00:00Z", "10008", "login_failure", "203.0.113.9"),
            ("2026-10-01T00:00:01Z", "10009", "LOGIN_FAILURE", "203.0.113.9"),
            ("2026-10-01T00:00:02Z", "10010", "bogus", "203.0.113.9"),  # not counted
            ("2026-10-01T00:00:03Z", "", "login_failure", "203.0.113.9"),
        ]:
            row = dict.fromkeys(header, "")
            row.update(ts=ts, uid=uid, event=event, ip=ip)
            writer.writerow([row[h] for h in header])
        fh.write("only,three,cells\n")
    return target


def _padded(folder: Path, target: Path) -> Path:
    """The examples with well-formed login rows whose cells carry whitespace Python strips
    and DuckDB's trim() does not all strip (tab, no-break and ideographic spaces), null words and
    quotes: a CSV the exact copy (sources.csvcopy) stands in for."""
    shutil.copytree(folder, target)
    header = (folder / "logins.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    with (target / "logins.csv").open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for ts, uid, event, ip, device in [
            ("2026-10-01T00:00:00Z", "\t10008\u00a0", " Login_Failure ", "203.0.113.9", "NULL"),
            ("2026-10-01T00:00:01Z", "10009", "login_failure", "\u3000203.0.113.9\t", " none"),
            ("2026-10-01T00:00:02Z", "\u200910010", "login_success", "203.0.113.9", 'd"1'),
            ("2026-10-01T00:00:03Z", "10015\x1c", "login_failure", "\u2028 203.0.113.9", 'd"1'),
            # Python lowers U+0130 to i + U+0307 (no event), DuckDB to i (an event)
            ("2026-10-01T00:00:04Z", "10028", "LOG\u0130N_FAILURE", "203.0.113.9", ""),
        ]:
            row = dict.fromkeys(header, "")
            row.update(ts=ts, uid=uid, event=event, ip=ip, device_id=device)
            writer.writerow([row[h] for h in header])
    return target


def _gzipped(folder: Path, target: Path) -> Path:
    import gzip

    target.mkdir()
    for path in folder.iterdir():
        (target / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes()))
    return target


@pytest.mark.parametrize("variant", ["csv", "parquet", "hostile", "copied", "padded copy",
                                     "gzipped copy"])
def test_population_stats_equal_the_folder_source(examples: Path, tmp_path: Path,
                                                   variant: str) -> None:
    """Also through the exact Parquet copies of the CSV files (runner.csv_copies), which
    DuckDB reads with SQL twins of the folder reader's cleaning."""
    folder = {"csv": lambda: examples,
              "parquet": lambda: _to_parquet(examples, tmp_path / "pq"),
              "hostile": lambda: _hostile(examples, tmp_path / "hostile"),
              "copied": lambda: examples,
              "padded copy": lambda: _padded(examples, tmp_path / "padded"),
              "gzipped copy": lambda: _gzipped(examples, tmp_path / "gz")}[variant]()
    source = FolderSource(folder)
    copies: dict[str, Path] = {}
    if variant.endswith("copy") or variant == "copied":
        options = BatchOptions(folder, WorkQueue(()), Settings(), out=tmp_path / "b.jsonl")
        copies = csv_copies(options, source.files, {})
        assert {"accounts", "logins"} <= set(copies)
    con = duckdb.connect()
    index = build_index(con, {**source.files, **copies})
    uids = ["10007", "10008", "10009", "10010", "10015", "10028", "10085", "10201"]
    readers = {t: table_rows(p, con, copy=copies.get(t)) for t, p in source.files.items()}
    grouped = {t: dict(r.groups(uids)) for t, r in readers.items()}
    names = {t: p.name for t, p in source.files.items()}
    for uid in uids:
        rows = {t: grouped[t].get(uid, []) for t in grouped}
        records = build_records(uid, rows, names, str(source.files["accounts"]))
        assert records == source.account(uid)
        expected = source.population(service.population_query(records))
        assert index.stats_for(records, own_logins(rows.get("logins", []))) == expected, uid
    if variant == "hostile":
        assert index.keys["ips"]["203.0.113.9"].failure_accounts == 3
    if variant == "padded copy":  # 10008, 10009 and 10015 as the folder reader reads them
        assert index.keys["ips"]["203.0.113.9"].failure_accounts == 3


def test_a_cached_index_that_cannot_be_read_is_rebuilt(examples: Path, tmp_path: Path) -> None:
    """A cache file cut short, or written by another version of acctsec, is not an error."""
    import pickle

    from acctsec.batch.population import PopulationIndex
    from acctsec.batch.runner import _cached_population
    from acctsec.sources.files import table_files

    files = table_files(examples)
    path = tmp_path / "population.pickle"
    fresh = _cached_population(path, files, {})
    assert isinstance(fresh, PopulationIndex) and fresh.size() > 0
    whole = path.read_bytes()
    for broken in (whole[: len(whole) // 2], b"not a pickle",
                   pickle.dumps({"keys": "an older layout"})):
        path.write_bytes(broken)
        assert _cached_population(path, files, {}) == fresh
        assert pickle.loads(path.read_bytes()) == fresh  # written anew


def test_cleaned_cells_are_text_of_each_value() -> None:
    """The memo of the population pass gives `text` of every value, and keys only
    strings: 1, 1.0 and True are equal as dict keys, not as text."""
    from acctsec.batch.population import _Cleaned
    from acctsec.sources.parse import text

    clean = _Cleaned()
    values = [" 1 ", "1", 1, 1.0, True, 1.5, None, "null", "NaN", "", "  ", "a"]
    assert [clean(v) for v in values + values] == [text(v) for v in values + values]
