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
