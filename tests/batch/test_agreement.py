"""Batch and `investigate` reach the same reports, account by account."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from batch.conftest import comparable, read_jsonl


def _investigate_all(folder: str, uids: list[str]) -> dict[str, dict]:
    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.core.report import to_dict
    from acctsec.intel.ip import OfflineIpIntel

    settings = load_settings(None, environ={}, overrides={"offline": True})
    source = service.open_source(settings, Path(folder))
    intel = OfflineIpIntel(settings)
    return {u: comparable(to_dict(service.investigate(settings, source, u, intel=intel)))
            for u in uids}


def test_every_example_account_gets_the_report_investigate_gives(
        batch_all: Path, examples: Path) -> None:
    batch = {r["uid"]: comparable(r) for r in read_jsonl(batch_all)}
    uids = sorted(batch)
    assert len(uids) == 300
    halves = [uids[::2], uids[1::2]]
    single: dict[str, dict] = {}
    with ProcessPoolExecutor(2) as pool:
        for part in pool.map(_investigate_all, [str(examples)] * 2, halves):
            single.update(part)
    differing = [u for u in uids if batch[u] != single[u]]
    assert not differing, f"{len(differing)} accounts differ, first {differing[:5]}"
    labels = {r["verdict"]["label"] for r in batch.values()}
    assert {"takeover", "fraud", "clear"} <= labels


def test_a_database_source_gets_the_folder_reports(batch_all: Path, examples: Path,
                                                   tmp_path: Path) -> None:
    """The examples loaded into DuckDB: every report equals the folder's, fraud rings
    included (the links come from the tables copied out of the database). Row
    references name the table (`logins:12`) where the folder names the file."""
    import json
    import re

    from acctsec.sources.sql_load import load
    from batch.conftest import run_cli

    load(examples, str(tmp_path / "ex.duckdb"))
    out = tmp_path / "sql.jsonl"
    code, _, err = run_cli("batch", "--source", f"duckdb:///{tmp_path / 'ex.duckdb'}", "--all",
                           "--out", str(out), "--jobs", "2")
    assert code == 0, err

    def by_uid(path: Path) -> dict[str, dict]:
        text = re.sub(r'"(\w+)\.csv:(\d+)"', r'"\1:\2"', path.read_text(encoding="utf-8"))
        return {r["uid"]: comparable(r) for r in map(json.loads, text.splitlines())}

    sql, folder = by_uid(out), by_uid(batch_all)
    assert len(sql) == len(folder) == 300
    differing = [u for u in folder if sql[u] != folder[u]]
    assert not differing, f"{len(differing)} accounts differ, first {differing[:5]}"
    assert sum(r["verdict"]["label"] == "fraud" for r in sql.values()) >= 10


def test_a_window_gives_the_reports_investigate_gives(examples: Path, tmp_path: Path) -> None:
    """--until cuts the account's own later sign-ins before the population figures are
    asked, in batch as in investigate (batch once counted them: population_logins of
    16,764 against 16,640 for account 10139)."""
    from datetime import UTC, datetime

    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.core.report import to_dict
    from acctsec.intel.ip import OfflineIpIntel
    from batch.conftest import run_cli

    uids = ["10023", "10139", *(str(10001 + n) for n in range(0, 300, 15))]
    queue = tmp_path / "uids.txt"
    queue.write_text("\n".join(uids) + "\n", "utf-8")
    settings = load_settings(None, environ={}, overrides={"offline": True})
    source = service.open_source(settings, examples)
    intel = OfflineIpIntel(settings)
    until = datetime(2026, 9, 20, 12, tzinfo=UTC)
    for since in (None, datetime(2026, 8, 1, tzinfo=UTC)):
        out = tmp_path / f"w{since is None}.jsonl"
        args = ["--until", until.isoformat()] + (["--since", since.isoformat()] if since else [])
        code, _, err = run_cli("batch", "--source", str(examples), "--uids", str(queue),
                               "--out", str(out), *args)
        assert code == 0, err
        batch = {r["uid"]: comparable(r) for r in read_jsonl(out)}
        assert sorted(batch) == sorted(set(uids))
        for uid in batch:
            single = comparable(to_dict(service.investigate(
                settings, source, uid, since=since, until=until, intel=intel)))
            assert batch[uid] == single, uid
